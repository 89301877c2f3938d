// The seed case of whoclosed (shared/reference): a Go net/http server with
// keep-alive on, a Go client with DisableKeepAlives. Real peers on loopback,
// tcpdump as ground truth: for every connection, whoclosed must name the
// side tcpdump saw send the first FIN, and put the TIME_WAIT there.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/event_pairs.h"
#include "support/go_peers.h"
#include "support/tcpdump_truth.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kRequests = 20;

struct Peers {
    pid_t server = -1;
    pid_t client = -1;
};

// The first-FIN side says "local" and holds the TIME_WAIT; the other side
// says "remote" and does not. A crossed close is "simultaneous" on both.
void expect_matches_truth(const json& ev, bool first_fin_here, bool crossed) {
    if (crossed) {
        EXPECT_EQ(at(ev, "/first_fin"), "simultaneous") << ev.dump();
        EXPECT_EQ(at(ev, "/time_wait"), true) << ev.dump();
        return;
    }
    EXPECT_EQ(at(ev, "/first_fin"), first_fin_here ? "local" : "remote") << ev.dump();
    EXPECT_EQ(at(ev, "/time_wait"), first_fin_here) << ev.dump();
}

void check_connection(const ConnectionTruth& truth, const EventPair& pair, int port,
                      const Peers& peers) {
    SCOPED_TRACE("client port " + std::to_string(truth.client_port) + ", tcpdump: first FIN from " +
                 to_string(truth.first_fin) + (truth.fins_crossed ? " (FINs crossed)" : ""));
    EXPECT_EQ(truth.syns, 1) << "tcpdump saw the client port reused";
    EXPECT_FALSE(truth.reset) << "tcpdump saw a RST";
    ASSERT_NE(truth.first_fin, Side::none) << "tcpdump saw no FIN";
    ASSERT_EQ(pair.count, 2) << "server event: " << pair.server.dump()
                             << "\nclient event: " << pair.client.dump();
    ASSERT_TRUE(pair.server.is_object() && pair.client.is_object());

    EXPECT_EQ(at(pair.server, "/role"), "server") << pair.server.dump();
    EXPECT_EQ(at(pair.server, "/lport"), port);
    EXPECT_EQ(at(pair.server, "/rport"), truth.client_port);
    EXPECT_EQ(at(pair.client, "/role"), "client") << pair.client.dump();
    EXPECT_EQ(at(pair.client, "/rport"), port);
    EXPECT_EQ(at(pair.client, "/lport"), truth.client_port);

    expect_matches_truth(pair.server, truth.first_fin == Side::server, truth.fins_crossed);
    expect_matches_truth(pair.client, truth.first_fin == Side::client, truth.fins_crossed);

    // Go names the process after its binary: the comm is "server".
    EXPECT_EQ(at(pair.server, "/owner/pid"), peers.server) << pair.server.dump();
    EXPECT_EQ(at(pair.server, "/owner/comm"), "server") << pair.server.dump();
    EXPECT_EQ(at(pair.server, "/closer/pid"), peers.server) << pair.server.dump();
    EXPECT_EQ(at(pair.client, "/owner/pid"), peers.client) << pair.client.dump();
    EXPECT_EQ(at(pair.client, "/owner/comm"), "client") << pair.client.dump();
}

struct SeedRun {
    std::map<int, ConnectionTruth> truth;
    std::vector<json> events;
    json summary;
    Peers peers;
};

// Runs the whole scene on `port`: tcpdump, whoclosed, the Go server, the Go
// client with `client_args`; stops them in reverse order and collects both
// views. Fatal failures abort the caller through HasFatalFailure().
void run_seed_case(int port, std::vector<std::string> client_args, size_t expected_connections,
                   SeedRun& run) {
    TempDir dir;
    const std::string pcap = dir.path() + "/lo.pcap";
    LoopbackCapture capture(pcap, port);
    ASSERT_TRUE(capture.capturing()) << capture.stderr_text();

    TraceRunner trace({"--port", std::to_string(port)});
    ASSERT_TRUE(trace.started()) << trace.stderr_text();

    ChildProcess server({WHOCLOSED_GO_SERVER, "-port", std::to_string(port)});
    ASSERT_TRUE(server.wait_for_stderr("listening on", 10s)) << server.stderr_text();
    run.peers.server = server.pid();

    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
    std::vector<std::string> argv = {WHOCLOSED_GO_CLIENT, "-url", url,
                                     "-n", std::to_string(kRequests), "-sleep", "50ms"};
    argv.insert(argv.end(), client_args.begin(), client_args.end());
    ChildProcess client(argv);
    run.peers.client = client.pid();
    ASSERT_EQ(client.wait(30s), 0) << client.stderr_text();

    // The last close may still be in flight (the server reacts to the
    // client's exit): wait until tcpdump has both FINs of every connection,
    // and a little more for the last ACK, before stopping anyone.
    EXPECT_TRUE(wait_for_closed_connections(pcap, port, expected_connections, 10s));
    usleep(300 * 1000);

    server.stop(SIGTERM, 5s);
    ASSERT_EQ(trace.stop(), 0) << trace.stderr_text();
    EXPECT_EQ(capture.stop(), 0) << capture.stderr_text();

    run.truth = read_connections(pcap, port);
    run.events = trace.events_for_port(port);
    run.summary = trace.summary();
}

