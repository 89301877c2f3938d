#include "report/stacks.h"

#include <array>
#include <cctype>

namespace whoclosed {

namespace {

bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> prefixes) {
    for (std::string_view p : prefixes)
        if (s.starts_with(p)) return true;
    return false;
}

bool looks_kernel(std::string_view f) {
    return starts_with_any(f, {"tcp_", "inet_", "inet6_", "__sys_", "__x64_sys_", "__ia32_sys_",
                               "sock_", "__sock_", "do_syscall", "entry_SYSCALL", "__fput",
                               "task_work_run", "do_exit", "do_group_exit", "exit_to_user"});
}

// "pkg.Func", "pkg/path.Func", "pkg.(*T).M": Go's own symbol spelling.
bool looks_go(std::string_view f) {
    if (f.find('/') != std::string_view::npos || f.find(".(*") != std::string_view::npos)
        return f.find("::") == std::string_view::npos;
    size_t dot = f.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot + 1 >= f.size()) return false;
    for (size_t i = 0; i < dot; i++)
        if (!std::islower(static_cast<unsigned char>(f[i])) &&
            !std::isdigit(static_cast<unsigned char>(f[i])) && f[i] != '_')
            return false;
    return std::isalpha(static_cast<unsigned char>(f[dot + 1])) || f[dot + 1] == '(';
}

bool looks_libc(std::string_view f) {
    static constexpr std::array<std::string_view, 10> kWrappers{
        "close", "__close", "shutdown", "__shutdown", "__close_nocancel", "exit", "_exit",
        "__libc_start_main", "__libc_start_call_main", "__GI___close"};
    for (std::string_view w : kWrappers)
        if (f == w) return true;
    return f.find("libc.so") != std::string_view::npos || f.find("libc-") != std::string_view::npos ||
           starts_with_any(f, {"__libc_", "__GI_"});
}

}  // namespace

const char* to_string(FrameKind k) {
    switch (k) {
        case FrameKind::Root: return "comm";
        case FrameKind::Kernel: return "kernel";
        case FrameKind::User: return "user";
        case FrameKind::Go: return "go";
        case FrameKind::Libc: return "libc";
    }
    return "user";
}

std::string sanitize_frame(std::string_view name) {
    if (name.empty()) return "[unknown]";
    std::string out(name);
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (c == ';') c = ':';
        else if (u <= 0x20 || u == 0x7f) c = '_';
    }
    return out;
}

FrameKind classify_user_frame(std::string_view name) {
    if (looks_kernel(name)) return FrameKind::Kernel;
    if (looks_libc(name)) return FrameKind::Libc;  // before Go: "libc.so.6+0x..." reads as pkg.Func
    if (looks_go(name)) return FrameKind::Go;
    return FrameKind::User;
}

FrameKind FoldedStack::kind(size_t i) const {
    if (i == 0) return FrameKind::Root;
    if (i >= kernel_from) return FrameKind::Kernel;
    return classify_user_frame(frames[i]);
}

std::string FoldedStack::line() const {
    std::string out;
    for (const std::string& f : frames) {
        if (!out.empty()) out += ';';
        out += f;
    }
    return out;
}

void StackAggregate::add(const CloseEvent& ev) {
    if (!ev.closer) return;
    const CloserInfo& c = *ev.closer;
    FoldedStack s;
    s.frames.push_back(sanitize_frame(c.comm));
    // Events list frames innermost first; folded lines want outermost first.
    for (auto it = c.user_stack.rbegin(); it != c.user_stack.rend(); ++it)
        s.frames.push_back(sanitize_frame(*it));
    s.kernel_from = s.frames.size();
    for (auto it = c.kernel_stack.rbegin(); it != c.kernel_stack.rend(); ++it)
        s.frames.push_back(sanitize_frame(*it));
    total_++;
    auto found = stacks_.find(s);
    if (found != stacks_.end()) {
        found->second++;
    } else if (stacks_.size() < cap_) {
        stacks_.emplace(std::move(s), 1);
    } else {
        stacks_[FoldedStack{{kOtherStacks}, 1}]++;  // one slot, whatever the comm
    }
}

std::string render_folded(const StackAggregate& agg) {
    // Two stacks can fold to the same line (a user frame named like a
    // kernel one); flamegraph.pl would sum them, do it here once.
    std::map<std::string, uint64_t> lines;
    for (const auto& [stack, n] : agg.stacks()) lines[stack.line()] += n;
    std::string out;
    for (const auto& [line, n] : lines) out += line + ' ' + std::to_string(n) + '\n';
    return out;
}

}  // namespace whoclosed
