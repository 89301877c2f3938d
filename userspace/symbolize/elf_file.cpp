#include "symbolize/elf_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace whoclosed {
namespace {

constexpr size_t kMaxSegments = 4096;
constexpr size_t kMaxNoteSize = 1 << 20;

bool libelf_ready() {
    static const bool ready = elf_version(EV_CURRENT) != EV_NONE;
    return ready;
}

std::string elf_error(const std::string& path) {
    const char* msg = elf_errmsg(-1);
    return path + ": " + (msg ? msg : "libelf error");
}

bool is_gnu_build_id(const GElf_Nhdr& nhdr, const char* name) {
    return nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0;
}

}  // namespace

std::string hex_string(std::span<const uint8_t> bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

std::optional<ElfFile> ElfFile::open(const std::string& path, std::string* error) {
    if (!libelf_ready()) {
        if (error) *error = "libelf version mismatch";
        return std::nullopt;
    }
    ElfFile f;
    f.path_ = path;
    f.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd_ < 0) {
        if (error) *error = path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    f.elf_ = elf_begin(f.fd_, ELF_C_READ_MMAP, nullptr);
    GElf_Ehdr ehdr;
    if (f.elf_ == nullptr || elf_kind(f.elf_) != ELF_K_ELF ||
        gelf_getehdr(f.elf_, &ehdr) == nullptr) {
        if (error) *error = f.elf_ ? path + ": not an ELF file" : elf_error(path);
        return std::nullopt;
    }
    f.type_ = ehdr.e_type;
    if (!f.load_segments(error)) return std::nullopt;
    return f;
}

ElfFile::ElfFile(ElfFile&& other) noexcept
    : fd_(other.fd_),
      elf_(other.elf_),
      path_(std::move(other.path_)),
      type_(other.type_),
      segments_(std::move(other.segments_)) {
    other.fd_ = -1;
    other.elf_ = nullptr;
}

ElfFile::~ElfFile() {
    if (elf_) elf_end(elf_);
    if (fd_ >= 0) ::close(fd_);
}

bool ElfFile::load_segments(std::string* error) {
    size_t count = 0;
    if (elf_getphdrnum(elf_, &count) != 0 || count > kMaxSegments) {
        if (error) *error = path_ + ": bad program headers";
        return false;
    }
    for (size_t i = 0; i < count; ++i) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf_, static_cast<int>(i), &ph) == nullptr) {
            if (error) *error = elf_error(path_);
            return false;
        }
        if (ph.p_type == PT_LOAD) {
            segments_.push_back({ph.p_offset, ph.p_vaddr, ph.p_filesz, (ph.p_flags & PF_X) != 0});
        }
    }
    return true;
}

// From the PT_NOTE segments, which survive even when section headers do not.
std::vector<uint8_t> ElfFile::build_id() const {
    size_t count = 0;
    if (elf_getphdrnum(elf_, &count) != 0) return {};
    for (size_t i = 0; i < count && i < kMaxSegments; ++i) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf_, static_cast<int>(i), &ph) == nullptr || ph.p_type != PT_NOTE)
            continue;
        if (ph.p_filesz == 0 || ph.p_filesz > kMaxNoteSize) continue;
        Elf_Data* data =
            elf_getdata_rawchunk(elf_, static_cast<int64_t>(ph.p_offset), ph.p_filesz, ELF_T_NHDR);
        if (data == nullptr) continue;
        GElf_Nhdr nhdr;
        size_t offset = 0, name_at = 0, desc_at = 0;
        while ((offset = gelf_getnote(data, offset, &nhdr, &name_at, &desc_at)) > 0) {
            const auto* base = static_cast<const uint8_t*>(data->d_buf);
            if (is_gnu_build_id(nhdr, reinterpret_cast<const char*>(base + name_at))) {
                return {base + desc_at, base + desc_at + nhdr.n_descsz};
            }
        }
    }
    return {};
}

std::optional<Debuglink> ElfFile::debuglink() const {
    const std::span<const uint8_t> bytes = section_bytes(section(".gnu_debuglink"));
    if (bytes.empty()) return std::nullopt;
    const auto* nul = static_cast<const uint8_t*>(std::memchr(bytes.data(), 0, bytes.size()));
    if (nul == nullptr || nul == bytes.data()) return std::nullopt;
    Debuglink link;
    link.name.assign(reinterpret_cast<const char*>(bytes.data()),
                     reinterpret_cast<const char*>(nul));
    // The CRC follows the name's NUL padding, at the next multiple of 4.
    const size_t crc_at = (link.name.size() + 4) & ~size_t{3};
    if (crc_at + 4 <= bytes.size()) std::memcpy(&link.crc, bytes.data() + crc_at, 4);
    return link;
}

bool ElfFile::has_section_headers() const {
    size_t count = 0;
    return elf_getshdrnum(elf_, &count) == 0 && count > 0;
}

Elf_Scn* ElfFile::section(std::string_view name) const {
    size_t names_index = 0;
    if (elf_getshdrstrndx(elf_, &names_index) != 0) return nullptr;
    for (Elf_Scn* scn = elf_nextscn(elf_, nullptr); scn; scn = elf_nextscn(elf_, scn)) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) == nullptr) continue;
        const char* s = elf_strptr(elf_, names_index, sh.sh_name);
        if (s && name == s) return scn;
    }
    return nullptr;
}

std::span<const uint8_t> ElfFile::section_bytes(Elf_Scn* scn) const {
    GElf_Shdr sh;
    if (scn == nullptr || gelf_getshdr(scn, &sh) == nullptr || sh.sh_type == SHT_NOBITS) return {};
    Elf_Data* data = elf_rawdata(scn, nullptr);
    if (data == nullptr || data->d_buf == nullptr) return {};
    return {static_cast<const uint8_t*>(data->d_buf), data->d_size};
}

std::span<const uint8_t> ElfFile::file_bytes() const {
    size_t size = 0;
    const char* raw = elf_rawfile(elf_, &size);
    if (raw == nullptr) return {};
    return {reinterpret_cast<const uint8_t*>(raw), size};
}

}  // namespace whoclosed
