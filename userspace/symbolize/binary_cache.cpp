#include "symbolize/binary_cache.h"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>
#include <unordered_set>

namespace whoclosed {

BinaryCache::BinaryCache(Limits limits, std::string debug_root, std::vector<std::string> scan_dirs)
    : limits_(limits),
      debug_root_(std::move(debug_root)),
      scan_dirs_(std::move(scan_dirs)),
      by_file_(limits.binaries),
      by_build_id_(limits.binaries),
      paths_(limits.build_ids) {}

BinaryPtr BinaryCache::by_file(const FileId& id, const std::vector<std::string>& candidates,
                               const std::string& logical_path) {
    if (BinaryPtr* cached = by_file_.get(id)) return *cached;
    BinaryPtr binary;
    for (const std::string& path : candidates) {
        ElfLookup options{debug_root_, logical_path};
        if (auto parsed = ElfSymbols::open(path, nullptr, options)) {
            binary = std::make_shared<const ElfSymbols>(std::move(*parsed));
            break;
        }
    }
    by_file_.put(id, binary);
    if (binary) index(binary, logical_path);
    return binary;
}

void BinaryCache::index(const BinaryPtr& binary, const std::string& path) {
    if (binary->build_id().empty()) return;
    const std::string hex = hex_string(binary->build_id());
    by_build_id_.put(hex, binary);
    paths_.put(hex, path);
}

BinaryPtr BinaryCache::open_checked(const std::string& path, const std::string& hex) {
    auto parsed = ElfSymbols::open(path, nullptr, ElfLookup{debug_root_, path});
    // The file at a remembered path may have been replaced since (upgrade, container paths).
    if (!parsed || hex_string(parsed->build_id()) != hex) return nullptr;
    auto binary = std::make_shared<const ElfSymbols>(std::move(*parsed));
    by_build_id_.put(hex, binary);
    return binary;
}

BinaryPtr BinaryCache::by_build_id(const std::vector<uint8_t>& build_id) {
    if (build_id.empty()) return nullptr;
    const std::string hex = hex_string(build_id);
    if (BinaryPtr* cached = by_build_id_.get(hex)) return *cached;
    if (const std::string* path = paths_.get(hex)) {
        if (BinaryPtr binary = open_checked(*path, hex)) return binary;
    }
    if (scanned_) return nullptr;
    scan_directories();
    const std::string* path = paths_.get(hex);
    return path ? open_checked(*path, hex) : nullptr;
}

std::optional<std::string> BinaryCache::path_of(const std::vector<uint8_t>& build_id) {
    const std::string* path = paths_.get(hex_string(build_id));
    return path ? std::optional<std::string>(*path) : std::nullopt;
}

// Reads only the notes of each file (libelf maps it lazily), once: libraries
// and tools that no live process maps right now but a stack named by build-id.
void BinaryCache::scan_directories() {
    scanned_ = true;
    size_t opened = 0;
    std::unordered_set<FileId, FileIdHash> seen;
    for (const std::string& dir : scan_dirs_) {
        std::error_code ec;
        for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
             it.increment(ec)) {
            if (opened >= limits_.scan_files) return;
            struct stat st {};
            const std::string path = it->path().string();
            if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
            if (!seen.insert({st.st_dev, st.st_ino}).second) continue;
            ++opened;
            auto file = ElfFile::open(path, nullptr);
            if (!file) continue;
            const std::vector<uint8_t> id = file->build_id();
            if (!id.empty()) paths_.put(hex_string(id), path);
        }
    }
}

}  // namespace whoclosed
