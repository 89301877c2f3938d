#include "app/stack_resolver.h"

#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdio>

namespace whoclosed {

namespace {

std::string hex_address(uint64_t ip) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(ip));
    return buf;
}

// The tracing machinery that ran our program sits on top of every kernel
// stack; it says nothing about who closed.
bool is_tracing_frame(const std::string& name) {
    for (const char* prefix : {"bpf_prog_", "bpf_trace_run", "__traceiter_", "__bpf_trace_",
                               "trace_call_bpf", "perf_trace_", "__probestub_", "bpf_get_stack"})
        if (name.rfind(prefix, 0) == 0) return true;
    return false;
}

}  // namespace

StackResolver::StackResolver(const Tracer& tracer)
    : tracer_(tracer), kallsyms_(KernelSymbolizer::from_file()) {}

StackFrames StackResolver::kernel(int id) {
    if (id < 0) return {};
    if (auto* hit = kernel_cache_.get(id)) return *hit;
    std::vector<std::string> frames;
    for (uint64_t ip : tracer_.kernel_stack(id)) {
        auto name = kallsyms_.resolve(ip);
        if (frames.empty() && name && is_tracing_frame(*name)) continue;
        frames.push_back(name ? *name : hex_address(ip));  // unresolved, never dropped
    }
    return kernel_cache_.put(id, StackFrames(std::move(frames)));
}

void StackResolver::remember(const process_note& note) {
    const auto pid = static_cast<pid_t>(note.pid);
    if (processes_.remember(pid)) return;
    std::vector<Module> modules;
    const unsigned n = std::min<unsigned>(note.nmodules, WC_MAX_MODULES);
    for (unsigned i = 0; i < n; ++i) {
        const module_entry& e = note.modules[i];
        Module m;
        m.start = e.start;
        m.end = e.end;
        m.offset = e.pgoff * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
        m.inode = e.inode;
        m.dev = makedev(e.dev >> 20, e.dev & 0xfffff);  // the kernel's dev_t, as stat() encodes it
        m.path.assign(e.name, strnlen(e.name, sizeof e.name));
        if (m.end > m.start) modules.push_back(std::move(m));
    }
    processes_.remember_modules(pid, std::move(modules));
}

StackFrames StackResolver::user(const close_record& rec) {
    const auto pid = static_cast<pid_t>(rec.closer_pid);
    const int len = std::min(rec.ustack_len, WC_USTACK_DEPTH);
    if (len <= 0) return {};
    if (!(rec.flags & WC_F_USTACK_RAW) || len < 3)
        return user_frames(std::vector<uint64_t>(rec.ustack, rec.ustack + len), pid);
    const UserRegs regs{rec.ustack[0], rec.ustack[1], rec.ustack[2]};
    const std::span<const uint64_t> words(reinterpret_cast<const uint64_t*>(rec.ustack) + 3,
                                          static_cast<size_t>(len) - 3);
    return user_frames(processes_.unwind(pid, regs, words, WC_USTACK_DEPTH), pid);
}

StackFrames StackResolver::user_frames(std::vector<uint64_t> addrs, pid_t pid) {
    while (!addrs.empty() && addrs.back() == 0) addrs.pop_back();
    uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a over the addresses
    for (uint64_t ip : addrs) hash = (hash ^ ip) * 0x100000001b3ull;
    if (auto* hit = user_cache_.get({hash, pid}); hit && hit->ips == addrs) return hit->frames;
    std::vector<std::string> frames;
    frames.reserve(addrs.size());
    for (uint64_t ip : addrs) frames.push_back(processes_.resolve(pid, ip));
    return user_cache_.put({hash, pid}, UserFrames{std::move(addrs), StackFrames(std::move(frames))}).frames;
}

}  // namespace whoclosed
