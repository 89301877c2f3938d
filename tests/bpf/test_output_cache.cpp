// A trace written with -o leaves what reached the disk out of the page
// cache (WrittenPagesDropper), and the file still holds every event. Load:
// conn_loop (tests/bench), ~2 s of loopback connections, two events each.
// Ground truth: conn_loop's own count of connections, and mincore(2) on a
// mapping of the output file.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

constexpr int kPort = 19461;
constexpr size_t kStretch = 8u << 20;  // WrittenPagesDropper::kStretch

// Pages of [from, to) of the file in the page cache, and the file's size.
size_t resident_pages(const std::string& path, size_t from, size_t to, size_t& size) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) return ~size_t{0};
    size = static_cast<size_t>(st.st_size);
    to = std::min(to, size);
    void* map = mmap(nullptr, to, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return ~size_t{0};
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> vec((to + page - 1) / page);
    size_t n = ~size_t{0};
    if (mincore(map, to, vec.data()) == 0) {
        n = 0;
        for (size_t i = from / page; i < vec.size(); i++) n += vec[i] & 1;
    }
    munmap(map, to);
    return n;
}

TEST(OutputCache, ATraceFileKeepsOnlyItsNewestPagesCachedAndEveryEvent) {
    WHOCLOSED_REQUIRE_ROOT();
    TraceRunner tracer({"--port", std::to_string(kPort), "--no-stacks"});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    std::string out;
    ASSERT_EQ(run_capture(std::string(CONN_LOOP_BINARY) + " " + std::to_string(kPort) + " 2", out), 0) << out;
    unsigned long long connections = 0, errors = 0;
    double rate = 0;
    std::istringstream(out) >> connections >> rate >> errors;  // "<connections> <connections/s> <errors>"
    ASSERT_GT(connections, 0u) << out;
    ASSERT_EQ(errors, 0u) << out;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a few ring drains

    size_t size = 0;
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t first = resident_pages(tracer.output_path(), 0, kStretch, size);
    ASSERT_NE(first, ~size_t{0}) << "cannot map " << tracer.output_path();
    ASSERT_GE(size, 3 * kStretch) << "too few events for three stretches: " << connections << " connections";
    // The first stretch went to the disk while two more were written; a
    // page still under writeback when it was dropped may stay.
    EXPECT_LT(first, kStretch / page / 2) << "of " << kStretch / page << " pages of the first 8 MiB still cached";
    size_t size_again = 0;
    EXPECT_GT(resident_pages(tracer.output_path(), size - size % page - page, size, size_again), 0u)
        << "the newest page is not cached: the file was not written through the page cache?";

    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    EXPECT_EQ(tracer.summary().at("lost"), 0) << tracer.stderr_text();
    EXPECT_EQ(tracer.events_for_port(kPort).size(), 2 * connections);
}

}  // namespace
}  // namespace whoclosed::testing
