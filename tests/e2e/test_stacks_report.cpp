// Closing stacks and `trace --report` on the seed case: the Go server's
// close must carry tcp_close in its kernel stack and net/http.(*conn).close
// in its user stack, and the HTML report written at the end must show the
// verdict and those frames in its flame graph.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "support/child_process.h"
#include "support/file_text.h"
#include "support/go_peers.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

bool contains_frame(const json& frames, const std::string& name) {
    return frames.is_array() &&
           std::any_of(frames.begin(), frames.end(), [&](const json& f) { return f == name; });
}

TEST(ClosingStacks, GoServerClosesFromNetHttpAndTheReportShowsIt) {
    WHOCLOSED_REQUIRE_ROOT();
    REQUIRE_GO_PEERS();
    constexpr int kPort = 19560;
    constexpr int kRequests = 5;
    TempDir dir;
    const std::string html = dir.path() + "/report.html";
    TraceRunner trace({"--port", std::to_string(kPort), "--report", html});
    ASSERT_TRUE(trace.started()) << trace.stderr_text();

    ChildProcess server({WHOCLOSED_GO_SERVER, "-port", std::to_string(kPort)});
    ASSERT_TRUE(server.wait_for_stderr("listening on", 10s)) << server.stderr_text();
    ChildProcess client({WHOCLOSED_GO_CLIENT, "-url", "http://127.0.0.1:" + std::to_string(kPort) + "/",
                         "-n", std::to_string(kRequests), "-sleep", "20ms", "-read-delay", "20ms"});
    ASSERT_EQ(client.wait(30s), 0) << client.stderr_text();
    usleep(300 * 1000);
    const pid_t server_pid = server.pid();
    server.stop(SIGTERM, 5s);
    ASSERT_EQ(trace.stop(), 0) << trace.stderr_text();

    int server_closes = 0;
    for (const json& ev : trace.events_for_port(kPort)) {
        if (ev.at("role") != "server") continue;
        SCOPED_TRACE(ev.dump());
        ASSERT_TRUE(ev.at("closer").is_object());
        EXPECT_EQ(ev.at("closer").at("pid"), server_pid);
        const json& closer = ev.at("closer");
        EXPECT_TRUE(contains_frame(closer.at("kernel_stack"), "tcp_close"));
        EXPECT_TRUE(contains_frame(closer.at("user_stack"), "net/http.(*conn).close"));
        EXPECT_TRUE(contains_frame(closer.at("user_stack"), "net/http.(*conn).serve"));
        // Innermost first: the syscall wrapper comes before net/http.
        const json& user = closer.at("user_stack");
        auto close_at = std::find(user.begin(), user.end(), json("net/http.(*conn).close"));
        auto syscall_at = std::find(user.begin(), user.end(), json("syscall.Close"));
        EXPECT_LT(syscall_at - user.begin(), close_at - user.begin());
        server_closes++;
    }
    EXPECT_EQ(server_closes, kRequests);

    const std::string page = slurp(html);
    ASSERT_FALSE(page.empty()) << "no report at " << html;
    EXPECT_NE(page.find("id=\"verdict\""), std::string::npos);
    EXPECT_NE(page.find("id=\"flamegraph\""), std::string::npos);
    EXPECT_NE(page.find("server:" + std::to_string(kPort)), std::string::npos);
    EXPECT_NE(page.find("net/http.(*conn).close"), std::string::npos);
    EXPECT_NE(page.find("tcp_close"), std::string::npos);
}

}  // namespace
}  // namespace whoclosed::testing
