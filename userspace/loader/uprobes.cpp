#include "loader/uprobes.h"

#include <bpf/libbpf.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "whoclosed_bpf.skel.h"

namespace whoclosed {

namespace {

// The first regular file named `name` in the usual library directories.
std::string find_system_library(const std::string& name) {
    for (const char* dir : {"/usr/lib/x86_64-linux-gnu/", "/lib/x86_64-linux-gnu/",
                            "/usr/lib/aarch64-linux-gnu/", "/usr/lib64/", "/lib64/", "/usr/lib/"}) {
        const std::string path = dir + name;
        struct stat st {};
        if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return path;
    }
    return "";
}

struct Target {
    const char* func;
    bpf_program* prog;
    bool ret;
};

bool attach_targets(const std::string& lib, std::span<const Target> targets,
                    std::vector<bpf_link*>& links, std::string& error) {
    for (const Target& t : targets) {
        LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = t.ret, .func_name = t.func);
        bpf_link* link = bpf_program__attach_uprobe_opts(t.prog, -1, lib.c_str(), 0, &opts);
        if (!link) {
            error = std::string("uprobe on ") + t.func + " in " + lib + ": " + std::strerror(errno);
            return false;
        }
        links.push_back(link);
    }
    return true;
}

}  // namespace

std::string find_libssl() { return find_system_library("libssl.so.3"); }

std::string find_libc() { return find_system_library("libc.so.6"); }

bool attach_openssl_probes(struct whoclosed_bpf* s, const std::string& libssl,
                           std::vector<bpf_link*>& links, std::string& error) {
    const Target targets[] = {
        {"SSL_write", s->progs.ssl_write_entry, false},   {"SSL_write", s->progs.ssl_write_return, true},
        {"SSL_write_ex", s->progs.ssl_write_entry, false}, {"SSL_write_ex", s->progs.ssl_write_return, true},
        {"SSL_read", s->progs.ssl_read_entry, false},     {"SSL_read", s->progs.ssl_read_return, true},
        {"SSL_read_ex", s->progs.ssl_read_ex_entry, false}, {"SSL_read_ex", s->progs.ssl_read_return, true},
    };
    return attach_targets(libssl, targets, links, error);
}

bool attach_libc_probes(struct whoclosed_bpf* s, const std::string& libc, std::vector<bpf_link*>& links,
                        std::string& error) {
    // Entry probes only: the socket-layer hooks capture (see bpf/libc.bpf.h).
    const Target targets[] = {
        {"write", s->progs.libc_write_entry, false},     {"send", s->progs.libc_send_entry, false},
        {"sendto", s->progs.libc_send_entry, false},     {"writev", s->progs.libc_writev_entry, false},
        {"sendmsg", s->progs.libc_sendmsg_entry, false}, {"read", s->progs.libc_read_entry, false},
        {"recv", s->progs.libc_recv_entry, false},       {"recvfrom", s->progs.libc_recv_entry, false},
        {"readv", s->progs.libc_readv_entry, false},     {"recvmsg", s->progs.libc_recvmsg_entry, false},
    };
    return attach_targets(libc, targets, links, error);
}

}  // namespace whoclosed
