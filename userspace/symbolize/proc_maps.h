// /proc/PID/maps -> the executable mappings a user stack can point into.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace whoclosed {

struct Module {
    uint64_t start = 0, end = 0;  // [start, end) in the process
    uint64_t offset = 0;          // file offset mapped at start
    uint64_t dev = 0;             // makedev(major, minor)
    uint64_t inode = 0;           // 0 for anonymous and special mappings
    std::string path;             // "[vdso]" for special mappings, "" for anonymous ones
    bool deleted = false;         // the file was replaced or removed since it was mapped

    bool is_file() const { return inode != 0 && !path.empty() && path[0] == '/'; }
    // What a frame prints when no symbol covers it: "libc.so.6", "[vdso]", "[anon]".
    std::string display_name() const;
};

// Executable mappings only, sorted by start. Lines that do not parse are skipped.
std::vector<Module> parse_proc_maps(std::string_view text);

// Reads <proc_root>/<pid>/maps; nullopt if the process is gone or unreadable.
std::optional<std::vector<Module>> read_proc_maps(const std::string& proc_root, pid_t pid);

// The module containing ip in a sorted list, or nullptr.
const Module* find_module(const std::vector<Module>& modules, uint64_t ip);

}  // namespace whoclosed
