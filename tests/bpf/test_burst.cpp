// A burst of short connections: every one of them must come out as exactly
// two events, with nothing lost. The server closes first, so the TIME_WAITs
// stay on the server side. Every client socket binds a (loopback address,
// port) pair of its own and the server port is fresh per run, so no 4-tuple
// repeats while its TIME_WAIT lives: a new connection meeting an old
// TIME_WAIT (the kernel reusing it) is a different case, see the notes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/close_expect.h"
#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

int kPort = 0;  // an ephemeral port, chosen per run by the listener
constexpr int kConnections = 20000;
constexpr int kClientThreads = 2;

// Accepts kConnections and closes each at once: the server's FIN goes first.
void serve(int listen_fd, std::atomic<int>& accepted, std::atomic<int>& failures) {
    while (accepted.load() < kConnections) {
        try {
            Fd conn = accept_tcp(listen_fd);
            ++accepted;
        } catch (const std::exception&) {
            ++failures;
            return;
        }
    }
}

// The burst's sockets on kPort by the kernel's own account (`ss -e`), but
// the listener: only the burst's own (the clients bind 127.0.0.2 and up),
// not another test's orphan that happens to have kPort as its ephemeral
// port.
std::string burst_lines() {
    std::string out;
    const std::string port = std::to_string(kPort);
    std::string peers;
    for (int t = 0; t < kClientThreads; ++t) {
        const std::string addr = "127.0.0." + std::to_string(2 + t);
        peers += (peers.empty() ? "" : " or ") + std::string("src ") + addr + " or dst " + addr;
    }
    if (run_capture("ss -tanHe state all '( sport = :" + port + " or dport = :" + port + " ) and ( " + peers +
                        " )' | grep -v -e LISTEN",
                    out) > 1)
        return "ss failed: " + out;
    return out;
}

std::string lines_where(bool timewait) {
    std::istringstream in(burst_lines());
    std::string line, out;
    while (std::getline(in, line))
        if ((line.find("timer:(timewait") != std::string::npos) == timewait) out += line + '\n';
    return out;
}

// Full sockets of the burst not yet destroyed (whoclosed reports a socket at
// its destroy): a burst on a loaded machine can leave a few waiting on a
// retransmission for longer than a fixed sleep. Timewait sockets are not
// full sockets, whatever state `ss` gives them: a server socket closed
// while its FIN awaited the peer's (FIN-WAIT-2, no file) is destroyed and
// handed to a timewait socket in that sub-state, which `ss` shows as
// FIN-WAIT-2 until the peer's FIN arrives.
std::string unfinished_lines() { return lines_where(false); }

int unfinished_sockets() {
    const std::string lines = unfinished_lines();
    return static_cast<int>(std::count(lines.begin(), lines.end(), '\n'));
}

// Timewait sockets of the burst still waiting for the peer's FIN.
std::string fin_wait_timewaits() {
    std::istringstream in(lines_where(true));
    std::string line, out;
    while (std::getline(in, line))
        if (line.rfind("FIN-WAIT-2", 0) == 0) out += line + '\n';
    return out;
}

// Connects n times; each time waits for the server's EOF, then closes.
void connect_many(int n, std::string from, int first_port, std::atomic<int>& completed,
                  std::atomic<int>& failures) {
    for (int i = 0; i < n; ++i) {
        try {
            Fd fd = connect_tcp("127.0.0.1", kPort, from, first_port + i);
            if (read_until_eof(fd.get()) != 0) ++failures;
            ++completed;
        } catch (const std::exception&) {
            ++failures;
        }
    }
}

// TcpExtTCPTimeWaitOverflow: closes whose TIME_WAIT the kernel dropped
// because net.ipv4.tcp_max_tw_buckets was reached.
long tw_overflows() {
    std::string out;
    if (run_capture("nstat -az TcpExtTCPTimeWaitOverflow | awk '/TCPTimeWaitOverflow/ {print $2}'", out) != 0 ||
        out.empty())
        return -1;
    return std::stol(out);
}

