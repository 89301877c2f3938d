// Go TLS plaintext (issue 4): a Go HTTPS client against a Go HTTPS server,
// both static Go 1.19 net/http, on loopback. Only uprobes on crypto/tls can
// see these HTTP heads; every expected value is what the test configured or
// sent. The probes must reach processes started after `trace` (exec watch)
// and before it (scan at start), stripped binaries included, and neither Go
// program may crash (uretprobes would: SIGILL).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/event_pairs.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kRequests = 3;
constexpr const char* kPath = "/tls/probe";
constexpr const char* kQuery = "?token=never-captured";

struct GoBinaries {
    const char* server;
    const char* client;
};

bool built(const GoBinaries& b) { return std::string(b.server).size() && std::string(b.client).size(); }

// A self-signed certificate for 127.0.0.1, made fresh in `dir`.
bool make_certificate(const TempDir& dir) {
    return run_shell("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
                     dir.path() + "/key.pem -out " + dir.path() + "/cert.pem >/dev/null 2>&1") == 0;
}

std::vector<std::string> server_argv(const GoBinaries& b, const TempDir& dir, int port) {
    return {b.server, "-port", std::to_string(port), "-cert", dir.path() + "/cert.pem", "-key",
            dir.path() + "/key.pem"};
}

void expect_go_http(const json& ev) {
    const std::string dump = ev.dump();
    EXPECT_EQ(at(ev, "/http/source"), "uprobe:go") << dump;
    EXPECT_EQ(at(ev, "/http/last_request/method"), "GET") << dump;
    EXPECT_EQ(at(ev, "/http/last_request/path"), kPath) << dump;
    EXPECT_EQ(at(ev, "/http/last_request/user_agent"), "Go-http-client/1.1") << dump;
    EXPECT_EQ(at(ev, "/http/last_request/connection"), "close") << dump;
    EXPECT_EQ(at(ev, "/http/last_response/status"), 200) << dump;
    EXPECT_EQ(dump.find("never-captured"), std::string::npos) << dump;
}

// The scene on `port`: the server starts before `trace` when
// `server_first`, else after; the client always after (found by its exec),
// waiting a second before its first request so that the tracer, which
// drains exec events on its 100 ms timer, has attached.
void run_case(const GoBinaries& bins, int port, bool server_first) {
    TempDir dir;
    ASSERT_TRUE(make_certificate(dir)) << "openssl req -x509 failed";

    std::optional<ChildProcess> server;
    if (server_first) {
        server.emplace(server_argv(bins, dir, port));
        ASSERT_TRUE(server->wait_for_stderr("listening on", 10s)) << server->stderr_text();
    }
    TraceRunner trace({"--port", std::to_string(port)});
    ASSERT_TRUE(trace.started()) << trace.stderr_text();
    if (!server_first) {
        server.emplace(server_argv(bins, dir, port));
        ASSERT_TRUE(server->wait_for_stderr("listening on", 10s)) << server->stderr_text();
    }
    // Attaching takes a while on a busy machine: start talking only once the
    // tracer says the server's executable is covered (by its scan or exec).
    ASSERT_TRUE(trace.wait_for_stderr("Go probes attached to", 20s)) << trace.stderr_text();

    const std::string url = "https://127.0.0.1:" + std::to_string(port) + kPath + kQuery;
    ChildProcess client({bins.client, "-url", url, "-n", std::to_string(kRequests), "-delay", "2s"});
    EXPECT_EQ(client.wait(30s), 0) << client.stderr_text();
    usleep(500 * 1000);  // the last close, then its final ACK

    // Killed by our SIGTERM, not by a crash of its own (SIGILL, SIGSEGV).
    EXPECT_EQ(server->stop(SIGTERM, 5s), 128 + SIGTERM) << server->stderr_text();
    ASSERT_EQ(trace.stop(), 0) << trace.stderr_text();

    const std::map<int, EventPair> pairs = pair_events(trace.events_for_port(port), port);
    EXPECT_EQ(pairs.size(), static_cast<size_t>(kRequests));
    for (const auto& [client_port, pair] : pairs) {
        SCOPED_TRACE("client port " + std::to_string(client_port));
        ASSERT_EQ(pair.count, 2) << pair.server.dump() << '\n' << pair.client.dump();
        EXPECT_EQ(at(pair.server, "/role"), "server");
        EXPECT_EQ(at(pair.client, "/role"), "client");
        expect_go_http(pair.server);
        expect_go_http(pair.client);
    }
}

class GoTls : public ::testing::Test {
protected:
    void SetUp() override {
        WHOCLOSED_REQUIRE_ROOT();
        WHOCLOSED_REQUIRE(built({WHOCLOSED_GO_TLSSERVER, WHOCLOSED_GO_TLSCLIENT}),
                          "Go HTTPS peers not built (no Go toolchain)");
    }
};

TEST_F(GoTls, ProcessesStartedAfterTraceAreProbedAtExec) {
    run_case({WHOCLOSED_GO_TLSSERVER, WHOCLOSED_GO_TLSCLIENT}, 19800, false);
}

TEST_F(GoTls, ServerRunningBeforeTraceIsProbedByTheStartScan) {
    run_case({WHOCLOSED_GO_TLSSERVER, WHOCLOSED_GO_TLSCLIENT}, 19801, true);
}

TEST_F(GoTls, StrippedBinariesAreProbedThroughGopclntab) {
    run_case({WHOCLOSED_GO_TLSSERVER_STRIPPED, WHOCLOSED_GO_TLSCLIENT_STRIPPED}, 19802, false);
}

}  // namespace
}  // namespace whoclosed::testing
