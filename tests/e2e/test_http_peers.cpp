// The `http` object and `reason` of close events, checked against real HTTP
// peers on loopback (issue 4): Go net/http on both ends, nginx with a 1 s
// keep-alive timeout, curl, python3's http.server. Every expected value is
// either what the test configured or sent, or what tcpdump saw on the wire
// (who sent the first FIN); none is taken from whoclosed's own output.
// Both sockets of every connection are checked: the contract judges
// `reason` per socket, as "why the side that closed first closed".
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/event_pairs.h"
#include "support/go_peers.h"
#include "support/nginx.h"
#include "support/tcpdump_truth.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string loopback_url(int port, const std::string& path = "/") {
    return "http://127.0.0.1:" + std::to_string(port) + path;
}

std::string host_header(int port) { return "127.0.0.1:" + std::to_string(port); }

// python3 of the system when there is one: a pyenv shim is a shell script
// that may not find its interpreter under ctest's environment.
std::string python3() { return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3"; }

bool have_program(const std::string& name) {
    return run_shell("command -v " + name + " >/dev/null 2>&1") == 0;
}

// The User-Agent curl sends by default, "curl/<version>", from curl itself.
std::string curl_user_agent() {
    std::string first;
    if (FILE* p = popen("curl --version 2>/dev/null", "r")) {
        char buf[256];
        if (fgets(buf, sizeof(buf), p)) first = buf;
        pclose(p);
    }
    std::istringstream in(first);  // "curl 7.88.1 (x86_64-pc-linux-gnu) ..."
    std::string name, version;
    in >> name >> version;
    return name == "curl" && !version.empty() ? "curl/" + version : "";
}

// tcpdump and whoclosed around one server port, started before any peer
// and stopped by finish() once every connection is closed on the wire.
class Observation {
public:
    explicit Observation(int port)
        : port_(port), pcap_(dir_.path() + "/lo.pcap"), capture_(pcap_, port),
          trace_({"--port", std::to_string(port)}) {}

    bool ready() const { return capture_.capturing() && trace_.started(); }
    std::string why_not_ready() const { return capture_.stderr_text() + trace_.stderr_text(); }
    const std::string& dir() const { return dir_.path(); }

    // Waits until tcpdump has `connections` connections with both FINs,
    // then stops the tracer and tcpdump and reads both views.
    void finish(size_t connections) {
        EXPECT_TRUE(wait_for_closed_connections(pcap_, port_, connections, 10s))
            << "tcpdump did not see " << connections << " closed connection(s) on port " << port_;
        usleep(300 * 1000);  // the last ACK, and the tracer's ring buffer
        EXPECT_EQ(trace_.stop(), 0) << trace_.stderr_text();
        EXPECT_EQ(capture_.stop(), 0) << capture_.stderr_text();
        truth = read_connections(pcap_, port_);
        events = trace_.events_for_port(port_);
        summary = trace_.summary();
        output = trace_.output_text();
    }

    std::map<int, ConnectionTruth> truth;  // by client port
    std::vector<json> events;
    json summary;
    std::string output;  // the tracer's output file, verbatim

private:
    int port_;
    TempDir dir_;
    std::string pcap_;
    LoopbackCapture capture_;
    TraceRunner trace_;
};

// What the test knows a connection carried: it configured or sent all of it.
struct HttpExpect {
    std::string method = "GET";
    std::string path = "/";
    std::string version = "HTTP/1.1";
    std::string host;
    json connection;  // the request's Connection header; null when none was sent
    std::string user_agent;
    int status = 200;
    std::optional<std::string> response_version;  // checked when the server is known to use it
    int requests = 1;
};

void expect_http(const json& ev, const HttpExpect& x) {
    const std::string dump = ev.dump();
    ASSERT_TRUE(at(ev, "/http").is_object()) << "no http object: " << dump;
    // Plaintext under --http auto goes through the syscall path.
    EXPECT_EQ(at(ev, "/http/source"), "syscall") << dump;
    EXPECT_EQ(at(ev, "/http/requests"), x.requests) << dump;
    EXPECT_EQ(at(ev, "/http/last_request/method"), x.method) << dump;
    EXPECT_EQ(at(ev, "/http/last_request/path"), x.path) << dump;
    EXPECT_EQ(at(ev, "/http/last_request/version"), x.version) << dump;
    EXPECT_EQ(at(ev, "/http/last_request/host"), x.host) << dump;
    EXPECT_EQ(at(ev, "/http/last_request/connection"), x.connection) << dump;
    EXPECT_EQ(at(ev, "/http/last_request/user_agent"), x.user_agent) << dump;
    EXPECT_EQ(at(ev, "/http/last_response/status"), x.status) << dump;
    if (x.response_version) {
        EXPECT_EQ(at(ev, "/http/last_response/version"), *x.response_version) << dump;
    }
}

// Both sockets of a connection carried the same request and response.
void expect_http(const EventPair& pair, const HttpExpect& x) {
    expect_http(pair.server, x);
    expect_http(pair.client, x);
}

// The reason each socket of a connection gives for its close.
void expect_reasons(const EventPair& pair, const char* server, const char* client) {
    EXPECT_EQ(at(pair.server, "/reason"), server) << pair.server.dump();
    EXPECT_EQ(at(pair.client, "/reason"), client) << pair.client.dump();
}

// Both events of one connection exist, face each other, and name the side
// tcpdump saw send the first FIN (which must not have crossed the other).
void expect_pair_matches_truth(const ConnectionTruth& truth, const EventPair& pair, int port) {
    ASSERT_EQ(pair.count, 2) << "server event: " << pair.server.dump()
                             << "\nclient event: " << pair.client.dump();
    ASSERT_TRUE(pair.server.is_object() && pair.client.is_object());
    EXPECT_EQ(at(pair.server, "/role"), "server") << pair.server.dump();
    EXPECT_EQ(at(pair.server, "/rport"), truth.client_port) << pair.server.dump();
    EXPECT_EQ(at(pair.client, "/role"), "client") << pair.client.dump();
    EXPECT_EQ(at(pair.client, "/lport"), truth.client_port) << pair.client.dump();
    EXPECT_EQ(at(pair.client, "/rport"), port) << pair.client.dump();
    EXPECT_EQ(at(pair.server, "/reset"), "none") << pair.server.dump();
    EXPECT_EQ(at(pair.client, "/reset"), "none") << pair.client.dump();
    if (truth.fins_crossed) {
        EXPECT_EQ(at(pair.server, "/first_fin"), "simultaneous") << pair.server.dump();
        EXPECT_EQ(at(pair.client, "/first_fin"), "simultaneous") << pair.client.dump();
        return;
    }
    const bool server_first = truth.first_fin == Side::server;
    EXPECT_EQ(at(pair.server, "/first_fin"), server_first ? "local" : "remote") << pair.server.dump();
    EXPECT_EQ(at(pair.client, "/first_fin"), server_first ? "remote" : "local") << pair.client.dump();
}

std::string truth_text(const ConnectionTruth& t) {
    return "client port " + std::to_string(t.client_port) + ", tcpdump: first FIN from " +
           to_string(t.first_fin) + (t.fins_crossed ? " (FINs crossed)" : "") +
           (t.reset ? ", RST seen" : "");
}

// ---------------------------------------------------------------------------
// 1. Go 1.19 client with DisableKeepAlives → Go net/http server

// Every request asks "Connection: close" on its own connection; the client
// reads each body 30 ms late, so net/http's server answers and closes
// first (tcpdump must agree). The contract's reason is why the first closer
// closed, on both sockets: the request asked for it.
TEST(HttpPeers, GoClientConnectionCloseToGoServer) {
    WHOCLOSED_REQUIRE_ROOT();
    REQUIRE_GO_PEERS();
    constexpr int kPort = 19700;
    constexpr int kRequests = 5;

    Observation obs(kPort);
    ASSERT_TRUE(obs.ready()) << obs.why_not_ready();
    ChildProcess server({WHOCLOSED_GO_SERVER, "-port", std::to_string(kPort)});
    ASSERT_TRUE(server.wait_for_stderr("listening on", 10s)) << server.stderr_text();
    const pid_t server_pid = server.pid();
    ChildProcess client({WHOCLOSED_GO_CLIENT, "-url", loopback_url(kPort), "-n", std::to_string(kRequests),
                         "-sleep", "50ms", "-read-delay", "30ms"});
    const pid_t client_pid = client.pid();
    ASSERT_EQ(client.wait(20s), 0) << client.stderr_text();
    obs.finish(kRequests);
    server.stop(SIGTERM, 5s);

    ASSERT_EQ(obs.truth.size(), static_cast<size_t>(kRequests)) << "tcpdump: one connection per request";
    EXPECT_EQ(obs.events.size(), 2u * kRequests);
    HttpExpect x;
    x.host = host_header(kPort);
    x.connection = "close";  // DisableKeepAlives: net/http sends it on every request
    x.user_agent = "Go-http-client/1.1";
    auto pairs = pair_events(obs.events, kPort);
    for (const auto& [client_port, truth] : obs.truth) {
        SCOPED_TRACE(truth_text(truth));
        ASSERT_FALSE(truth.reset);
        ASSERT_FALSE(truth.fins_crossed) << "the read delay should let the server close alone";
        ASSERT_EQ(truth.first_fin, Side::server) << "the read delay should let the server close first";
        const EventPair& pair = pairs[client_port];
        expect_pair_matches_truth(truth, pair, kPort);
        if (HasFatalFailure()) return;
        EXPECT_EQ(at(pair.server, "/time_wait"), true) << pair.server.dump();
        EXPECT_EQ(at(pair.server, "/owner/pid"), server_pid) << pair.server.dump();
        EXPECT_EQ(at(pair.client, "/owner/pid"), client_pid) << pair.client.dump();
        expect_http(pair, x);
        expect_reasons(pair, "request_connection_close", "request_connection_close");
    }
    EXPECT_EQ(at(obs.summary, "/lost"), 0) << obs.summary.dump();
}

// ---------------------------------------------------------------------------
// 2. Go client with keep-alive: N requests on one connection

constexpr int kKeepAliveRequests = 4;

struct KeepAliveRun {
    ConnectionTruth truth;
    EventPair pair;
};

void run_keepalive(int port, bool close_idle, KeepAliveRun& run) {
    Observation obs(port);
    ASSERT_TRUE(obs.ready()) << obs.why_not_ready();
    ChildProcess server({WHOCLOSED_GO_SERVER, "-port", std::to_string(port)});
    ASSERT_TRUE(server.wait_for_stderr("listening on", 10s)) << server.stderr_text();
    std::vector<std::string> argv = {WHOCLOSED_GO_CLIENT, "-url", loopback_url(port), "-n",
                                     std::to_string(kKeepAliveRequests), "-sleep", "50ms", "-keepalive"};
    if (close_idle) argv.push_back("-close-idle");
    ChildProcess client(argv);
    ASSERT_EQ(client.wait(20s), 0) << client.stderr_text();
    obs.finish(1);
    server.stop(SIGTERM, 5s);

    ASSERT_EQ(obs.truth.size(), 1u) << "tcpdump: one connection reused for every request";
    run.truth = obs.truth.begin()->second;
    SCOPED_TRACE(truth_text(run.truth));
    ASSERT_FALSE(run.truth.reset);
    ASSERT_FALSE(run.truth.fins_crossed);
    // net/http's server has no idle timeout here: only the client ends it.
    ASSERT_EQ(run.truth.first_fin, Side::client);
    EXPECT_EQ(obs.events.size(), 2u);
    run.pair = pair_events(obs.events, port)[run.truth.client_port];
    expect_pair_matches_truth(run.truth, run.pair, port);
    if (::testing::Test::HasFatalFailure()) return;

    HttpExpect x;
    x.host = host_header(port);
    x.connection = nullptr;  // a keep-alive HTTP/1.1 request from net/http has no Connection header
    x.user_agent = "Go-http-client/1.1";
    x.requests = kKeepAliveRequests;
    expect_http(run.pair, x);
    EXPECT_EQ(at(obs.summary, "/lost"), 0) << obs.summary.dump();
}

// The client closes its idle connection itself, from a live process: the
// client closed first after its last response, on both sockets.
TEST(HttpPeers, GoKeepAliveClientClosesIdleConnection) {
    WHOCLOSED_REQUIRE_ROOT();
    REQUIRE_GO_PEERS();
    KeepAliveRun run;
    run_keepalive(19702, /*close_idle=*/true, run);
    if (HasFatalFailure()) return;
    SCOPED_TRACE(truth_text(run.truth));
    EXPECT_EQ(at(run.pair.client, "/closer/exiting"), false) << run.pair.client.dump();
    expect_reasons(run.pair, "client_close", "client_close");
}

// The client exits with the connection idle: the kernel closes it during
// the exit. On the client's socket process_exit outranks client_close; the
// server's socket only sees the client close after its last response.
TEST(HttpPeers, GoKeepAliveClientExits) {
    WHOCLOSED_REQUIRE_ROOT();
    REQUIRE_GO_PEERS();
    KeepAliveRun run;
    run_keepalive(19704, /*close_idle=*/false, run);
    if (HasFatalFailure()) return;
    SCOPED_TRACE(truth_text(run.truth));
    EXPECT_EQ(at(run.pair.client, "/closer/exiting"), true) << run.pair.client.dump();
    expect_reasons(run.pair, "client_close", "process_exit");
}

// ---------------------------------------------------------------------------
// 3 and 5. nginx

// The scene of the nginx tests: curl's User-Agent, tcpdump and whoclosed on
// `port`, then nginx. Fatal failures end the caller through HasFatalFailure().
struct NginxScene {
    std::string curl_ua;
    std::optional<Observation> obs;
    std::optional<Nginx> nginx;  // declared after obs: stopped before it
};

void start_nginx_scene(int port, NginxScene& scene) {
    scene.curl_ua = curl_user_agent();
    ASSERT_EQ(scene.curl_ua.rfind("curl/", 0), 0u) << "curl --version said no version";
    scene.obs.emplace(port);
    ASSERT_TRUE(scene.obs->ready()) << scene.obs->why_not_ready();
    scene.nginx.emplace(scene.obs->dir(), port);
    ASSERT_TRUE(scene.nginx->ready()) << scene.nginx->why_not_ready();
}

// One keep-alive request, the whole response read, then idle until the
// server closes (EOF) or 5 s pass. Exit 0 on EOF after a 200, 3 otherwise.
constexpr const char* kIdleClient = R"PY(
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
sys.stderr.write("client port %d\n" % s.getsockname()[1])
sys.stderr.flush()
s.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: idle-client/1.0\r\n\r\n" % port).encode())
data = b""
while b"\r\n\r\n" not in data:
    chunk = s.recv(4096)
    if not chunk: sys.exit(2)
    data += chunk
head, body = data.split(b"\r\n\r\n", 1)
length = 0
for line in head.split(b"\r\n")[1:]:
    k, _, v = line.partition(b":")
    if k.strip().lower() == b"content-length": length = int(v)
while len(body) < length:
    chunk = s.recv(4096)
    if not chunk: sys.exit(2)
    body += chunk
if not head.startswith(b"HTTP/1.1 200"): sys.exit(3)
s.settimeout(5)
start = time.monotonic()
try:
    eof = s.recv(4096) == b""
except socket.timeout:
    eof = False
sys.stderr.write("idle %.3f s, eof %s\n" % (time.monotonic() - start, eof))
s.close()
sys.exit(0 if eof else 3)
)PY";

