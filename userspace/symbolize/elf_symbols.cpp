#include "symbolize/elf_symbols.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "symbolize/debug_file.h"

namespace whoclosed {
namespace {

constexpr size_t kMaxSymbols = 4u << 20;
constexpr size_t kMaxNameBytes = 512u << 20;
constexpr size_t kMaxPclntabBytes = 512u << 20;

std::string demangle(std::string name) {
    if (!name.starts_with("_Z")) return name;
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out(
        abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), &std::free);
    return status == 0 && out ? std::string(out.get()) : name;
}

// Among aliases at one address prefer a sized symbol, a name without a
// leading underscore (nanosleep over __nanosleep), the current version over
// a compat one (glibc's .dynsym spells those "aio_fsync@GLIBC_2.2.5"), then
// global over weak over local, then the shorter name (aio_fsync over aio_fsync64).
uint32_t rank_of(const GElf_Sym& sym, std::string_view name, bool versioned) {
    const uint32_t binding = GELF_ST_BIND(sym.st_info);
    const uint32_t bind_rank = binding == STB_GLOBAL ? 0 : binding == STB_WEAK ? 1 : 2;
    return (sym.st_size == 0 ? 16 : 0) + (name[0] == '_' ? 8 : 0) + (versioned ? 4 : 0) + bind_rank;
}

bool is_function(const GElf_Sym& sym) {
    const int type = GELF_ST_TYPE(sym.st_info);
    return (type == STT_FUNC || type == STT_GNU_IFUNC) && sym.st_shndx != SHN_UNDEF &&
           sym.st_value != 0;
}

uint64_t section_addr(const ElfFile& file, const char* name) {
    GElf_Shdr sh;
    Elf_Scn* scn = file.section(name);
    return scn && gelf_getshdr(scn, &sh) ? sh.sh_addr : 0;
}

}  // namespace

std::optional<ElfSymbols> ElfSymbols::open(const std::string& path, std::string* error,
                                           const ElfLookup& options) {
    auto file = ElfFile::open(path, error);
    if (!file) return std::nullopt;
    ElfSymbols s;
    s.pie_ = file->is_dyn();
    s.build_id_ = file->build_id();
    s.segments_ = file->segments();
    s.add_symbol_tables(*file);
    if (file->section(".symtab") == nullptr) {
        const std::string& logical = options.logical_path.empty() ? path : options.logical_path;
        if (auto debug = find_debug_file(*file, logical, options.debug_root)) {
            s.debug_file_ = debug->path();
            s.add_symbol_tables(*debug);
        }
    }
    s.load_go(*file);
    s.finish_symbols();
    if (!s.go_) s.cfi_ = CallFrameInfo::from(std::move(*file));
    return s;
}

void ElfSymbols::add_symbol_tables(const ElfFile& file) {
    for (Elf_Scn* scn = elf_nextscn(file.elf(), nullptr); scn; scn = elf_nextscn(file.elf(), scn)) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)) {
            add_symbols(file, scn);
        }
    }
}

void ElfSymbols::add_symbols(const ElfFile& file, Elf_Scn* scn) {
    GElf_Shdr sh;
    Elf_Data* data = elf_getdata(scn, nullptr);
    const size_t entry_size = gelf_fsize(file.elf(), ELF_T_SYM, 1, EV_CURRENT);
    if (data == nullptr || entry_size == 0 || gelf_getshdr(scn, &sh) == nullptr) return;
    const size_t count = data->d_size / entry_size;
    for (size_t i = 0; i < count && symbols_.size() < kMaxSymbols; ++i) {
        GElf_Sym sym;
        if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr || !is_function(sym)) continue;
        const char* name = elf_strptr(file.elf(), sh.sh_link, sym.st_name);
        if (name == nullptr || name[0] == '\0') continue;
        std::string_view view(name);
        const size_t at = view.find('@');
        if (at == 0) continue;
        view = view.substr(0, at);
        if (names_.size() + view.size() > kMaxNameBytes) return;
        symbols_.push_back({sym.st_value, sym.st_size, static_cast<uint32_t>(names_.size()),
                            static_cast<uint32_t>(view.size()),
                            rank_of(sym, view, at != std::string_view::npos)});
        names_.append(view);
    }
}

// .gopclntab is its own section in internally linked Go binaries, and
// .data.rel.ro.gopclntab in PIE ones; with no section headers at all, scan.
void ElfSymbols::load_go(const ElfFile& file) {
    std::span<const uint8_t> bytes = file.section_bytes(file.section(".gopclntab"));
    if (bytes.empty()) bytes = file.section_bytes(file.section(".data.rel.ro.gopclntab"));
    if (bytes.empty() && !file.has_section_headers()) {
        const std::span<const uint8_t> all = file.file_bytes();
        if (const auto at = GoSymbols::find_header(all)) bytes = all.subspan(*at);
    }
    if (bytes.empty()) return;
    bytes = bytes.first(std::min(bytes.size(), kMaxPclntabBytes));
    uint64_t text_start = 0;
    for (const Symbol& s : symbols_) {
        if (std::string_view(names_).substr(s.name_offset, s.name_size) == "runtime.text") {
            text_start = s.addr;
        }
    }
    if (text_start == 0) text_start = section_addr(file, ".text");
    for (const LoadSegment& seg : segments_) {
        if (text_start == 0 && seg.executable) text_start = seg.vaddr;
    }
    go_ = GoSymbols::parse({bytes.begin(), bytes.end()}, text_start, nullptr);
}

void ElfSymbols::finish_symbols() {
    std::sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) {
        if (a.addr != b.addr) return a.addr < b.addr;
        return a.rank != b.rank ? a.rank < b.rank : a.name_size < b.name_size;
    });
    symbols_.erase(std::unique(symbols_.begin(), symbols_.end(),
                               [](const Symbol& a, const Symbol& b) { return a.addr == b.addr; }),
                   symbols_.end());
    symbols_.shrink_to_fit();
}

std::optional<uint64_t> ElfSymbols::vaddr_of_offset(uint64_t file_offset) const {
    for (const LoadSegment& seg : segments_) {
        if (file_offset >= seg.offset && file_offset - seg.offset < seg.file_size) {
            return seg.vaddr + (file_offset - seg.offset);
        }
    }
    return std::nullopt;
}

std::optional<std::string> ElfSymbols::resolve_vaddr(uint64_t vaddr) const {
    if (go_) {
        if (auto name = go_->resolve(vaddr)) return name;
    }
    auto it = std::upper_bound(symbols_.begin(), symbols_.end(), vaddr,
                               [](uint64_t value, const Symbol& s) { return value < s.addr; });
    if (it == symbols_.begin()) return std::nullopt;
    const Symbol& s = *std::prev(it);
    // Unsized symbols (hand-written assembly) run to the next symbol, but the
    // last one cannot claim the rest of the address space.
    if (s.size != 0 ? vaddr - s.addr >= s.size : it == symbols_.end()) return std::nullopt;
    return demangle(names_.substr(s.name_offset, s.name_size));
}

std::optional<std::string> ElfSymbols::resolve_file_offset(uint64_t file_offset) const {
    const auto vaddr = vaddr_of_offset(file_offset);
    if (!vaddr) return std::nullopt;
    return resolve_vaddr(*vaddr);
}

}  // namespace whoclosed
