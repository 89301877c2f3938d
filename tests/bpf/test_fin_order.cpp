// Who sent the first FIN, who holds TIME_WAIT: an orderly close on loopback
// with the client and the server in different processes, so that the task a
// softirq interrupted can never pass for the closer.
#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "support/close_expect.h"
#include "support/netns.h"
#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

constexpr size_t kRequestBytes = 100;
constexpr size_t kResponseBytes = 50;
const char* const kClientComm = "wc-fin-client";

struct Outcome {
    SockAddr server_local, client_local;  // the client's end, from the server's getpeername
    pid_t client_pid = 0;
    Task server_task;
    int tw_on_client = -1, tw_on_server = -1;  // `ss state time-wait` lines per side
};

// A forked client sends kRequestBytes and reads kResponseBytes; then whoever
// closes first does so, and the other side reads EOF before closing.
Outcome run_orderly_close(const std::string& addr, int port, bool client_first) {
    Outcome out;
    Fd listener = listen_tcp(addr, port);
    Child client([&](int ctl) {
        set_thread_comm(kClientComm);
        Fd fd = connect_tcp(addr, port);
        write_bytes(fd.get(), kRequestBytes);
        read_bytes(fd.get(), kResponseBytes);
        recv_token(ctl);  // the server says who goes first
        if (!client_first && read_until_eof(fd.get()) != 0) return 2;
        fd.reset();
        send_token(ctl);
        recv_token(ctl);  // stay alive until the parent looked at ss
        return 0;
    });
    out.client_pid = client.pid();
    Fd conn = accept_tcp(listener.get());
    out.server_local = local_of(conn.get());
    out.client_local = peer_of(conn.get());
    out.server_task = this_task();
    read_bytes(conn.get(), kRequestBytes);
    write_bytes(conn.get(), kResponseBytes);
    if (client_first) {
        send_token(client.ctl());
        recv_token(client.ctl());
        EXPECT_EQ(read_until_eof(conn.get()), 0u);
        conn.reset();
    } else {
        conn.reset();
        send_token(client.ctl());
        recv_token(client.ctl());
    }
    usleep(100 * 1000);  // the last ACK crosses loopback
    out.tw_on_client = time_wait_count(out.client_local, out.server_local);
    out.tw_on_server = time_wait_count(out.server_local, out.client_local);
    send_token(client.ctl());
    EXPECT_EQ(client.wait(), 0);
    return out;
}

std::string family_of(const std::string& addr) {
    return addr.find(':') != std::string::npos ? "ipv6" : "ipv4";
}