// nginx closes a keep-alive connection idle for its keepalive_timeout (1s):
// nginx's socket sends the first FIN after >= 1 s without payload. The
// client's socket sees the same gap before the remote FIN: the first closer
// closed for idleness there too. curl, on a second connection, closes its
// socket itself once it has the response (close() before exit_group).
TEST(HttpPeers, NginxKeepAliveTimeoutClosesIdleClient) {
    WHOCLOSED_REQUIRE_ROOT();
    WHOCLOSED_REQUIRE(have_program("nginx"), "nginx not available");
    WHOCLOSED_REQUIRE(have_program("curl"), "curl not available");
    constexpr int kPort = 19710;
    NginxScene scene;
    start_nginx_scene(kPort, scene);
    if (HasFatalFailure()) return;
    Observation& obs = *scene.obs;
    const std::string& curl_ua = scene.curl_ua;

    ChildProcess idle({python3(), "-c", kIdleClient, std::to_string(kPort)});
    const pid_t idle_pid = idle.pid();
    EXPECT_EQ(idle.wait(10s), 0) << idle.stderr_text();
    // The idle client names its own port; curl's connection is the other one.
    int idle_port = 0;
    sscanf(idle.stderr_text().c_str(), "client port %d", &idle_port);
    ASSERT_GT(idle_port, 0) << idle.stderr_text();
    ChildProcess curl({"curl", "-s", "-o", "/dev/null", loopback_url(kPort)});
    const pid_t curl_pid = curl.pid();
    EXPECT_EQ(curl.wait(10s), 0) << curl.stderr_text();
    obs.finish(2);

    ASSERT_EQ(obs.truth.size(), 2u) << "tcpdump: the idle client's and curl's connections";
    EXPECT_EQ(obs.events.size(), 4u);
    ASSERT_EQ(obs.truth.count(idle_port), 1u) << "tcpdump did not see the idle client's port " << idle_port;
    auto pairs = pair_events(obs.events, kPort);
    for (const auto& [client_port, truth] : obs.truth) {
        SCOPED_TRACE(truth_text(truth));
        ASSERT_FALSE(truth.reset);
        ASSERT_FALSE(truth.fins_crossed);
        const EventPair& pair = pairs[client_port];
        expect_pair_matches_truth(truth, pair, kPort);
        if (HasFatalFailure()) return;
        HttpExpect x;
        x.host = host_header(kPort);
        x.connection = nullptr;  // neither client sends a Connection header
        x.response_version = "HTTP/1.1";
        if (client_port == idle_port) {
            ASSERT_EQ(truth.first_fin, Side::server) << "nginx's keepalive_timeout should end the idle connection";
            x.user_agent = "idle-client/1.0";
            expect_http(pair, x);
            for (const json* ev : {&pair.server, &pair.client}) {
                EXPECT_EQ(at(*ev, "/reason"), "idle_timeout") << ev->dump();
                const json idle_ms = at(*ev, "/idle_ms");
                EXPECT_TRUE(idle_ms.is_number() && idle_ms.get<double>() >= 1000.0) << ev->dump();
            }
            EXPECT_EQ(at(pair.server, "/owner/comm"), "nginx") << pair.server.dump();
            EXPECT_EQ(at(pair.client, "/owner/pid"), idle_pid) << pair.client.dump();
        } else {
            ASSERT_EQ(truth.first_fin, Side::client) << "curl should close before nginx's 1 s timeout";
            x.user_agent = curl_ua;
            expect_http(pair, x);
            const std::string ua = at(pair.client, "/http/last_request/user_agent").is_string()
                                       ? at(pair.client, "/http/last_request/user_agent").get<std::string>()
                                       : "";
            EXPECT_EQ(ua.rfind("curl/", 0), 0u) << pair.client.dump();
            EXPECT_EQ(at(pair.client, "/owner/pid"), curl_pid) << pair.client.dump();
            expect_reasons(pair, "client_close", "client_close");
        }
    }
    EXPECT_EQ(at(obs.summary, "/lost"), 0) << obs.summary.dump();
}

