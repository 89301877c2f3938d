// Everything needed to name code in one ELF binary: FUNC symbols from
// .symtab and .dynsym (or from its separate debug file when stripped), Go's
// .gopclntab, the build-id, and the PT_LOAD map from file offsets (what
// /proc/PID/maps and build-id stack frames give) to link-time addresses.
// Read once, then the file is closed: instances are immutable and cheap to
// share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "symbolize/elf_file.h"
#include "symbolize/call_frame_info.h"
#include "symbolize/go_symbols.h"

namespace whoclosed {

struct ElfLookup {
    std::string debug_root = "/usr/lib/debug";  // empty: no separate debug files
    // Where the binary is known to live, for .gnu_debuglink lookups, when
    // it is opened through another path (/proc/PID/map_files/...).
    std::string logical_path;
};

class ElfSymbols {
public:
    static std::optional<ElfSymbols> open(const std::string& path, std::string* error = nullptr,
                                          const ElfLookup& lookup = {});

    // ET_DYN (PIE executable or shared library) rather than ET_EXEC.
    bool is_pie() const { return pie_; }
    bool is_go() const { return go_.has_value(); }
    // The parsed .gopclntab of a Go binary, or nullptr.
    const GoSymbols* go_symbols() const { return go_ ? &*go_ : nullptr; }
    const std::vector<uint8_t>& build_id() const { return build_id_; }
    // The separate debug file whose symbols were used; empty if none.
    const std::string& debug_file() const { return debug_file_; }
    size_t symbol_count() const { return symbols_.size(); }

    std::optional<uint64_t> vaddr_of_offset(uint64_t file_offset) const;
    // Go name first (pclntab), then the ELF symbol, C++ names demangled.
    std::optional<std::string> resolve_vaddr(uint64_t vaddr) const;
    std::optional<std::string> resolve_file_offset(uint64_t file_offset) const;
    // The binary's .eh_frame rules, kept open for unwinding; nullptr for Go
    // binaries (they keep frame pointers) and files without them.
    const CallFrameInfo* call_frame_info() const { return cfi_.get(); }

private:
    struct Symbol {
        uint64_t addr;
        uint64_t size;
        uint32_t name_offset;
        uint32_t name_size;
        uint32_t rank;  // lower wins among aliases at one address
    };

    ElfSymbols() = default;
    void add_symbol_tables(const ElfFile& file);
    void add_symbols(const ElfFile& file, Elf_Scn* scn);
    void load_go(const ElfFile& file);
    void finish_symbols();

    bool pie_ = false;
    std::vector<uint8_t> build_id_;
    std::string debug_file_;
    std::vector<LoadSegment> segments_;
    std::vector<Symbol> symbols_;
    std::string names_;
    std::optional<GoSymbols> go_;
    std::shared_ptr<const CallFrameInfo> cfi_;
};

}  // namespace whoclosed
