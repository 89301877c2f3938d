#include "loader/features.h"

#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

namespace whoclosed {

namespace {

std::mutex g_log_mutex;
std::string g_last_error;

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
    // Verifier logs arrive as one message of many kilobytes: size it.
    va_list copy;
    va_copy(copy, args);
    const int n = vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    std::string buf(n > 0 ? static_cast<size_t>(n) : 0, '\0');
    if (n > 0) vsnprintf(buf.data(), buf.size() + 1, fmt, args);
    static const bool debug = std::getenv("WHOCLOSED_DEBUG") != nullptr;
    if (debug) fprintf(stderr, "libbpf: %s", buf.c_str());
    if (level == LIBBPF_WARN) {
        std::lock_guard<std::mutex> lock(g_log_mutex);
        g_last_error = buf;
        while (!g_last_error.empty() && g_last_error.back() == '\n') g_last_error.pop_back();
    }
    return 0;
}

bool exists(const char* path) {
    struct stat st;
    return stat(path, &st) == 0;
}

std::string read_first_line(const char* path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

}  // namespace

void capture_libbpf_output() { libbpf_set_print(libbpf_print); }

std::string last_libbpf_error() {
    std::lock_guard<std::mutex> lock(g_log_mutex);
    std::string msg = g_last_error;
    if (msg.rfind("libbpf: ", 0) == 0) msg.erase(0, 8);
    return msg.empty() ? "" : " (libbpf: " + msg + ")";
}

bool ensure_tracefs_mounted() {
    if (exists("/sys/kernel/tracing/events")) return true;
    if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0) return true;
    return exists("/sys/kernel/debug/tracing/events");
}

Privileges current_privileges() {
    Privileges p;
    p.root = geteuid() == 0;
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) != 0) return p;
    auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1u; };
    p.cap_sys_admin = has(21);
    p.cap_perfmon = has(38);
    p.cap_bpf = has(39);
    return p;
}

std::string privilege_error(const Privileges& p) {
    if (p.sufficient()) return "";
    std::string missing;
    if (!p.cap_bpf) missing += " CAP_BPF";
    if (!p.cap_perfmon) missing += " CAP_PERFMON";
    return "missing privilege:" + missing +
           " (and no CAP_SYS_ADMIN); run as root (sudo whoclosed ...) or grant them, e.g. "
           "`setcap cap_bpf,cap_perfmon,cap_net_admin+ep whoclosed`";
}

std::vector<Probe> probe_kernel() {
    std::vector<Probe> out;
    struct utsname u {};
    uname(&u);
    out.push_back({"kernel", true, std::string(u.release) + " " + u.machine});

    Privileges priv = current_privileges();
    out.push_back({"privileges", priv.sufficient(),
                   priv.sufficient() ? (priv.root ? "root" : "CAP_BPF+CAP_PERFMON")
                                     : privilege_error(priv)});

    bool btf = exists("/sys/kernel/btf/vmlinux");
    out.push_back({"btf", btf,
                   btf ? "/sys/kernel/btf/vmlinux"
                       : "no /sys/kernel/btf/vmlinux: needs a kernel built with "
                         "CONFIG_DEBUG_INFO_BTF=y (tp_btf and CO-RE need it)"});

    std::string lockdown = read_first_line("/sys/kernel/security/lockdown");
    bool confidential = lockdown.find("[confidentiality]") != std::string::npos;
    out.push_back({"lockdown", !confidential,
                   lockdown.empty() ? "not enabled"
                   : confidential   ? lockdown + ": BPF reads of kernel memory are refused; boot "
                                                 "with lockdown=integrity or none"
                                    : lockdown});

    bool tracefs = ensure_tracefs_mounted();
    out.push_back({"tracefs", tracefs,
                   tracefs ? "/sys/kernel/tracing"
                           : "cannot mount tracefs: `mount -t tracefs nodev /sys/kernel/tracing`"});
    for (const char* tp : {"sock/inet_sock_set_state", "tcp/tcp_destroy_sock",
                           "tcp/tcp_send_reset", "tcp/tcp_receive_reset", "sock/sock_send_length",
                           "syscalls/sys_exit_accept4"}) {
        std::string path = std::string("/sys/kernel/tracing/events/") + tp;
        bool ok = exists(path.c_str());
        out.push_back({std::string("tracepoint ") + tp, ok, ok ? "present" : "absent"});
    }
    bool rb = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1;
    out.push_back({"ring buffer", rb, rb ? "BPF_MAP_TYPE_RINGBUF supported"
                                         : "needs kernel >= 5.8 (BPF ring buffer)"});
    bool kprobes = exists("/sys/kernel/tracing/kprobe_events");
    out.push_back({"kprobes", kprobes, kprobes ? "available" : "CONFIG_KPROBES is off"});
    bool uprobes = exists("/sys/bus/event_source/devices/uprobe");
    out.push_back({"uprobes", uprobes, uprobes ? "available" : "CONFIG_UPROBE_EVENTS is off"});
    return out;
}

}  // namespace whoclosed
