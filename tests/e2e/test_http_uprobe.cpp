// `--http uprobe` (issue 4): plaintext HTTP through uprobes only, no
// syscall path. curl and python3's http.server go through libc's send and
// recv (strace shows sendto/recvfrom), so their heads must come from the
// libc probes. Every expected value is what the test sent or
// configured; the summary must say the mode that ran.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json at(const json& e, const char* pointer) {
    json::json_pointer p(pointer);
    return e.contains(p) ? e.at(p) : json();
}

bool have_program(const char* name) {
    return run_shell(std::string("command -v ") + name + " >/dev/null 2>&1") == 0;
}

// python3 of the system when there is one: a pyenv shim is a shell script.
std::string python3() { return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3"; }

#define REQUIRE_PEER(ok, what)                                                                  \
    do {                                                                                        \
        if (!(ok)) {                                                                            \
            if (may_skip_kernel_tests()) GTEST_SKIP() << what << " not available";              \
            FAIL() << what << " not available, and WHOCLOSED_REQUIRE_BPF=1 forbids skipping";   \
        }                                                                                       \
    } while (0)

void expect_head(const json& ev, const char* source, const std::string& path, const std::string& ua,
                 int status) {
    const std::string dump = ev.dump();
    EXPECT_EQ(at(ev, "/http/source"), source) << dump;
    EXPECT_EQ(at(ev, "/http/requests"), 1) << dump;
    EXPECT_EQ(at(ev, "/http/last_request/method"), "GET") << dump;
    EXPECT_EQ(at(ev, "/http/last_request/path"), path) << dump;
    EXPECT_EQ(at(ev, "/http/last_request/user_agent"), ua) << dump;
    EXPECT_EQ(at(ev, "/http/last_response/status"), status) << dump;
    EXPECT_EQ(dump.find("never-captured"), std::string::npos) << dump;
}

TEST(HttpUprobe, CurlToPythonHttpServerThroughLibc) {
    WHOCLOSED_REQUIRE_ROOT();
    REQUIRE_PEER(have_program("curl"), "curl");
    REQUIRE_PEER(have_program("python3"), "python3");
    constexpr int kPort = 19950;
    TempDir dir;
    std::ofstream(dir.path() + "/hello.txt") << "hello\n";

    TraceRunner trace({"--port", std::to_string(kPort), "--http", "uprobe"});
    ASSERT_TRUE(trace.started()) << trace.stderr_text();
    // Started after `trace`: the probes are on the libc file, not a process.
    ChildProcess server({python3(), "-m", "http.server", std::to_string(kPort), "--bind", "127.0.0.1",
                         "--directory", dir.path()});
    usleep(500 * 1000);  // curl retries a refused connect until python listens
    const std::string url = "http://127.0.0.1:" + std::to_string(kPort) + "/hello.txt?k=never-captured";
    ChildProcess curl({"curl", "-s", "-o", "/dev/null", "--retry", "5", "--retry-connrefused",
                       "--retry-delay", "1", "-A", "uprobe-test/1.0", url});
    EXPECT_EQ(curl.wait(20s), 0) << curl.stderr_text();
    usleep(300 * 1000);
    server.stop(SIGTERM, 5s);
    ASSERT_EQ(trace.stop(), 0) << trace.stderr_text();

    EXPECT_EQ(at(trace.summary(), "/http_mode"), "uprobe") << trace.summary().dump();
    int server_events = 0, client_events = 0;
    for (const json& ev : trace.events_for_port(kPort)) {
        if (at(ev, "/http").is_null()) continue;  // a refused connect of curl's retries
        expect_head(ev, "uprobe:libc", "/hello.txt", "uprobe-test/1.0", 200);
        (at(ev, "/role") == "server" ? server_events : client_events)++;
    }
    EXPECT_EQ(server_events, 1) << trace.output_text();
    EXPECT_EQ(client_events, 1) << trace.output_text();
}

}  // namespace
}  // namespace whoclosed::testing
