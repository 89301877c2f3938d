#include "app/stack_resolver.h"

#include <algorithm>
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

StackFrames StackResolver::user(const unsigned long long* ips, int len, pid_t pid) {
    if (len <= 0) return {};
    std::vector<uint64_t> addrs(ips, ips + std::min(len, WC_USTACK_DEPTH));
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