// Authorization, Cookie and the query string never reach the output; the
// path does, without its query.
TEST(HttpPeers, SecretsNeverReachTheOutput) {
    WHOCLOSED_REQUIRE_ROOT();
    WHOCLOSED_REQUIRE(have_program("nginx"), "nginx not available");
    WHOCLOSED_REQUIRE(have_program("curl"), "curl not available");
    constexpr int kPort = 19720;
    NginxScene scene;
    start_nginx_scene(kPort, scene);
    if (HasFatalFailure()) return;
    Observation& obs = *scene.obs;
    const std::string& curl_ua = scene.curl_ua;
    ChildProcess curl({"curl", "-s", "-o", "/dev/null", "-H", "Authorization: Bearer s3cr3t", "-H", "Cookie: k=v",
                       loopback_url(kPort, "/path?token=abc")});
    EXPECT_EQ(curl.wait(10s), 0) << curl.stderr_text();
    obs.finish(1);

    ASSERT_FALSE(obs.output.empty()) << "the tracer wrote nothing";
    for (const char* secret : {"s3cr3t", "Bearer", "k=v", "token=abc", "?token"})
        EXPECT_EQ(obs.output.find(secret), std::string::npos) << "\"" << secret << "\" in the output:\n" << obs.output;

    ASSERT_EQ(obs.truth.size(), 1u);
    const ConnectionTruth& truth = obs.truth.begin()->second;
    SCOPED_TRACE(truth_text(truth));
    ASSERT_FALSE(truth.reset);
    ASSERT_FALSE(truth.fins_crossed);
    ASSERT_EQ(truth.first_fin, Side::client) << "curl should close before nginx's 1 s timeout";
    EXPECT_EQ(obs.events.size(), 2u);
    const EventPair pair = pair_events(obs.events, kPort)[truth.client_port];
    expect_pair_matches_truth(truth, pair, kPort);
    if (HasFatalFailure()) return;
    HttpExpect x;
    x.path = "/path";
    x.host = host_header(kPort);
    x.connection = nullptr;
    x.user_agent = curl_ua;
    expect_http(pair, x);
    expect_reasons(pair, "client_close", "client_close");
}

