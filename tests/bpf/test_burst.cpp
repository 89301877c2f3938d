// A burst of short connections: every one of them must come out as exactly
// two events, with nothing lost. The server closes first, so the TIME_WAITs
// stay on the server side and the client's ephemeral ports stay free.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "support/close_expect.h"
#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

constexpr int kPort = 19501;
constexpr int kConnections = 20000;
constexpr int kClientThreads = 4;

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

// Connects n times; each time waits for the server's EOF, then closes.
void connect_many(int n, std::atomic<int>& completed, std::atomic<int>& failures) {
    for (int i = 0; i < n; ++i) {
        try {
            Fd fd = connect_tcp("127.0.0.1", kPort);
            if (read_until_eof(fd.get()) != 0) ++failures;
            ++completed;
        } catch (const std::exception&) {
            ++failures;
        }
    }
}

TEST(Burst, TwentyThousandConnectionsNothingLost) {
    WHOCLOSED_REQUIRE_ROOT();
    TraceRunner tracer({"--port", std::to_string(kPort)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", kPort);
    std::atomic<int> accepted{0}, completed{0}, failures{0};
    std::thread server(serve, listener.get(), std::ref(accepted), std::ref(failures));
    std::vector<std::thread> clients;
    for (int t = 0; t < kClientThreads; ++t)
        clients.emplace_back(connect_many, kConnections / kClientThreads, std::ref(completed),
                             std::ref(failures));
    for (auto& c : clients) c.join();
    if (accepted.load() < kConnections) shutdown(listener.get(), SHUT_RDWR);  // unblock accept
    server.join();
    ASSERT_EQ(failures.load(), 0);
    ASSERT_EQ(completed.load(), kConnections);
    ASSERT_EQ(accepted.load(), kConnections);
    usleep(200 * 1000);  // the last final ACKs cross loopback
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    expect_summary(tracer.summary(), "tp_btf");
    auto events = tracer.events_for_port(kPort);
    EXPECT_EQ(events.size(), 2u * kConnections);
    std::map<std::string, int> by_role, server_fin, client_fin;
    int server_tw = 0, client_tw = 0, no_tw_shown = 0, unfinished = 0;
    for (const auto& e : events) {
        const std::string role = e.value("role", "");
        // Every socket here really reached CLOSE (the test waited for its
        // EOF or the client's close): a state list that stops short means
        // whoclosed missed transitions, which `lost` must then count.
        const auto states = e.value("states", std::vector<std::string>{});
        if (states.empty() || states.back() != "CLOSE" || !e["duration_ms"].is_number())
            if (++unfinished <= 3) ADD_FAILURE() << "socket that never reached CLOSE: " << e.dump();
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
    EXPECT_EQ(by_role["server"], kConnections);
    EXPECT_EQ(by_role["client"], kConnections);
    EXPECT_EQ(server_fin["local"], kConnections);
    EXPECT_EQ(client_fin["remote"], kConnections);
    EXPECT_EQ(server_tw, kConnections);
    EXPECT_EQ(client_tw, 0);
}

}  // namespace
}  // namespace whoclosed::testing
