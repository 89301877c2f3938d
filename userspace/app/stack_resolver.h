// Closing stacks from the kernel's stack maps to symbolized frames, cached
// per stack id (kernel) and per (stack id, pid) (user), bounded.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "correlate/stack_frames.h"
#include "loader/tracer.h"
#include "symbolize/kernel_symbolizer.h"
#include "symbolize/lru_cache.h"
#include "symbolize/process_symbolizer.h"

namespace whoclosed {

class StackResolver {
public:
    explicit StackResolver(const Tracer& tracer);

    // Snapshots a process's mappings (see struct process_note): from /proc
    // while it lives, else from the kernel's list in the note.
    void remember(const process_note& note);

    // Innermost first; empty when the id is negative or the stack is gone.
    StackFrames kernel(int id);
    // The user frames a record carries, innermost first: the frame-pointer
    // walk's addresses or, with WC_F_USTACK_RAW, those .eh_frame rules find.
    StackFrames user(const close_record& rec);

private:
    // Addresses in process pid, symbolized; cached per (pid, addresses), so
    // a process that keeps closing through the same code is symbolized once.
    StackFrames user_frames(std::vector<uint64_t> addrs, pid_t pid);

    struct PairHash {
        size_t operator()(const std::pair<uint64_t, pid_t>& k) const {
            return std::hash<uint64_t>{}(k.first ^ (uint64_t(uint32_t(k.second)) * 0x9e3779b97f4a7c15ull));
        }
    };

    const Tracer& tracer_;
    KernelSymbolizer kallsyms_;
    ProcessSymbolizer processes_;
    LruCache<int, StackFrames> kernel_cache_{4096};
    struct UserFrames {
        std::vector<uint64_t> ips;
        StackFrames frames;
    };
    // Keyed by (hash of the addresses, pid); the addresses are compared on a hit.
    LruCache<std::pair<uint64_t, pid_t>, UserFrames, PairHash> user_cache_{4096};
};

}  // namespace whoclosed