// ---------------------------------------------------------------------------
// 4. curl --http1.0 → python3 -m http.server

// HTTP/1.0 without keep-alive: http.server answers and closes. On loopback
// curl, which closes as soon as it has Content-Length bytes, races the
// server's shutdown() and mostly wins. So curl reads a 512 KiB file at
// 2 MB/s: http.server's last write returns, and its FIN goes out, while
// curl still has ~100 ms of data to read, and the server closes first.
TEST(HttpPeers, Curl10ToPythonHttpServer) {
    WHOCLOSED_REQUIRE_ROOT();
    WHOCLOSED_REQUIRE(have_program("curl"), "curl not available");
    WHOCLOSED_REQUIRE(have_program(python3()), "python3 not available");
    constexpr int kPort = 19730;
    constexpr int kConnections = 3;
    const std::string curl_ua = curl_user_agent();
    ASSERT_EQ(curl_ua.rfind("curl/", 0), 0u) << "curl --version said no version";

    Observation obs(kPort);
    ASSERT_TRUE(obs.ready()) << obs.why_not_ready();
    const std::string www = obs.dir() + "/www";
    std::filesystem::create_directories(www);
    {
        std::ofstream f(www + "/big.bin", std::ios::binary);
        std::string block(64 * 1024, 'x');
        for (int i = 0; i < 8; ++i) f << block;
    }
    ChildProcess server({python3(), "-m", "http.server", "--bind", "127.0.0.1", "--directory", www,
                         std::to_string(kPort)});
    ASSERT_TRUE(wait_for_listener(kPort, 10s)) << server.stderr_text();
    std::vector<pid_t> curl_pids;
    for (int i = 0; i < kConnections; ++i) {
        ChildProcess curl({"curl", "-s", "--http1.0", "--limit-rate", "2M", "-o", "/dev/null", loopback_url(kPort, "/big.bin")});
        curl_pids.push_back(curl.pid());
        EXPECT_EQ(curl.wait(10s), 0) << curl.stderr_text();
    }
    obs.finish(kConnections);
    const pid_t server_pid = server.pid();
    server.stop(SIGTERM, 5s);

    ASSERT_EQ(obs.truth.size(), static_cast<size_t>(kConnections));
    EXPECT_EQ(obs.events.size(), 2u * kConnections);
    auto pairs = pair_events(obs.events, kPort);
    HttpExpect x;
    x.path = "/big.bin";
    x.version = "HTTP/1.0";
    x.host = host_header(kPort);
    x.connection = nullptr;  // curl --http1.0 sends no Connection header
    x.user_agent = curl_ua;
    x.response_version = "HTTP/1.0";  // SimpleHTTPRequestHandler's protocol_version
    for (const auto& [client_port, truth] : obs.truth) {
        SCOPED_TRACE(truth_text(truth));
        ASSERT_FALSE(truth.reset);
        ASSERT_FALSE(truth.fins_crossed);
        ASSERT_EQ(truth.first_fin, Side::server) << "http.server should close first (HTTP/1.0)";
        const EventPair& pair = pairs[client_port];
        expect_pair_matches_truth(truth, pair, kPort);
        if (HasFatalFailure()) return;
        EXPECT_EQ(at(pair.server, "/owner/pid"), server_pid) << pair.server.dump();
        expect_http(pair, x);
        expect_reasons(pair, "request_connection_close", "request_connection_close");
    }
    EXPECT_EQ(at(obs.summary, "/lost"), 0) << obs.summary.dump();
}

}  // namespace
}  // namespace whoclosed::testing
