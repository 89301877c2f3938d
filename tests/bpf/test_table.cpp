// The socket table: a record lives in the direct-mapped slot its cookie
// picks, or in the hash map when that slot is taken. Whichever holds it,
// every record must come out exactly once and whole: at destroy, and, for a
// socket that reached CLOSE while its file stays open, from the final drain
// when tracing stops (userspace takes it out of a slot by the same
// compare-and-swap the destroy hook uses).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/close_expect.h"
#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

struct Conn {
    Fd client, server;
    SockAddr client_end, server_end;
    uint64_t client_cookie = 0, server_cookie = 0;  // SO_COOKIE: the kernel's own
};

uint64_t cookie_of(int fd) {
    uint64_t cookie = 0;
    socklen_t len = sizeof(cookie);
    EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), 0);
    return cookie;
}

constexpr int kOrderly = 12;  // closed both ways, half by each side
constexpr int kReset = 4;     // reset by the client; the server's file stays open

// All the connections live at once (2 * 16 sockets), then closed: with
// `slots` 1 every socket but the one in the slot lives in the hash map; with
// the default (65536) these few all find free slots.
void table_scenario(int port, std::vector<std::string> env) {
    TraceRunner tracer({"--port", std::to_string(port), "--no-stacks", "--http", "off"}, env);
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", port);
    std::vector<Conn> conns;
    for (int i = 0; i < kOrderly + kReset; ++i) {
        Conn c;
        c.client = connect_tcp("127.0.0.1", port);
        c.server = accept_tcp_naming_peer(listener.get());
        c.client_end = local_of(c.client.get());
        c.server_end = local_of(c.server.get());
        c.client_cookie = cookie_of(c.client.get());
        c.server_cookie = cookie_of(c.server.get());
        conns.push_back(std::move(c));
    }
    for (int i = 0; i < kOrderly; ++i) {
        Conn& c = conns[i];
        Fd& first = i % 2 ? c.client : c.server;
        Fd& second = i % 2 ? c.server : c.client;
        first.reset();
        EXPECT_EQ(read_until_eof(second.get()), 0u);
        second.reset();
    }
    for (int i = kOrderly; i < kOrderly + kReset; ++i) {
        set_linger_zero(conns[i].client.get());
        conns[i].client.reset();
    }
    usleep(50 * 1000);
    // Ground truth: the reset server ends are CLOSE, their files still open.
    for (int i = kOrderly; i < kOrderly + kReset; ++i)
        EXPECT_EQ(tcp_state(conns[i].server.get()), 7 /* TCP_CLOSE */);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    auto events = tracer.events_for_port(port);
    EXPECT_EQ(events.size(), 2u * (kOrderly + kReset));
    for (int i = 0; i < kOrderly + kReset; ++i) {
        SCOPED_TRACE("connection " + std::to_string(i));
        const Conn& c = conns[i];
        const nlohmann::json* cev = find_close(events, c.client_end, c.server_end);
        const nlohmann::json* sev = find_close(events, c.server_end, c.client_end);
        ASSERT_TRUE(cev && sev);
        EXPECT_EQ(cev->value("cookie", uint64_t{0}), c.client_cookie) << cev->dump();
        EXPECT_EQ(sev->value("cookie", uint64_t{0}), c.server_cookie) << sev->dump();
        EXPECT_EQ(cev->value("role", ""), "client") << cev->dump();
        EXPECT_EQ(sev->value("role", ""), "server") << sev->dump();
        EXPECT_EQ(sev->value("/owner/pid"_json_pointer, -1), getpid()) << sev->dump();
        if (i < kOrderly) {
            const bool client_first = i % 2;
            EXPECT_EQ(cev->value("first_fin", ""), client_first ? "local" : "remote") << cev->dump();
            EXPECT_EQ(sev->value("first_fin", ""), client_first ? "remote" : "local") << sev->dump();
            EXPECT_EQ(cev->at("states"), client_first ? kClientActive : kClientPassive) << cev->dump();
            EXPECT_EQ(sev->at("states"), client_first ? kServerPassive : kServerActive) << sev->dump();
            EXPECT_EQ(cev->value("reset", ""), "none");
        } else {
            EXPECT_EQ(cev->value("reset", ""), "sent") << cev->dump();
            EXPECT_EQ(sev->value("reset", ""), "received") << sev->dump();
            // Still open when tracing stopped: out of the final drain.
            EXPECT_EQ(sev->at("states").back(), "CLOSE") << sev->dump();
        }
    }
    EXPECT_EQ(tracer.summary().value("lost", -1), 0) << tracer.summary().dump();
    conns.clear();
}

TEST(SocketTable, RecordsInSlotsComeOutOnceAtDestroyAndFromTheFinalDrain) {
    WHOCLOSED_REQUIRE_ROOT();
    table_scenario(19311, {});
}

// One slot: all but one socket at a time overflow into the hash map.
TEST(SocketTable, RecordsOfCollidingSlotsComeOutOfTheHashMapAlike) {
    WHOCLOSED_REQUIRE_ROOT();
    table_scenario(19312, {"WHOCLOSED_SLOTS=1"});
}

// The test setting is checked like a flag: a clear usage error, never a
// table the loader would have to guess at.
TEST(SocketTable, SlotCountSettingMustBeAPowerOfTwoUpToTheSocketCount) {
    WHOCLOSED_REQUIRE_ROOT();
    for (const char* bad : {"3", "0", "131072", "x", ""}) {
        SCOPED_TRACE(std::string("WHOCLOSED_SLOTS=") + bad);
        std::string out;
        const int rc = run_capture(std::string("WHOCLOSED_SLOTS='") + bad + "' " WHOCLOSED_BINARY
                                   " trace --duration 1", out);
        EXPECT_EQ(rc, 2) << out;
        EXPECT_NE(out.find("WHOCLOSED_SLOTS"), std::string::npos) << out;
        EXPECT_NE(out.find("power of two"), std::string::npos) << out;
    }
}

}  // namespace
}  // namespace whoclosed::testing
