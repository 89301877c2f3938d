#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "correlate/cgroup_resolver.h"

namespace whoclosed {
namespace {

namespace fs = std::filesystem;

uint64_t inode(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_ino;
}

// A fake cgroup2 tree in a temp dir: ids are directory inodes, as in cgroupfs.
class CgroupResolverTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/whoclosed-cgroup-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root = tmpl;
        fs::create_directories(root / "system.slice" / "web.service");
        fs::create_directories(root / "user.slice");
        std::FILE* f = std::fopen((root / "cgroup.procs").c_str(), "w");  // files are not cgroups
        std::fclose(f);
    }
    void TearDown() override { fs::remove_all(root); }

    std::chrono::steady_clock::time_point now{};
    SysfsCgroupResolver::Clock clock() {
        return [this] { return now; };
    }
    fs::path root;
};

TEST_F(CgroupResolverTest, MapsDirectoryInodesToPaths) {
    SysfsCgroupResolver r(root.string(), 16384, std::chrono::seconds(1), clock());
    EXPECT_EQ(r.path_for(inode(root)), "/");
    EXPECT_EQ(r.path_for(inode(root / "system.slice" / "web.service")), "/system.slice/web.service");
    EXPECT_EQ(r.path_for(inode(root / "user.slice")), "/user.slice");
    EXPECT_EQ(r.path_for(0), std::nullopt);
    EXPECT_EQ(r.path_for(inode(root / "cgroup.procs")), std::nullopt);
}

TEST_F(CgroupResolverTest, RescansAtMostOncePerInterval) {
    SysfsCgroupResolver r(root.string(), 16384, std::chrono::seconds(1), clock());
    EXPECT_EQ(r.path_for(inode(root / "user.slice")), "/user.slice");  // scans at t=0
    fs::create_directories(root / "new.scope");
    const uint64_t id = inode(root / "new.scope");
    now += std::chrono::milliseconds(999);
    EXPECT_EQ(r.path_for(id), std::nullopt);  // too soon to walk the tree again
    now += std::chrono::milliseconds(1);
    EXPECT_EQ(r.path_for(id), "/new.scope");
}

TEST_F(CgroupResolverTest, BoundedCacheStillResolvesTheWantedId) {
    for (int i = 0; i < 20; ++i) fs::create_directories(root / ("c" + std::to_string(i)));
    SysfsCgroupResolver r(root.string(), 4, std::chrono::seconds(0), clock());
    for (int i = 0; i < 20; ++i) {
        const std::string name = "c" + std::to_string(i);
        EXPECT_EQ(r.path_for(inode(root / name)), "/" + name);
    }
}

TEST(CgroupMount, FindsAMountPoint) {
    const std::string m = find_cgroup2_mount();
    ASSERT_FALSE(m.empty());
    EXPECT_EQ(m.front(), '/');
}

}  // namespace
}  // namespace whoclosed