// Raises tcp_max_tw_buckets for the test's life: on a small machine the
// default (scaled to memory) is below the burst's 20,000 TIME_WAITs, and the
// kernel would then drop them, making "the server holds TIME_WAIT" untrue.
class TimeWaitRoom {
public:
    explicit TimeWaitRoom(long at_least) {
        std::string out;
        if (run_capture("sysctl -n net.ipv4.tcp_max_tw_buckets", out) == 0 && !out.empty()) {
            old_ = std::stol(out);
            if (old_ < at_least) run_capture("sysctl -qw net.ipv4.tcp_max_tw_buckets=" + std::to_string(at_least), out);
        }
    }
    ~TimeWaitRoom() {
        std::string out;
        if (old_ >= 0) run_capture("sysctl -qw net.ipv4.tcp_max_tw_buckets=" + std::to_string(old_), out);
    }

private:
    long old_ = -1;
};

TEST(Burst, TwentyThousandConnectionsNothingLost) {
    WHOCLOSED_REQUIRE_ROOT();
    TimeWaitRoom room(1 << 20);
    const long overflows_before = tw_overflows();
    ASSERT_GE(overflows_before, 0) << "cannot read TcpExtTCPTimeWaitOverflow (nstat)";
    Fd listener = listen_tcp("127.0.0.1", 0);
    kPort = local_of(listener.get()).port;
    TraceRunner tracer({"--port", std::to_string(kPort)}, {"WHOCLOSED_DEBUG=1"});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    std::atomic<int> accepted{0}, completed{0}, failures{0};
    std::thread server(serve, listener.get(), std::ref(accepted), std::ref(failures));
    std::vector<std::thread> clients;
    for (int t = 0; t < kClientThreads; ++t)
        clients.emplace_back(connect_many, kConnections / kClientThreads,
                             "127.0.0." + std::to_string(2 + t), 10000 + t * (kConnections / kClientThreads), std::ref(completed),
                             std::ref(failures));
    for (auto& c : clients) c.join();
    if (accepted.load() < kConnections) shutdown(listener.get(), SHUT_RDWR);  // unblock accept
    server.join();
    ASSERT_EQ(failures.load(), 0);
    ASSERT_EQ(completed.load(), kConnections);
    ASSERT_EQ(accepted.load(), kConnections);
    for (int i = 0; i < 100 && unfinished_sockets() != 0; ++i) usleep(100 * 1000);
    ASSERT_EQ(unfinished_sockets(), 0) << "sockets of the burst still closing after 10 s:\n" << unfinished_lines();
    // Seen twice here under load, never explained: a server's timewait
    // socket left in FIN-WAIT-2 for its whole minute, the client socket gone.
    // Both full sockets were destroyed, so both events must be there; said
    // on stdout so that the events checked below can be read against it.
    if (const std::string waiting = fin_wait_timewaits(); !waiting.empty())
        std::cout << "burst: timewait sockets still awaiting the client's FIN:\n" << waiting;
    usleep(100 * 1000);  // their destroy runs just after the final transition
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    // The expectations below assume every server close kept its TIME_WAIT.
    ASSERT_EQ(tw_overflows(), overflows_before) << "the kernel dropped TIME_WAITs (tcp_max_tw_buckets)";
    SCOPED_TRACE("tracer's stderr: " + tracer.stderr_text());  // says what kind of loss

    expect_summary(tracer.summary(), "tp_btf");
    auto events = tracer.events_for_port(kPort);
    EXPECT_EQ(events.size(), 2u * kConnections);
    std::map<std::string, int> by_role, server_fin, client_fin;
    int server_tw = 0, client_tw = 0, no_tw_shown = 0, unfinished = 0, completed_late = 0;
    for (const auto& e : events) {
        const std::string role = e.value("role", "");
        // Every socket here really reached CLOSE (the test waited for its
        // EOF or the client's close): a state list that stops short means
        // whoclosed missed transitions, which `lost` must then count.
        const auto states = e.value("states", std::vector<std::string>{});
        if (states.empty() || states.back() != "CLOSE")
            if (++unfinished <= 3) ADD_FAILURE() << "socket that never reached CLOSE: " << e.dump();
        // A record the end-of-trace sweep completed (the kernel ran its last
        // transitions without whoclosed's hooks, see README "Limits") has no
        // duration; the tracer must say how many there were.
        if (!e["duration_ms"].is_number()) ++completed_late;
        ++by_role[role];
        if (role == "server") {
            ++server_fin[e.value("first_fin", "")];
            server_tw += e.value("time_wait", false);
            if (!e.value("time_wait", false) && ++no_tw_shown <= 3) ADD_FAILURE() << "server without TIME_WAIT: " << e.dump();
        } else {
            ++client_fin[e.value("first_fin", "")];
            client_tw += e.value("time_wait", false);
        }
    }
    EXPECT_EQ(unfinished, 0);
    const std::string err = tracer.stderr_text();
    if (completed_late == 0) {
        EXPECT_EQ(err.find("completed from the socket table"), std::string::npos) << err;
    } else {
        std::cout << "burst: " << completed_late << " event(s) completed by the end-of-trace sweep\n";
        EXPECT_NE(err.find(", " + std::to_string(completed_late) + " completed from the socket table"),
                  std::string::npos)
            << completed_late << " events without a duration, not all reported as completed: " << err;
    }
    EXPECT_EQ(by_role["server"], kConnections);
    if (by_role["server"] != kConnections || by_role["client"] != kConnections) {
        // Which connection lost an end: the other end's event tells.
        std::map<std::string, int> ends;
        auto client_end = [](const nlohmann::json& e) {
            bool is_server = e.value("role", "") == "server";
            return e.value(is_server ? "raddr" : "laddr", "") + ":" +
                   std::to_string(e.value(is_server ? "rport" : "lport", 0));
        };
        for (const auto& e : events) ends[client_end(e)]++;
        int shown = 0;
        for (const auto& e : events)
            if (ends[client_end(e)] != 2 && ++shown <= 3) ADD_FAILURE() << "connection with one end only: " << e.dump();
    }
    EXPECT_EQ(by_role["client"], kConnections);
    EXPECT_EQ(server_fin["local"], kConnections);
    EXPECT_EQ(client_fin["remote"], kConnections);
    EXPECT_EQ(server_tw, kConnections);
    EXPECT_EQ(client_tw, 0);
}

