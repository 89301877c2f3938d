// Kernel instruction pointers -> function names, from /proc/kallsyms read
// once. Without CAP_SYSLOG (or with kptr_restrict=2) every address reads as
// zero: the symbolizer then says it is unavailable instead of naming every
// frame after the first symbol in the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace whoclosed {

class KernelSymbolizer {
public:
    // Loads `path` (kallsyms format: "addr type name [module]").
    static KernelSymbolizer from_file(const std::string& path = "/proc/kallsyms");

    // Same, from text already in memory (tests, snapshots).
    static KernelSymbolizer from_text(std::string_view text);

    bool available() const { return error_.empty(); }
    // Why it is unavailable; empty when available().
    const std::string& error() const { return error_; }
    size_t size() const { return symbols_.size(); }

    // The plain function name ("tcp_close") of the text symbol that contains
    // ip; nullopt if unavailable or ip lies outside every known symbol.
    std::optional<std::string> resolve(uint64_t ip) const;

private:
    KernelSymbolizer() = default;
    void load(std::string_view text);

    struct Symbol {
        uint64_t addr;
        uint32_t name_offset;
        uint32_t name_size;
    };
    std::vector<Symbol> symbols_;
    std::string names_;
    std::string error_;
};

}  // namespace whoclosed