// For every connection tcpdump saw: two events that agree with it.
void check_every_connection(const SeedRun& run, int port) {
    EXPECT_EQ(run.events.size(), 2u * run.truth.size());
    auto pairs = pair_events(run.events, port);
    for (const auto& [client_port, truth] : run.truth) {
        check_connection(truth, pairs[client_port], port, run.peers);
        // Without keep-alive the client's own transport closes its socket.
        const json& client_ev = pairs[client_port].client;
        EXPECT_EQ(at(client_ev, "/closer/pid"), run.peers.client) << client_ev.dump();
    }
    EXPECT_EQ(at(run.summary, "/lost"), 0) << run.summary.dump();
}

int count_first_fins(const SeedRun& run, Side side) {
    int n = 0;
    for (const auto& [client_port, truth] : run.truth) n += truth.first_fin == side && !truth.fins_crossed;
    return n;
}

// The blog's case: every request on a new connection with "Connection:
// close"; net/http's server answers and closes first, so the TIME_WAIT
// piles up on the server. The client reads each body 20 ms late, as a
// client across a network would (see client/main.go).
TEST(GoSeedCase, ServerClosesFirstAndHoldsTimeWait) {
    WHOCLOSED_REQUIRE_ROOT();
    REQUIRE_GO_PEERS();
    constexpr int kPort = 19500;
    SeedRun run;
    run_seed_case(kPort, {"-read-delay", "20ms"}, kRequests, run);
    if (HasFatalFailure()) return;

    ASSERT_EQ(run.truth.size(), static_cast<size_t>(kRequests)) << "tcpdump: one connection per request";
    EXPECT_EQ(count_first_fins(run, Side::server), kRequests)
        << "tcpdump: the server should close every connection first";
    check_every_connection(run, kPort);
}

// The same scene with no delay: on loopback the client's transport races
// the server to close, and either may send the first FIN. Whichever did,
// per tcpdump, whoclosed must say so on both sockets.
TEST(GoSeedCase, LoopbackRaceMatchesTcpdumpEitherWay) {
    WHOCLOSED_REQUIRE_ROOT();
    REQUIRE_GO_PEERS();
    constexpr int kPort = 19502;
    SeedRun run;
    run_seed_case(kPort, {}, kRequests, run);
    if (HasFatalFailure()) return;

    ASSERT_EQ(run.truth.size(), static_cast<size_t>(kRequests)) << "tcpdump: one connection per request";
    std::cerr << "tcpdump: first FIN from the server in " << count_first_fins(run, Side::server)
              << ", from the client in " << count_first_fins(run, Side::client) << " of " << kRequests
              << " connections\n";
    check_every_connection(run, kPort);
}

// The same client with keep-alive: one connection carries every request;
// the client exits with it idle, the kernel closes it in process exit, so
// the client sends the first FIN (tcpdump decides, not this comment).
TEST(GoSeedCase, KeepAliveClientClosesOnExit) {
    WHOCLOSED_REQUIRE_ROOT();
    REQUIRE_GO_PEERS();
    constexpr int kPort = 19501;
    SeedRun run;
    run_seed_case(kPort, {"-keepalive"}, 1, run);
    if (HasFatalFailure()) return;

    ASSERT_EQ(run.truth.size(), 1u) << "tcpdump: one connection reused for every request";
    const ConnectionTruth& truth = run.truth.begin()->second;
    EXPECT_EQ(run.events.size(), 2u);
    auto pairs = pair_events(run.events, kPort);
    check_connection(truth, pairs[truth.client_port], kPort, run.peers);

    if (truth.first_fin == Side::client && !truth.fins_crossed) {
        const json& ev = pairs[truth.client_port].client;
        EXPECT_EQ(at(ev, "/closer/pid"), run.peers.client) << ev.dump();
        EXPECT_EQ(at(ev, "/closer/exiting"), true) << ev.dump();
        EXPECT_EQ(at(ev, "/reason"), "process_exit") << ev.dump();
    }
    EXPECT_EQ(at(run.summary, "/lost"), 0) << run.summary.dump();
}

}  // namespace
}  // namespace whoclosed::testing