void check_orderly_close(const std::string& addr, int port, bool client_first) {
    auto t0 = std::chrono::steady_clock::now();
    TraceRunner tracer({"--port", std::to_string(port)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    Outcome o = run_orderly_close(addr, port, client_first);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    double max_ms = ms_since(t0);

    // Ground truth for time_wait: ss, on the side that closed first only.
    EXPECT_EQ(o.tw_on_client, client_first ? 1 : 0);
    EXPECT_EQ(o.tw_on_server, client_first ? 0 : 1);

    const Task client_task{o.client_pid, o.client_pid, kClientComm, false};
    const uint64_t netns = current_netns_inode();
    ExpectedClose client{family_of(addr), o.client_local, o.server_local, netns, "client",
                         client_first ? "local" : "remote", "none", client_first,
                         client_first ? kClientActive : kClientPassive,
                         {o.client_pid, 0, kClientComm}, client_task,
                         kRequestBytes, kResponseBytes, "unknown"};
    ExpectedClose server{family_of(addr), o.server_local, o.client_local, netns, "server",
                         client_first ? "remote" : "local", "none", !client_first,
                         client_first ? kServerPassive : kServerActive,
                         o.server_task, o.server_task, kResponseBytes, kRequestBytes, "unknown"};

    auto events = tracer.events_for_port(port);
    const auto [cev, sev] = find_close_pair(events, o.client_local, o.server_local);
    ASSERT_TRUE(cev && sev);
    {
        SCOPED_TRACE("client socket");
        expect_close(*cev, client, max_ms);
    }
    {
        SCOPED_TRACE("server socket");
        expect_close(*sev, server, max_ms);
    }
    EXPECT_NE((*cev)["cookie"], (*sev)["cookie"]);
    // Softirq is never blamed: each FIN's closer is the task that closed that
    // end, never the other process whose packets a softirq delivered.
    EXPECT_NE(sev->value("/closer/pid"_json_pointer, -1), o.client_pid) << sev->dump();
    EXPECT_NE(cev->value("/closer/pid"_json_pointer, -1), o.server_task.pid) << cev->dump();
    expect_summary(tracer.summary(), "tp_btf");
}

TEST(FinOrder, ClientClosesFirstHoldsTimeWait) {
    WHOCLOSED_REQUIRE_ROOT();
    check_orderly_close("127.0.0.1", 19101, true);
}

TEST(FinOrder, ServerClosesFirstHoldsTimeWait) {
    WHOCLOSED_REQUIRE_ROOT();
    check_orderly_close("127.0.0.1", 19102, false);
}

TEST(FinOrder, Ipv6LoopbackClientClosesFirst) {
    WHOCLOSED_REQUIRE_ROOT();
    check_orderly_close("::1", 19103, true);
}

TEST(FinOrder, Ipv6LoopbackServerClosesFirst) {
    WHOCLOSED_REQUIRE_ROOT();
    check_orderly_close("::1", 19104, false);
}

// A connection half closed before tracing starts: the server shut down its
// sending side (its socket is in FIN_WAIT2, its file open), the client has
// read the FIN (CLOSE_WAIT). Under tracing the client closes: the server's
// socket is first seen at FIN_WAIT2 -> CLOSE (handed to a timewait socket,
// its port already released) and the client's at CLOSE_WAIT -> LAST_ACK.
// Ground truth: what the test did, and `ss` for the TIME_WAIT.
TEST(FinOrder, ConnectionHalfClosedBeforeTheTrace) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19105;
    Fd listener = listen_tcp("127.0.0.1", kPort);
    Fd client = connect_tcp("127.0.0.1", kPort);
    Fd server = accept_tcp_naming_peer(listener.get());
    const SockAddr client_end = local_of(client.get()), server_end = local_of(server.get());
    ASSERT_EQ(shutdown(server.get(), SHUT_WR), 0);
    EXPECT_EQ(read_until_eof(client.get()), 0u);
    for (int i = 0; i < 200 && tcp_state(server.get()) != TCP_FIN_WAIT2; ++i)
        usleep(10 * 1000);  // the client's ACK of the FIN may be delayed
    ASSERT_EQ(tcp_state(server.get()), TCP_FIN_WAIT2);

    TraceRunner tracer({"--port", std::to_string(kPort), "--no-stacks"});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    client.reset();
    usleep(50 * 1000);
    EXPECT_EQ(tcp_state(server.get()), TCP_CLOSE);
    const int tw = time_wait_count(server_end, client_end);
    server.reset();
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    EXPECT_EQ(tw, 1);

    const auto events = tracer.events_for_port(kPort);
    EXPECT_EQ(events.size(), 2u);
    const nlohmann::json* sev = find_close(events, server_end, client_end);
    const nlohmann::json* cev = find_close(events, client_end, server_end);
    ASSERT_TRUE(sev) << "no event with the server's ports";
    ASSERT_TRUE(cev) << "no event with the client's ports";
    EXPECT_EQ(sev->at("states"), nlohmann::json({"FIN_WAIT2", "CLOSE"})) << sev->dump();
    EXPECT_EQ(sev->value("first_fin", ""), "local") << sev->dump();
    EXPECT_EQ(sev->value("time_wait", false), true) << sev->dump();
    EXPECT_EQ(cev->at("states"), nlohmann::json({"CLOSE_WAIT", "LAST_ACK", "CLOSE"})) << cev->dump();
    EXPECT_EQ(cev->value("first_fin", ""), "remote") << cev->dump();
    EXPECT_EQ(cev->value("time_wait", true), false) << cev->dump();
    EXPECT_EQ(tracer.summary().value("time_wait_local", -1), 1) << tracer.summary().dump();
    EXPECT_EQ(tracer.stderr_text().find("TIME_WAITs dropped"), std::string::npos) << tracer.stderr_text();
}

}  // namespace
}  // namespace whoclosed::testing
