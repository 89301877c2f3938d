#include "correlate/cgroup_resolver.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace whoclosed {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            const std::string oct = s.substr(i + 1, 3);
            if (oct.find_first_not_of("01234567") == std::string::npos) {
                out += static_cast<char>(std::stoi(oct, nullptr, 8));
                i += 3;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

std::optional<uint64_t> inode_of(const std::filesystem::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    return static_cast<uint64_t>(st.st_ino);
}

}  // namespace

std::string find_cgroup2_mount() {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        // "36 35 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw"
        const size_t dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream tail(line.substr(dash + 3));
        std::string fstype;
        tail >> fstype;
        if (fstype != "cgroup2") continue;
        std::istringstream head(line.substr(0, dash));
        std::string id, parent, devno, root, mount_point;
        if (head >> id >> parent >> devno >> root >> mount_point) return unescape_mountinfo(mount_point);
    }
    return "/sys/fs/cgroup";
}

SysfsCgroupResolver::SysfsCgroupResolver(std::string root, size_t max_entries,
                                         std::chrono::milliseconds rescan_interval, Clock clock)
    : root_(std::move(root)), max_entries_(max_entries), rescan_interval_(rescan_interval),
      clock_(std::move(clock)) {}

std::optional<std::string> SysfsCgroupResolver::path_for(uint64_t id) {
    if (id == 0) return std::nullopt;
    if (auto it = paths_.find(id); it != paths_.end()) return it->second;
    const auto now = clock_();
    if (last_scan_ && now - *last_scan_ < rescan_interval_) return std::nullopt;
    last_scan_ = now;
    rescan(id);
    if (auto it = paths_.find(id); it != paths_.end()) return it->second;
    return std::nullopt;
}

// Rebuilds the cache from a fresh walk, so removed cgroups drop out (their
// ids are never reused while the kernel is up, but the memory should not grow).
void SysfsCgroupResolver::rescan(uint64_t wanted) {
    namespace fs = std::filesystem;
    paths_.clear();
    const fs::path root(root_);
    auto add = [&](uint64_t ino, std::string path) {
        if (paths_.size() < max_entries_ || ino == wanted) paths_.emplace(ino, std::move(path));
    };
    if (auto ino = inode_of(root)) add(*ino, "/");
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        // cgroupfs holds only directories (cgroups) and control files.
        if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
        if (auto ino = inode_of(it->path())) add(*ino, "/" + it->path().lexically_relative(root).string());
    }
}

}  // namespace whoclosed
