// Closing stacks from the kernel's stack maps to symbolized frames, cached
// per stack id (kernel) and per (stack id, pid) (user), bounded.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "loader/tracer.h"
#include "symbolize/kernel_symbolizer.h"
#include "symbolize/lru_cache.h"
#include "symbolize/process_symbolizer.h"

namespace whoclosed {

class StackResolver {
public:
    explicit StackResolver(const Tracer& tracer);

    // Innermost first; empty when the id is negative or the stack is gone.
    std::vector<std::string> kernel(int id);
    // User stack ids are reused on collision: the cache entry for (id, pid)
    // is trusted only while the map still holds the same addresses.
    std::vector<std::string> user(int id, pid_t pid);

private:
    struct PairHash {
        size_t operator()(const std::pair<int, pid_t>& k) const {
            return std::hash<uint64_t>{}((uint64_t(uint32_t(k.first)) << 32) | uint32_t(k.second));
        }
    };

    const Tracer& tracer_;
    KernelSymbolizer kallsyms_;
    ProcessSymbolizer processes_;
    LruCache<int, std::vector<std::string>> kernel_cache_{4096};
    struct UserFrames {
        std::vector<uint64_t> ips;
        std::vector<std::string> frames;
    };
    LruCache<std::pair<int, pid_t>, UserFrames, PairHash> user_cache_{4096};
};

}  // namespace whoclosed