// The reader held up (SIGSTOP) while 8,000 HTTP connections open and close:
// what they leave in the ring (two records and four heads each, ~3 KB per
// connection, more than the 16 MiB the ring once had) waits there, and all
// of it comes out once the reader resumes: every event, each with its
// request and response, nothing lost.
TEST(Burst, HttpBurstWhileTheReaderIsStoppedIsKeptWhole) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kHttp = 8000;
    const std::string request = "GET /burst HTTP/1.1\r\nHost: wc\r\nConnection: close\r\n\r\n";
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    TimeWaitRoom room(1 << 20);
    Fd listener = listen_tcp("127.0.0.1", 0);
    const int port = local_of(listener.get()).port;
    TraceRunner tracer({"--port", std::to_string(port)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    ASSERT_EQ(::kill(tracer.pid(), SIGSTOP), 0);
    int done = 0;
    try {
        for (; done < kHttp; ++done) {
            Fd client = connect_tcp("127.0.0.1", port, "127.0.0.4", 20000 + done);
            Fd server = accept_tcp(listener.get());
            write_text(client.get(), request);
            read_bytes(server.get(), request.size());
            write_text(server.get(), response);
            server.reset();  // the server's FIN first
            if (read_until_eof(client.get()) != response.size()) break;
        }
    } catch (const std::exception& e) {
        ADD_FAILURE() << "connection " << done << ": " << e.what();
    }
    ::kill(tracer.pid(), SIGCONT);
    ASSERT_EQ(done, kHttp);
    usleep(200 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    SCOPED_TRACE("tracer's stderr: " + tracer.stderr_text());

    EXPECT_EQ(tracer.summary().value("lost", -1), 0);
    const auto events = tracer.events_for_port(port);
    EXPECT_EQ(events.size(), 2u * kHttp);
    int with_http = 0, bad = 0;
    for (const auto& e : events) {
        const auto& http = e["http"];
        const bool ok = http.is_object() && http.value("requests", 0) == 1 &&
                        http["last_request"].is_object() && http["last_request"].value("path", "") == "/burst" &&
                        http["last_response"].is_object() && http["last_response"].value("status", 0) == 200;
        if (ok) ++with_http;
        else if (++bad <= 3) ADD_FAILURE() << "event without its HTTP exchange: " << e.dump();
    }
    EXPECT_EQ(with_http, 2 * kHttp);
}

}  // namespace
}  // namespace whoclosed::testing
