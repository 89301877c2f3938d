#include "symbolize/go_buildinfo.h"

#include <charconv>
#include <cstring>

namespace whoclosed {
namespace {

constexpr std::string_view kMagic{"\xff Go buildinf:", 14};
constexpr size_t kHeaderSize = 32;
constexpr uint8_t kFlagBigEndian = 0x1;
constexpr uint8_t kFlagInline = 0x2;  // Go >= 1.18: strings follow the header
constexpr uint64_t kMaxVersion = 256;

uint64_t load(const uint8_t* p, size_t size, bool big_endian) {
    uint64_t v = 0;
    for (size_t i = 0; i < size; ++i) {
        const size_t shift = 8 * (big_endian ? size - 1 - i : i);
        v |= uint64_t{p[i]} << shift;
    }
    return v;
}

bool is_version_text(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

// An unsigned LEB128 varint of at most 10 bytes at `*pos`.
std::optional<uint64_t> varint(std::span<const uint8_t> d, size_t* pos) {
    uint64_t v = 0;
    for (unsigned i = 0; i < 10 && *pos < d.size(); ++i) {
        const uint8_t b = d[(*pos)++];
        v |= uint64_t{b & 0x7fu} << (7 * i);
        if (!(b & 0x80)) return v;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> go_build_version(std::span<const uint8_t> block, const VaddrReader& read_at) {
    if (block.size() < kHeaderSize || std::memcmp(block.data(), kMagic.data(), kMagic.size()) != 0)
        return std::nullopt;
    const size_t ptr_size = block[14];
    const uint8_t flags = block[15];
    std::string version;
    if (flags & kFlagInline) {
        size_t pos = kHeaderSize;
        const auto len = varint(block, &pos);
        if (!len || *len == 0 || *len > kMaxVersion || *len > block.size() - pos) return std::nullopt;
        version.assign(reinterpret_cast<const char*>(block.data() + pos), *len);
    } else {
        if ((ptr_size != 4 && ptr_size != 8) || block.size() < 16 + ptr_size) return std::nullopt;
        const bool big = flags & kFlagBigEndian;
        // A pointer to the Go string header {data, len} of runtime.buildVersion.
        const uint64_t header_addr = load(block.data() + 16, ptr_size, big);
        const auto header = read_at(header_addr, 2 * ptr_size);
        if (header.size() != 2 * ptr_size) return std::nullopt;
        const uint64_t data = load(header.data(), ptr_size, big);
        const uint64_t len = load(header.data() + ptr_size, ptr_size, big);
        if (len == 0 || len > kMaxVersion) return std::nullopt;
        const auto text = read_at(data, len);
        if (text.size() != len) return std::nullopt;
        version.assign(reinterpret_cast<const char*>(text.data()), text.size());
    }
    if (!is_version_text(version)) return std::nullopt;
    return version;
}

std::optional<std::string> go_build_version(const ElfFile& file) {
    const std::span<const uint8_t> image = file.file_bytes();
    VaddrReader read_at = [&](uint64_t vaddr, uint64_t size) -> std::span<const uint8_t> {
        for (const LoadSegment& seg : file.segments()) {
            if (vaddr < seg.vaddr || vaddr - seg.vaddr >= seg.file_size) continue;
            const uint64_t rel = vaddr - seg.vaddr;
            if (size > seg.file_size - rel || seg.offset + rel > image.size() ||
                size > image.size() - (seg.offset + rel))
                return {};
            return image.subspan(seg.offset + rel, size);
        }
        return {};
    };
    if (Elf_Scn* scn = file.section(".go.buildinfo")) return go_build_version(file.section_bytes(scn), read_at);
    // No section headers: the block is 16-aligned in a data segment.
    for (const LoadSegment& seg : file.segments()) {
        if (seg.executable || seg.offset > image.size()) continue;
        const auto data = image.subspan(seg.offset, std::min<uint64_t>(seg.file_size, image.size() - seg.offset));
        for (size_t i = 0; i + kHeaderSize <= data.size(); i += 16) {
            if (data[i] != 0xff || std::memcmp(data.data() + i, kMagic.data(), kMagic.size()) != 0) continue;
            if (auto v = go_build_version(data.subspan(i), read_at)) return v;
        }
    }
    return std::nullopt;
}

std::optional<GoRelease> go_release(std::string_view version) {
    if (version.substr(0, 2) != "go") return std::nullopt;
    const char* p = version.data() + 2;
    const char* end = version.data() + version.size();
    GoRelease r;
    auto [after_major, e1] = std::from_chars(p, end, r.major);
    if (e1 != std::errc() || after_major == end || *after_major != '.') return std::nullopt;
    auto [after_minor, e2] = std::from_chars(after_major + 1, end, r.minor);
    if (e2 != std::errc() || r.major < 1 || r.minor < 0) return std::nullopt;
    return r;
}

}  // namespace whoclosed
