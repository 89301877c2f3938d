// cgroup v2 id -> path below the cgroup2 mount ("/system.slice/web.service").
// The kernel's cgroup id (bpf_get_current_cgroup_id) is the kernfs node id,
// which is the inode number of the cgroup's directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

namespace whoclosed {

class CgroupResolver {
public:
    virtual ~CgroupResolver() = default;
    // nullopt when the id is 0 (unknown) or no such cgroup exists (any more).
    virtual std::optional<std::string> path_for(uint64_t id) = 0;
};

// Where cgroup2 is mounted (from /proc/self/mountinfo); "/sys/fs/cgroup" if
// it cannot tell. On hybrid hosts this is e.g. /sys/fs/cgroup/unified.
std::string find_cgroup2_mount();

// Walks the cgroup2 tree on a miss. Not thread-safe: owned by the single
// consumer thread. Cgroups come and go (one per service restart, per
// container), so the cache is bounded and a miss rescans at most once per
// rescan_interval, which also caps the cost of ids that no longer exist.
class SysfsCgroupResolver final : public CgroupResolver {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    explicit SysfsCgroupResolver(std::string root = find_cgroup2_mount(), size_t max_entries = 16384,
                                 std::chrono::milliseconds rescan_interval = std::chrono::seconds(1),
                                 Clock clock = std::chrono::steady_clock::now);

    std::optional<std::string> path_for(uint64_t id) override;

private:
    void rescan(uint64_t wanted);

    std::string root_;
    size_t max_entries_;
    std::chrono::milliseconds rescan_interval_;
    Clock clock_;
    std::optional<std::chrono::steady_clock::time_point> last_scan_;
    std::unordered_map<uint64_t, std::string> paths_;
};

}  // namespace whoclosed
