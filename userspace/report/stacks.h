// Closing stacks folded the way flamegraph.pl and speedscope read them:
// "comm;user frames;kernel frames count", outermost first. Aggregated as
// events stream by, with a bound on the number of distinct stacks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/close_event.h"

namespace whoclosed {

enum class FrameKind { Root, Kernel, User, Go, Libc };
const char* to_string(FrameKind k);

// A frame as one token of a folded line: ';' (the separator) becomes ':',
// whitespace and control bytes become '_', an empty name "[unknown]".
std::string sanitize_frame(std::string_view name);

// The kind of a user-stack frame by its name: kernel-looking names (tcp_*,
// inet_*, __sys_*, ...), Go ("pkg/path.Func", "pkg.(*T).M"), libc, or user.
FrameKind classify_user_frame(std::string_view name);

// frames[0] is the closer's comm, then user frames, then from `kernel_from`
// on the kernel frames; all outermost first and sanitized.
struct FoldedStack {
    std::vector<std::string> frames;
    size_t kernel_from = 1;
    auto operator<=>(const FoldedStack&) const = default;
    FrameKind kind(size_t i) const;
    std::string line() const;  // frames joined by ';'
};

inline constexpr size_t kMaxDistinctStacks = 20000;
inline constexpr const char* kOtherStacks = "[other stacks]";

class StackAggregate {
public:
    explicit StackAggregate(size_t cap = kMaxDistinctStacks) : cap_(cap) {}
    // Events without a closer have no closing stack and are skipped.
    void add(const CloseEvent& ev);
    uint64_t total() const { return total_; }
    const std::map<FoldedStack, uint64_t>& stacks() const { return stacks_; }

private:
    size_t cap_;
    uint64_t total_ = 0;
    std::map<FoldedStack, uint64_t> stacks_;
};

// One "stack count" line per distinct stack, sorted by stack.
std::string render_folded(const StackAggregate& agg);

}  // namespace whoclosed
