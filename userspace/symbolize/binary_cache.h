// Parsed binaries shared by every process that maps them, keyed by
// (dev, inode) and by build-id, each cache bounded with LRU eviction; plus
// an index build-id -> path so that build-id stack frames resolve after the
// process that mapped the binary has exited. Not thread-safe: the owner
// (ProcessSymbolizer) serializes calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "symbolize/elf_symbols.h"
#include "symbolize/lru_cache.h"

namespace whoclosed {

using BinaryPtr = std::shared_ptr<const ElfSymbols>;

struct FileId {
    uint64_t dev = 0, inode = 0;
    bool operator==(const FileId&) const = default;
};

struct FileIdHash {
    size_t operator()(const FileId& id) const {
        return std::hash<uint64_t>()(id.dev * 0x9e3779b97f4a7c15ULL ^ id.inode);
    }
};

class BinaryCache {
public:
    struct Limits {
        size_t binaries = 256;      // parsed binaries kept per key kind
        size_t build_ids = 65536;   // build-id -> path index entries
        size_t scan_files = 20000;  // files read by one directory scan
    };

    BinaryCache(Limits limits, std::string debug_root, std::vector<std::string> scan_dirs);

    // The binary with this identity, opened from the first of `candidates`
    // that parses; `logical_path` is where it lives on the host. A failure
    // is cached too (null), so a broken file is not reopened for every frame.
    BinaryPtr by_file(const FileId& id, const std::vector<std::string>& candidates,
                      const std::string& logical_path);

    // The binary with this identity if one was opened (or failed: null) before.
    const BinaryPtr* cached(const FileId& id) { return by_file_.get(id); }
    // The binary with this build-id (raw bytes), from binaries seen so far
    // or, once per BinaryCache, a scan of the scan directories.
    BinaryPtr by_build_id(const std::vector<uint8_t>& build_id);
    // Where a build-id was last seen, if anywhere.
    std::optional<std::string> path_of(const std::vector<uint8_t>& build_id);

private:
    BinaryPtr open_checked(const std::string& path, const std::string& hex);
    void index(const BinaryPtr& binary, const std::string& path);
    void scan_directories();

    Limits limits_;
    std::string debug_root_;
    std::vector<std::string> scan_dirs_;
    bool scanned_ = false;
    LruCache<FileId, BinaryPtr, FileIdHash> by_file_;
    LruCache<std::string, BinaryPtr> by_build_id_;
    LruCache<std::string, std::string> paths_;  // hex build-id -> path
};

}  // namespace whoclosed
