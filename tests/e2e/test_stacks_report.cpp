// Closing stacks and `trace --report` on the seed case: the Go server's
// close must carry tcp_close in its kernel stack and net/http.(*conn).close
// in its user stack, and the HTML report written at the end must show the
// verdict and those frames in its flame graph.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>
#include <chrono>
#include <string>

#include "support/child_process.h"
#include "support/file_text.h"
#include "support/go_peers.h"
#include "support/nginx.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

bool contains_frame(const json& frames, const std::string& name) {
    return frames.is_array() &&
           std::any_of(frames.begin(), frames.end(), [&](const json& f) { return f == name; });
}

// curl, like Debian's C libraries, has no frame pointers: the kernel's walk
// stops at libc's close. The record then carries the registers and stack
// words at the system call, and .eh_frame rules find the callers in
// libcurl, even though curl has exited by the time the event is read.
// Ground truth: curl closes its connection to a keep-alive nginx itself
// (first FIN local), and this curl links libcurl (ldd says so).
TEST(ClosingStacks, CurlClosesThroughLibcurl) {
    WHOCLOSED_REQUIRE_ROOT();
    WHOCLOSED_REQUIRE(access("/usr/bin/curl", X_OK) == 0, "curl not available");
    FILE* ldd = popen("ldd /usr/bin/curl", "r");
    std::string libs;
    char line[512];
    while (ldd && fgets(line, sizeof line, ldd)) libs += line;
    if (ldd) pclose(ldd);
    ASSERT_NE(libs.find("libcurl.so"), std::string::npos) << libs;
    constexpr int kPort = 19561;
    constexpr int kRuns = 3;
    TempDir dir;
    NginxOptions keep_alive;
    keep_alive.keepalive_timeout = "30s";  // nginx never closes first here
    Nginx nginx(dir.path(), kPort, keep_alive);
    ASSERT_TRUE(nginx.ready()) << nginx.why_not_ready();
    TraceRunner trace({"--port", std::to_string(kPort)});
    ASSERT_TRUE(trace.started()) << trace.stderr_text();
    std::vector<pid_t> curls;
    for (int i = 0; i < kRuns; ++i) {
        ChildProcess curl({"/usr/bin/curl", "-s", "-o", "/dev/null", "http://127.0.0.1:" + std::to_string(kPort) + "/"});
        curls.push_back(curl.pid());
        ASSERT_EQ(curl.wait(10s), 0) << curl.stderr_text();
    }
    usleep(200 * 1000);
    ASSERT_EQ(trace.stop(), 0) << trace.stderr_text();

    int seen = 0, server_seen = 0;
    for (const json& ev : trace.events_for_port(kPort)) {
        if (ev.at("role") == "server") {
            // nginx answers each curl FIN by closing from the same code site:
            // the first close learns that its frame-pointer walk is useless
            // there, the next ones go straight to the .eh_frame unwind.
            SCOPED_TRACE(ev.dump());
            ASSERT_TRUE(ev.at("closer").is_object());
            const json& user = ev.at("closer").at("user_stack");
            ASSERT_GE(user.size(), 2u);
            EXPECT_EQ(user[0], "close");
            EXPECT_TRUE(contains_frame(user, "ngx_close_connection"));
            server_seen++;
            continue;
        }
        if (ev.at("role") != "client") continue;
        SCOPED_TRACE(ev.dump());
        ASSERT_TRUE(ev.at("closer").is_object());
        const json& closer = ev.at("closer");
        EXPECT_NE(std::find(curls.begin(), curls.end(), closer.at("pid").get<pid_t>()), curls.end());
        EXPECT_EQ(ev.at("first_fin"), "local");
        const json& user = closer.at("user_stack");
        ASSERT_GE(user.size(), 2u);
        EXPECT_EQ(user[0], "close");  // libc
        EXPECT_TRUE(std::any_of(user.begin() + 1, user.end(), [](const json& f) {
            return f.get<std::string>().find("libcurl.so") != std::string::npos;
        }));
        EXPECT_TRUE(contains_frame(closer.at("kernel_stack"), "tcp_close"));
        seen++;
    }
    EXPECT_EQ(seen, kRuns);
    EXPECT_EQ(server_seen, kRuns);
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
