// connect() again on a socket whose first connect() failed: the kernel
// lets the same socket (same cookie) start a second life, CLOSE -> SYN_SENT
// once more. Each life is its own close event. On loopback the refusing RST
// is processed from the socket's backlog inside connect(), at task level;
// test_softirq.cpp has the variant where it arrives in a softirq.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "support/close_expect.h"
#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

constexpr int kRefusedPort = 19610;  // nothing listens here: the first connect() gets a RST
constexpr int kOpenPort = 19611;

TEST(Reconnect, SecondConnectOnTheSameSocketIsANewLife) {
    WHOCLOSED_REQUIRE_ROOT();
    // One CPU for the whole exchange, so both CLOSE -> SYN_SENT hits land
    // on the same per-CPU guard state.
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);

    auto t0 = std::chrono::steady_clock::now();
    TraceRunner tracer({"--port", std::to_string(kRefusedPort) + "," + std::to_string(kOpenPort)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    Fd listener = listen_tcp("127.0.0.1", kOpenPort);

    Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons(kRefusedPort);
    ASSERT_NE(connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    ASSERT_EQ(errno, ECONNREFUSED);  // ground truth: the first life ended in a RST
    const SockAddr first_local = local_of(fd.get());
    to.sin_port = htons(kOpenPort);
    ASSERT_EQ(connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0) << std::strerror(errno);
    const SockAddr second_local = local_of(fd.get());
    Fd conn = accept_tcp(listener.get());
    write_bytes(fd.get(), 10);
    read_bytes(conn.get(), 10);
    fd.reset();  // the client closes first
    EXPECT_EQ(read_until_eof(conn.get()), 0u);
    conn.reset();
    usleep(50 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    const auto refused = tracer.events_for_port(kRefusedPort);
    const nlohmann::json* first = find_close(refused, first_local, {"127.0.0.1", kRefusedPort});
    ASSERT_TRUE(first) << "no event for the refused connect";
    EXPECT_EQ((*first)["states"], nlohmann::json({"SYN_SENT", "CLOSE"}));
    EXPECT_EQ((*first)["reset"], "received");
    EXPECT_EQ((*first)["owner"]["pid"], getpid());

    const auto open = tracer.events_for_port(kOpenPort);
    const nlohmann::json* second = find_close(open, second_local, {"127.0.0.1", kOpenPort});
    ASSERT_TRUE(second) << "no event for the second life";
    EXPECT_EQ((*second)["states"],
              nlohmann::json({"SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"}));
    EXPECT_EQ((*second)["first_fin"], "local");
    EXPECT_EQ((*second)["reset"], "none");
    EXPECT_EQ((*second)["owner"]["pid"], getpid());
    EXPECT_EQ((*second)["closer"]["pid"], getpid());
    EXPECT_EQ((*second)["bytes_sent"], 10);
    EXPECT_EQ((*first)["cookie"], (*second)["cookie"]);  // one socket, two lives
    EXPECT_LT(ms_since(t0), 60000);
}

}  // namespace
}  // namespace whoclosed::testing
