#include "symbolize/kernel_symbolizer.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace whoclosed {
namespace {

// kallsyms gives no sizes: a symbol ends where the next one starts. Past the
// last one (end of the last module's text) accept at most this much.
constexpr uint64_t kMaxLastSymbolSize = 64 * 1024;

bool is_text_type(char type) { return type == 't' || type == 'T' || type == 'w' || type == 'W'; }

std::string_view next_field(std::string_view& line) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) {
        line = {};
        return {};
    }
    line.remove_prefix(start);
    const size_t end = std::min(line.find_first_of(" \t"), line.size());
    std::string_view field = line.substr(0, end);
    line.remove_prefix(end);
    return field;
}

}  // namespace

KernelSymbolizer KernelSymbolizer::from_file(const std::string& path) {
    KernelSymbolizer k;
    std::ifstream in(path);
    if (!in) {
        k.error_ = "cannot read " + path;
        return k;
    }
    std::stringstream text;
    text << in.rdbuf();
    k.load(text.str());
    return k;
}

KernelSymbolizer KernelSymbolizer::from_text(std::string_view text) {
    KernelSymbolizer k;
    k.load(text);
    return k;
}

void KernelSymbolizer::load(std::string_view text) {
    bool any_nonzero = false;
    while (!text.empty()) {
        const size_t eol = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(std::min(eol + 1, text.size()));
        const std::string_view addr_text = next_field(line);
        const std::string_view type = next_field(line);
        const std::string_view name = next_field(line);
        uint64_t addr = 0;
        const auto [ptr, ec] =
            std::from_chars(addr_text.data(), addr_text.data() + addr_text.size(), addr, 16);
        if (ec != std::errc() || type.size() != 1 || name.empty() || !is_text_type(type[0]))
            continue;
        any_nonzero = any_nonzero || addr != 0;
        symbols_.push_back(
            {addr, static_cast<uint32_t>(names_.size()), static_cast<uint32_t>(name.size())});
        names_.append(name);
    }
    if (symbols_.empty()) {
        error_ = "no text symbols in kallsyms";
    } else if (!any_nonzero) {
        error_ = "kallsyms addresses are hidden (kptr_restrict; needs root or CAP_SYSLOG)";
    }
    if (!error_.empty()) {
        symbols_.clear();
        names_.clear();
        return;
    }
    std::stable_sort(symbols_.begin(), symbols_.end(),
                     [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; });
    // Aliases share an address: keep the first one listed, usually the real name.
    symbols_.erase(std::unique(symbols_.begin(), symbols_.end(),
                               [](const Symbol& a, const Symbol& b) { return a.addr == b.addr; }),
                   symbols_.end());
}

std::optional<std::string> KernelSymbolizer::resolve(uint64_t ip) const {
    auto it = std::upper_bound(symbols_.begin(), symbols_.end(), ip,
                               [](uint64_t value, const Symbol& s) { return value < s.addr; });
    if (it == symbols_.begin()) return std::nullopt;
    if (it == symbols_.end() && ip - std::prev(it)->addr >= kMaxLastSymbolSize) return std::nullopt;
    const Symbol& s = *std::prev(it);
    return names_.substr(s.name_offset, s.name_size);
}

}  // namespace whoclosed
