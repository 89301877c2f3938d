#include "symbolize/go_symbols.h"

#include <cstring>

namespace whoclosed {
namespace {

constexpr uint32_t kMagic116 = 0xfffffffa;
constexpr uint32_t kMagic118 = 0xfffffff0;
constexpr uint32_t kMagic120 = 0xfffffff1;
constexpr size_t kMaxNameLength = 4096;

int format_of_magic(uint32_t magic) {
    switch (magic) {
        case kMagic116: return 116;
        case kMagic118: return 118;
        case kMagic120: return 120;
        default: return 0;
    }
}

uint32_t load32(const uint8_t* p, bool big_endian) {
    return big_endian ? (uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3])
                      : (uint32_t{p[3]} << 24 | uint32_t{p[2]} << 16 | uint32_t{p[1]} << 8 | p[0]);
}

// Magic in either byte order, two zero pad bytes, a pc quantum of 1, 2 or 4
// and a pointer size of 4 or 8: what debug/gosym accepts as a header.
std::optional<bool> header_endianness(std::span<const uint8_t> d) {
    if (d.size() < 16 || d[4] != 0 || d[5] != 0) return std::nullopt;
    if (d[6] != 1 && d[6] != 2 && d[6] != 4) return std::nullopt;
    if (d[7] != 4 && d[7] != 8) return std::nullopt;
    if (format_of_magic(load32(d.data(), false)) != 0) return false;
    if (format_of_magic(load32(d.data(), true)) != 0) return true;
    return std::nullopt;
}

}  // namespace

std::optional<size_t> GoSymbols::find_header(std::span<const uint8_t> data) {
    for (size_t i = 0; i + 16 <= data.size(); i += 4) {  // the table is at least 4-aligned
        if (data[i] != 0xff && data[i + 3] != 0xff) continue;
        if (header_endianness(data.subspan(i))) return i;
    }
    return std::nullopt;
}

std::optional<GoSymbols> GoSymbols::parse(std::vector<uint8_t> pclntab, uint64_t text_start_hint,
                                          std::string* error) {
    GoSymbols g;
    g.data_ = std::move(pclntab);
    if (!g.read_header(text_start_hint, error) || !g.check_functab(error)) return std::nullopt;
    return g;
}

uint64_t GoSymbols::read(size_t offset, size_t size) const {
    if (size == 4) return load32(data_.data() + offset, big_endian_);
    const uint64_t a = load32(data_.data() + offset, big_endian_);
    const uint64_t b = load32(data_.data() + offset + 4, big_endian_);
    return big_endian_ ? (a << 32 | b) : (b << 32 | a);
}

bool GoSymbols::read_header(uint64_t text_start_hint, std::string* error) {
    const auto big = header_endianness(data_);
    if (!big) {
        if (error) *error = "no Go pclntab header (unknown magic or layout)";
        return false;
    }
    big_endian_ = *big;
    format_ = format_of_magic(read(0, 4));
    ptr_size_ = data_[7];
    field_size_ = format_ >= 118 ? 4 : ptr_size_;
    // Header words after the 8 fixed bytes; 1.18 inserted textStart as word 2.
    const size_t words = format_ >= 118 ? 8 : 7;
    if (data_.size() < 8 + words * ptr_size_) {
        if (error) *error = "Go pclntab header truncated";
        return false;
    }
    auto word = [&](size_t i) { return read(8 + i * ptr_size_, ptr_size_); };
    const uint64_t nfunc = word(0);
    const size_t shift = format_ >= 118 ? 1 : 0;
    text_start_ = format_ >= 118 && word(2) != 0 ? word(2) : text_start_hint;
    const uint64_t funcnametab = word(2 + shift);
    const uint64_t functab = word(6 + shift);
    if (funcnametab >= data_.size() || functab >= data_.size()) {
        if (error) *error = "Go pclntab offsets point outside the table";
        return false;
    }
    const uint64_t functab_room = (data_.size() - functab) / field_size_;
    if (nfunc == 0 || functab_room < 3 || nfunc > (functab_room - 1) / 2) {
        if (error) *error = "Go pclntab function count does not fit the table";
        return false;
    }
    nfunc_ = static_cast<size_t>(nfunc);
    funcnametab_ = static_cast<size_t>(funcnametab);
    functab_ = static_cast<size_t>(functab);
    return true;
}

// Lookups binary-search the entry PCs: they must be sorted, or a corrupt
// table would give wrong names instead of none.
bool GoSymbols::check_functab(std::string* error) const {
    for (size_t i = 0; i < nfunc_; ++i) {
        if (entry_pc(i) > entry_pc(i + 1)) {
            if (error) *error = "Go pclntab function entries are not sorted";
            return false;
        }
    }
    return true;
}

// Entry i of nfunc+1: the last one is the end of the last function.
uint64_t GoSymbols::entry_pc(size_t i) const {
    const uint64_t value = read(functab_ + 2 * i * field_size_, field_size_);
    return format_ >= 118 ? text_start_ + value : value;
}

std::optional<std::string> GoSymbols::name_of(size_t i) const {
    const uint64_t func_offset = read(functab_ + (2 * i + 1) * field_size_, field_size_);
    // _func starts with the entry (4 bytes since 1.18, a pointer before), then nameOff int32.
    const size_t entry_size = format_ >= 118 ? 4 : ptr_size_;
    if (func_offset > data_.size() - functab_ ||
        data_.size() - functab_ - func_offset < entry_size + 4) {
        return std::nullopt;
    }
    const uint64_t name_offset = read(functab_ + func_offset + entry_size, 4);
    if (name_offset >= data_.size() - funcnametab_) return std::nullopt;
    const char* start = reinterpret_cast<const char*>(data_.data() + funcnametab_ + name_offset);
    const size_t room = std::min(data_.size() - funcnametab_ - name_offset, kMaxNameLength);
    const void* nul = std::memchr(start, 0, room);
    if (nul == nullptr || nul == start) return std::nullopt;
    return std::string(start, static_cast<const char*>(nul));
}

std::optional<std::string> GoSymbols::resolve(uint64_t pc) const {
    if (pc < entry_pc(0) || pc >= entry_pc(nfunc_)) return std::nullopt;
    size_t lo = 0, hi = nfunc_;  // invariant: entry_pc(lo) <= pc < entry_pc(hi)
    while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        (entry_pc(mid) <= pc ? lo : hi) = mid;
    }
    return name_of(lo);
}

std::optional<GoFunctionRange> GoSymbols::function_range(std::string_view name) const {
    for (size_t i = 0; i < nfunc_; ++i) {
        if (name_of(i) == name) return GoFunctionRange{entry_pc(i), entry_pc(i + 1)};
    }
    return std::nullopt;
}

}  // namespace whoclosed
