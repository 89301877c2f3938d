// `whoclosed check`: what this kernel offers, which attach mode `trace`
// would use and why. Exit 0 only if `trace` can run.
#include <cstdio>
#include <iostream>

#include "app/commands.h"
#include "cli/exit_codes.h"
#include "loader/features.h"
#include "loader/tracer.h"

namespace whoclosed {

namespace {

void print_row(const std::string& name, bool ok, const std::string& detail) {
    std::printf("%-34s %-4s %s\n", name.c_str(), ok ? "ok" : "FAIL", detail.c_str());
}

}  // namespace

int run_check(const CheckOptions&) {
    bool privileged = current_privileges().sufficient();
    for (const Probe& p : probe_kernel()) print_row(p.name, p.ok, p.detail);
    if (!privileged) {
        std::printf("\ntrace cannot run: %s\n", privilege_error(current_privileges()).c_str());
        return kExitUnsupported;
    }

    // Load and attach every mode on its own, so the report says why each
    // fallback would or would not work here, not only which one wins.
    std::optional<AttachMode> chosen;
    AcceptHook accept_hook = AcceptHook::SyscallTracepoint;
    std::printf("\n");
    for (AttachMode m : {AttachMode::TpBtf, AttachMode::Tracepoint, AttachMode::Fentry,
                         AttachMode::Kprobe}) {
        TracerConfig cfg;
        cfg.only_mode = m;
        cfg.max_sockets = 1024;
        cfg.ring_bytes = 1u << 16;
        std::vector<ModeAttempt> attempts;
        LoadError error;
        auto tracer = Tracer::open(cfg, attempts, error);
        const bool ok = tracer != nullptr;
        if (ok && !chosen) accept_hook = tracer->accept_hook();
        std::string detail = ok ? "loads and attaches" : attempts.empty() ? error.message
                                                                          : attempts.back().error;
        print_row(std::string("attach mode ") + to_string(m), ok, detail);
        if (ok && !chosen) chosen = m;
    }
    if (!chosen) {
        std::printf("\ntrace cannot run: no attach mode loads on this kernel\n");
        return kExitUnsupported;
    }
    std::printf("\ntrace will use attach mode %s (the first that works of tp_btf, tracepoint, "
                "fentry, kprobe)\n", to_string(*chosen));
    switch (accept_hook) {
    case AcceptHook::Fexit:
        std::printf("accepting processes are seen by fexit on inet_csk_accept()\n");
        break;
    case AcceptHook::CgroupPeer:
        std::printf("accepting processes are seen by cgroup getpeername hooks at the cgroup v2 root (no BPF "
                    "trampolines here): an accept() that asks for the peer's address names its caller; "
                    "after one that does not, the owner is the first process to read, write or close "
                    "the socket\n");
        break;
    case AcceptHook::SyscallTracepoint:
        std::printf("accepting processes are seen by the accept()/accept4() syscall tracepoints (no BPF "
                    "trampolines, no cgroup v2 root here): while tracing, every system call on the host "
                    "takes the kernel's slower traced path\n");
        break;
    }
    return kExitOk;
}

}  // namespace whoclosed
