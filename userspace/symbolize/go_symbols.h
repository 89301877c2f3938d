// Go function names from .gopclntab, the table the Go runtime itself uses
// for tracebacks: it survives `-ldflags='-s -w'`, so stripped Go binaries
// still resolve to "net/http.(*conn).serve". Formats: Go 1.16/1.17 (magic
// 0xfffffffa), 1.18/1.19 (0xfffffff0) and 1.20+ (0xfffffff1). Every offset
// and count read from the table is checked against its size: a corrupt
// table gives an error at parse time or nullopt at lookup, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace whoclosed {

// Link-time addresses [entry, end) of one Go function; end is the next
// function's entry, so the range may include the linker's INT3 padding.
struct GoFunctionRange {
    uint64_t entry = 0, end = 0;
};

class GoSymbols {
public:
    // `pclntab` starts at the table's header. `text_start_hint` is the
    // address of runtime.text (or of the .text section), used when the
    // header has none (1.16) or holds 0 (PIE: filled by a relocation).
    static std::optional<GoSymbols> parse(std::vector<uint8_t> pclntab, uint64_t text_start_hint,
                                          std::string* error);

    // Offset of the first plausible pclntab header in `data`, for files
    // whose section headers are gone.
    static std::optional<size_t> find_header(std::span<const uint8_t> data);

    // Name of the Go function containing the link-time address pc.
    std::optional<std::string> resolve(uint64_t pc) const;

    // The function named exactly `name` ("crypto/tls.(*Conn).Write"), by a
    // linear scan of the table: for the few lookups of uprobe placement.
    std::optional<GoFunctionRange> function_range(std::string_view name) const;

    size_t function_count() const { return nfunc_; }
    // 116, 118 or 120: the oldest Go release that writes this format.
    int format() const { return format_; }
    uint64_t text_start() const { return text_start_; }

private:
    GoSymbols() = default;
    bool read_header(uint64_t text_start_hint, std::string* error);
    bool check_functab(std::string* error) const;
    uint64_t read(size_t offset, size_t size) const;
    uint64_t entry_pc(size_t i) const;
    std::optional<std::string> name_of(size_t i) const;

    std::vector<uint8_t> data_;
    bool big_endian_ = false;
    int format_ = 0;
    size_t ptr_size_ = 8;
    size_t field_size_ = 4;  // functab entry fields: 4 bytes since 1.18, pointer-sized before
    size_t nfunc_ = 0;
    uint64_t text_start_ = 0;
    size_t funcnametab_ = 0;
    size_t functab_ = 0;
};

}  // namespace whoclosed
