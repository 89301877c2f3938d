// WrittenPagesDropper: a trace written to a file leaves only its last
// stretches in the page cache, and the file's bytes are unchanged. Ground
// truth: the bytes the test wrote, and mincore(2) on a mapping of the file.
#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sink/ndjson_sink.h"
#include "sink/written_pages.h"

#include "../support/page_cache.h"

namespace whoclosed {
namespace {

using testing::cached_pages;
using testing::count_cached;

constexpr long kTmpfsMagic = 0x01021994;

// A directory on a filesystem that can drop clean pages (not tmpfs).
std::filesystem::path disk_dir() {
    for (const std::filesystem::path& d : {std::filesystem::current_path(), std::filesystem::path("/var/tmp")}) {
        struct statfs fs {};
        if (statfs(d.c_str(), &fs) == 0 && fs.f_type != kTmpfsMagic) return d;
    }
    return {};
}

// Stretch i of the file: bytes that differ per stretch and per position.
std::string stretch_bytes(int i) {
    std::string s(static_cast<size_t>(WrittenPagesDropper::kStretch), '\0');
    for (size_t j = 0; j < s.size(); j++) s[j] = static_cast<char>('a' + (i * 7 + j / 4093) % 26);
    return s;
}

TEST(WrittenPages, StretchesOnDiskLeaveThePageCacheAndTheFileKeepsItsBytes) {
    const auto dir = disk_dir();
    ASSERT_FALSE(dir.empty()) << "no directory off tmpfs to write the test file in";
    const std::string path = (dir / ("wc-written-pages-" + std::to_string(getpid()) + ".ndjson")).string();
    constexpr int kStretches = 4;
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        ASSERT_TRUE(out) << path;
        WrittenPagesDropper dropper(open(path.c_str(), O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(dropper.active());
        for (int i = 0; i < kStretches; i++) {
            const std::string bytes = stretch_bytes(i);
            out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
            out.flush();
            // On disk before the dropper looks: the pages it drops are then
            // clean for sure, whatever the disk's speed.
            int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
            ASSERT_GE(fd, 0);
            ASSERT_EQ(fdatasync(fd), 0);
            close(fd);
            dropper.after_flush();
        }
        // Stretch i is dropped when stretch i + 2 is complete.
        EXPECT_EQ(dropper.dropped_upto(), (kStretches - 2) * WrittenPagesDropper::kStretch);
    }
    const size_t size = static_cast<size_t>(kStretches * WrittenPagesDropper::kStretch);
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t per_stretch = static_cast<size_t>(WrittenPagesDropper::kStretch) / page;
    const auto vec = cached_pages(path);
    ASSERT_EQ(vec.size(), size / page);
    EXPECT_EQ(count_cached(vec, 0, 2 * per_stretch), 0u) << "the first two stretches stayed cached";
    EXPECT_EQ(count_cached(vec, 3 * per_stretch, 4 * per_stretch), per_stretch)
        << "the newest stretch, just written, was dropped";

    std::ifstream in(path, std::ios::binary);
    std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_EQ(back.size(), size);
    for (int i = 0; i < kStretches; i++)
        EXPECT_TRUE(back.compare(static_cast<size_t>(i) * per_stretch * page, per_stretch * page, stretch_bytes(i)) == 0)
            << "stretch " << i << " changed";
    std::filesystem::remove(path);
}

TEST(WrittenPages, NothingToDoOnPipesDevicesOrBadDescriptors) {
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    WrittenPagesDropper on_pipe(p[1]);  // takes the write end and closes it at once
    EXPECT_FALSE(on_pipe.active());
    char c;
    EXPECT_EQ(read(p[0], &c, 1), 0) << "the dropper kept the pipe's write end open";
    close(p[0]);

    WrittenPagesDropper on_null(open("/dev/null", O_WRONLY | O_CLOEXEC));
    EXPECT_FALSE(on_null.active());
    on_null.after_flush();  // harmless
    WrittenPagesDropper none(-1);
    EXPECT_FALSE(none.active());
    none.after_flush();
}

TEST(WrittenPages, TheSinkCallsItsHookAfterTheBatchIsInTheStream) {
    std::ostringstream out;
    NdjsonSink sink(out);
    std::vector<size_t> seen;
    sink.set_after_flush([&] { seen.push_back(out.str().size()); });
    CloseEvent ev;
    sink.write(ev);
    EXPECT_TRUE(seen.empty()) << "the hook ran before the batch ended";
    sink.flush();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0], out.str().size());
    EXPECT_GT(seen[0], 0u);
}

}  // namespace
}  // namespace whoclosed
