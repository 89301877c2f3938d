#include "symbolize/debug_file.h"

#include <sys/stat.h>
#include <zlib.h>

#include <vector>

namespace whoclosed {
namespace {

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa {
    }, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

uint32_t crc_of(const ElfFile& file) {
    const std::span<const uint8_t> bytes = file.file_bytes();
    return static_cast<uint32_t>(crc32_z(0, bytes.data(), bytes.size()));
}

std::optional<ElfFile> open_matching(const std::string& candidate, const ElfFile& binary,
                                     const std::vector<uint8_t>& build_id,
                                     std::optional<uint32_t> crc) {
    if (same_file(candidate, binary.path())) return std::nullopt;
    auto debug = ElfFile::open(candidate, nullptr);
    if (!debug) return std::nullopt;
    const std::vector<uint8_t> debug_id = debug->build_id();
    if (!build_id.empty() && !debug_id.empty()) {
        if (debug_id == build_id) return debug;
        return std::nullopt;
    }
    if (crc && crc_of(*debug) == *crc) return debug;
    return std::nullopt;
}

}  // namespace

std::optional<ElfFile> find_debug_file(const ElfFile& binary, const std::string& logical_path,
                                       const std::string& debug_root) {
    const std::vector<uint8_t> build_id = binary.build_id();
    if (!debug_root.empty() && build_id.size() >= 2) {
        const std::string hex = hex_string(build_id);
        const std::string path =
            debug_root + "/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
        if (auto debug = open_matching(path, binary, build_id, std::nullopt)) return debug;
    }
    const auto link = binary.debuglink();
    if (!link || link->name.find('/') != std::string::npos) return std::nullopt;
    const size_t slash = logical_path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : logical_path.substr(0, slash);
    std::vector<std::string> candidates = {dir + "/" + link->name, dir + "/.debug/" + link->name};
    if (!debug_root.empty() && dir.starts_with("/")) {
        candidates.push_back(debug_root + dir + "/" + link->name);
    }
    for (const std::string& candidate : candidates) {
        if (auto debug = open_matching(candidate, binary, build_id, link->crc)) return debug;
    }
    return std::nullopt;
}

}  // namespace whoclosed
