#include "loader/uprobes.h"

#include <bpf/libbpf.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "whoclosed_bpf.skel.h"

namespace whoclosed {

std::string find_libssl() {
    for (const char* p : {"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/lib/x86_64-linux-gnu/libssl.so.3",
                          "/usr/lib/aarch64-linux-gnu/libssl.so.3", "/usr/lib64/libssl.so.3",
                          "/usr/lib/libssl.so.3"}) {
        struct stat st {};
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) return p;
    }
    return "";
}

bool attach_openssl_probes(struct whoclosed_bpf* s, const std::string& libssl,
                           std::vector<bpf_link*>& links, std::string& error) {
    struct Target {
        const char* func;
        bpf_program* prog;
        bool ret;
    };
    const Target targets[] = {
        {"SSL_write", s->progs.ssl_write_entry, false},   {"SSL_write", s->progs.ssl_write_return, true},
        {"SSL_write_ex", s->progs.ssl_write_entry, false}, {"SSL_write_ex", s->progs.ssl_write_return, true},
        {"SSL_read", s->progs.ssl_read_entry, false},     {"SSL_read", s->progs.ssl_read_return, true},
        {"SSL_read_ex", s->progs.ssl_read_ex_entry, false}, {"SSL_read_ex", s->progs.ssl_read_return, true},
    };
    for (const Target& t : targets) {
        LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = t.ret, .func_name = t.func);
        bpf_link* link = bpf_program__attach_uprobe_opts(t.prog, -1, libssl.c_str(), 0, &opts);
        if (!link) {
            error = std::string("uprobe on ") + t.func + " in " + libssl + ": " + std::strerror(errno);
            return false;
        }
        links.push_back(link);
    }
    return true;
}

}  // namespace whoclosed
