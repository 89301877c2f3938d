// Kernel and privilege probes used by `check` and before `trace` loads.
#pragma once

#include <string>
#include <vector>

namespace whoclosed {

// Routes libbpf's messages into a buffer (printed only with WHOCLOSED_DEBUG=1)
// so errors can quote libbpf's last word instead of spraying stderr.
void capture_libbpf_output();
std::string last_libbpf_error();

// Classic tracepoints need tracefs; mounts it at /sys/kernel/tracing if absent.
bool ensure_tracefs_mounted();

struct Privileges {
    bool root = false;
    bool cap_bpf = false;
    bool cap_perfmon = false;
    bool cap_sys_admin = false;
    bool sufficient() const { return cap_sys_admin || (cap_bpf && cap_perfmon); }
};
Privileges current_privileges();
std::string privilege_error(const Privileges& p);  // empty when sufficient

struct Probe {
    std::string name;
    bool ok = false;
    std::string detail;
};

// Every probe `check` reports: BTF, tracefs, tracepoints, ring buffer, lockdown, uprobes.
std::vector<Probe> probe_kernel();

}  // namespace whoclosed
