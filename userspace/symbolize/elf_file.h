// One ELF file opened read-only with libelf (mmap): the raw facts the
// symbolizers need, each bounds-checked by libelf or here. Not a parser of
// its own: libelf validates section and segment extents against the file.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gelf.h>

namespace whoclosed {

struct LoadSegment {
    uint64_t offset, vaddr, file_size;
    bool executable;
};

struct Debuglink {
    std::string name;
    uint32_t crc = 0;
};

class ElfFile {
public:
    static std::optional<ElfFile> open(const std::string& path, std::string* error);
    ~ElfFile();
    ElfFile(ElfFile&& other) noexcept;
    ElfFile& operator=(ElfFile&&) = delete;
    ElfFile(const ElfFile&) = delete;

    Elf* elf() const { return elf_; }
    const std::string& path() const { return path_; }
    // ET_DYN: PIE executables and shared libraries, loaded at a random base.
    bool is_dyn() const { return type_ == ET_DYN; }
    const std::vector<LoadSegment>& segments() const { return segments_; }
    // The NT_GNU_BUILD_ID note (what BPF_F_USER_BUILD_ID reports); empty if none.
    std::vector<uint8_t> build_id() const;
    std::optional<Debuglink> debuglink() const;
    Elf_Scn* section(std::string_view name) const;
    bool has_section_headers() const;
    // Section contents as stored in the file; empty for SHT_NOBITS or on error.
    std::span<const uint8_t> section_bytes(Elf_Scn* scn) const;
    std::span<const uint8_t> file_bytes() const;

private:
    ElfFile() = default;
    bool load_segments(std::string* error);

    int fd_ = -1;
    Elf* elf_ = nullptr;
    std::string path_;
    GElf_Half type_ = ET_NONE;
    std::vector<LoadSegment> segments_;
};

std::string hex_string(std::span<const uint8_t> bytes);

}  // namespace whoclosed
