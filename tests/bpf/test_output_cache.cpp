// A trace written with -o leaves what reached the disk out of the page
// cache (WrittenPagesDropper), and the file still holds every event. Load:
// conn_loop (tests/bench), ~2 s of loopback connections, two events each.
// Ground truth: conn_loop's own count of connections, and mincore(2) on a
// mapping of the output file.
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/page_cache.h"
#include "support/sockets.h"
#include "support/trace_runner.h"
#include "sink/written_pages.h"

namespace whoclosed::testing {
namespace {

constexpr int kPort = 19461;
constexpr size_t kStretch = WrittenPagesDropper::kStretch;

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

    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const auto pages = cached_pages(tracer.output_path());
    ASSERT_FALSE(pages.empty()) << "cannot map " << tracer.output_path();
    ASSERT_GE(std::filesystem::file_size(tracer.output_path()), 3 * kStretch) << "too few events for three stretches: " << connections
                                                 << " connections";
    // The first stretch went to the disk while two more were written; a
    // page still under writeback when it was dropped may stay.
    const size_t first = count_cached(pages, 0, kStretch / page);
    EXPECT_LT(first, kStretch / page / 2) << "of " << kStretch / page << " pages of the first 8 MiB still cached";
    EXPECT_EQ(pages.back(), 1) << "the newest page is not cached: the file was not written through the page cache?";

    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    EXPECT_EQ(tracer.summary().at("lost"), 0) << tracer.stderr_text();
    EXPECT_EQ(tracer.events_for_port(kPort).size(), 2 * connections);
}

}  // namespace
}  // namespace whoclosed::testing
