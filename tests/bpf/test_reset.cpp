// Connections torn down by a RST instead of FINs: SO_LINGER {1, 0}, and data
// left unread at close. The RST's sender and receiver are different processes.
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "support/close_expect.h"
#include "support/netns.h"
#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

const char* const kClientComm = "wc-rst-client";
const std::vector<std::string> kClientStates{"SYN_SENT", "ESTABLISHED", "CLOSE"};
const std::vector<std::string> kServerStates{"SYN_RECV", "ESTABLISHED", "CLOSE"};

// errno of a read that must fail (0 when it returned EOF or data instead).
int read_errno(int fd) {
    wait_readable(fd, 10000);
    char buf[64];
    return read(fd, buf, sizeof(buf)) < 0 ? errno : 0;
}

struct Ends {
    SockAddr server, client;
};

void expect_no_time_wait(const Ends& e) {
    EXPECT_EQ(time_wait_count(e.client, e.server), 0);
    EXPECT_EQ(time_wait_count(e.server, e.client), 0);
}

// The client (a child) exchanges data, then closes with SO_LINGER {1, 0}:
// no FIN at all, a RST from the client's close().
TEST(Reset, LingerZeroCloseSendsReset) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19201;
    auto t0 = std::chrono::steady_clock::now();
    TraceRunner tracer({"--port", std::to_string(kPort)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", kPort);
    Child client([&](int ctl) {
        set_thread_comm(kClientComm);
        Fd fd = connect_tcp("127.0.0.1", kPort);
        write_bytes(fd.get(), 10);
        read_bytes(fd.get(), 20);
        recv_token(ctl);
        set_linger_zero(fd.get());
        fd.reset();
        send_token(ctl);
        recv_token(ctl);
        return 0;
    });
    Fd conn = accept_tcp(listener.get());
    Ends ends{local_of(conn.get()), peer_of(conn.get())};
    const Task server_task = this_task();
    read_bytes(conn.get(), 10);
    write_bytes(conn.get(), 20);
    send_token(client.ctl());
    recv_token(client.ctl());
    EXPECT_EQ(read_errno(conn.get()), ECONNRESET);  // ground truth: a RST arrived
    conn.reset();
    usleep(50 * 1000);
    expect_no_time_wait(ends);
    send_token(client.ctl());
    EXPECT_EQ(client.wait(), 0);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    const uint64_t netns = current_netns_inode();
    const Task client_task{client.pid(), client.pid(), kClientComm, false};
    auto events = tracer.events_for_port(kPort);
    const auto [cev, sev] = find_close_pair(events, ends.client, ends.server);
    ASSERT_TRUE(cev && sev);
    {
        SCOPED_TRACE("client socket (RST sender)");
        expect_close(*cev, {"ipv4", ends.client, ends.server, netns, "client", "none", "sent", false,
                            kClientStates, {client.pid(), 0, kClientComm}, client_task, 10, 20, "reset"},
                     ms_since(t0));
    }
    {
        // The server's close() sent nothing: the socket was already CLOSE.
        SCOPED_TRACE("server socket (RST receiver)");
        expect_close(*sev, {"ipv4", ends.server, ends.client, netns, "server", "none", "received", false,
                            kServerStates, server_task, std::nullopt, 20, 10, "reset"},
                     ms_since(t0));
    }
    expect_summary(tracer.summary(), "tp_btf");
}

// The server receives bytes, never reads them and closes: tcp_close answers
// unread data with a RST. The client (a child) learns it from ECONNRESET.
TEST(Reset, UnreadDataAtCloseSendsReset) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19202;
    constexpr size_t kUnread = 30;
    auto t0 = std::chrono::steady_clock::now();
    TraceRunner tracer({"--port", std::to_string(kPort)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", kPort);
    Child client([&](int ctl) {
        set_thread_comm(kClientComm);
        Fd fd = connect_tcp("127.0.0.1", kPort);
        write_bytes(fd.get(), kUnread);
        send_token(ctl);
        recv_token(ctl);  // the server has closed
        send_u64(ctl, static_cast<unsigned long long>(read_errno(fd.get())));
        fd.reset();
        recv_token(ctl);
        return 0;
    });
    Fd conn = accept_tcp(listener.get());
    Ends ends{local_of(conn.get()), peer_of(conn.get())};
    const Task server_task = this_task();
    recv_token(client.ctl());
    int pending = 0;
    for (int i = 0; i < 100 && pending < static_cast<int>(kUnread); ++i) {
        usleep(10 * 1000);
        ioctl(conn.get(), FIONREAD, &pending);
    }
    EXPECT_EQ(pending, static_cast<int>(kUnread));  // unread data really is queued
    conn.reset();
    send_token(client.ctl());
    EXPECT_EQ(recv_u64(client.ctl()), static_cast<unsigned long long>(ECONNRESET));
    usleep(50 * 1000);
    expect_no_time_wait(ends);
    send_token(client.ctl());
    EXPECT_EQ(client.wait(), 0);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    const uint64_t netns = current_netns_inode();
    auto events = tracer.events_for_port(kPort);
    const auto [cev, sev] = find_close_pair(events, ends.client, ends.server);
    ASSERT_TRUE(cev && sev);
    // Contract: idle_ms runs from the last payload byte either way; 30 bytes
    // reached this socket ~10 ms before its RST, read by the app or not.
    EXPECT_TRUE(sev->value("idle_ms", nlohmann::json()).is_number())
        << "idle_ms is null although payload arrived before the RST: " << sev->dump();
    {
        SCOPED_TRACE("server socket (RST sender)");
        expect_close(*sev, {"ipv4", ends.server, ends.client, netns, "server", "none", "sent", false,
                            kServerStates, server_task, server_task, 0, 0, "reset"},
                     ms_since(t0));
    }
    {
        SCOPED_TRACE("client socket (RST receiver)");
        expect_close(*cev, {"ipv4", ends.client, ends.server, netns, "client", "none", "received", false,
                            kClientStates, {client.pid(), 0, kClientComm}, std::nullopt, kUnread, 0,
                            "reset"},
                     ms_since(t0));
    }
    expect_summary(tracer.summary(), "tp_btf");
}

}  // namespace
}  // namespace whoclosed::testing
