// The socket table: a record lives in the direct-mapped slot its cookie
// picks, or in the hash map when that slot is taken. Whichever holds it,
// every record must come out exactly once and whole: at destroy, and, for a
// socket that reached CLOSE while its file stays open, from the final drain
// when tracing stops (userspace takes it out of a slot by the same
// compare-and-swap the destroy hook uses). The same for the kernel's table
// of HTTP heads.
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

// kOrderly + kReset connections to `port`, all open at once.
std::vector<Conn> open_conns(int listener, int port) {
    std::vector<Conn> conns;
    for (int i = 0; i < kOrderly + kReset; ++i) {
        Conn c;
        c.client = connect_tcp("127.0.0.1", port);
        c.server = accept_tcp_naming_peer(listener);
        c.client_end = local_of(c.client.get());
        c.server_end = local_of(c.server.get());
        c.client_cookie = cookie_of(c.client.get());
        c.server_cookie = cookie_of(c.server.get());
        conns.push_back(std::move(c));
    }
    return conns;
}

// Closes the first kOrderly in order, half by each side (odd: the client
// first), and resets the others from the client, their server files left
// open: those ends are in CLOSE when tracing stops (checked here).
void close_conns(std::vector<Conn>& conns) {
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
    for (int i = kOrderly; i < kOrderly + kReset; ++i)
        EXPECT_EQ(tcp_state(conns[i].server.get()), 7 /* TCP_CLOSE */);
}

// All the connections live at once (2 * 16 sockets), then closed: with
// `slots` 1 every socket but the one in the slot lives in the hash map; with
// the default (65536) these few all find free slots.
void table_scenario(int port, std::vector<std::string> env) {
    TraceRunner tracer({"--port", std::to_string(port), "--no-stacks", "--http", "off"}, env);
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", port);
    std::vector<Conn> conns = open_conns(listener.get(), port);
    close_conns(conns);
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

// A TCP socket closed without ever connecting changes no state, so it has
// no cookie (0) and no record; neither may a free slot (cookie word 0 too)
// pass for its record at its destroy. With one slot, that slot has just
// held a real socket's record, which must not come out twice; with the
// default table, a never-used slot must not come out as garbage (counted
// as lost). A unix socket's I/O must not write into a free slot either.
void unconnected_scenario(int port, std::vector<std::string> env) {
    TraceRunner tracer({"--no-stacks"}, env);
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    Fd listener = listen_tcp("127.0.0.1", port);
    Fd client = connect_tcp("127.0.0.1", port);
    Fd server = accept_tcp_naming_peer(listener.get());
    const SockAddr client_end = local_of(client.get()), server_end = local_of(server.get());
    client.reset();
    EXPECT_EQ(read_until_eof(server.get()), 0u);
    server.reset();
    usleep(20 * 1000);
    int pair[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    write_text(pair[0], "GET /unix HTTP/1.1\r\nHost: u\r\n\r\n");
    close(pair[0]);
    close(pair[1]);
    for (int i = 0; i < 5; ++i) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        ASSERT_GE(fd, 0);
        close(fd);
    }
    usleep(50 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    const auto events = tracer.events_for_port(port);
    EXPECT_EQ(events.size(), 2u);
    EXPECT_TRUE(find_close(events, client_end, server_end));
    EXPECT_TRUE(find_close(events, server_end, client_end));
    EXPECT_EQ(tracer.summary().value("lost", -1), 0) << tracer.summary().dump() << tracer.stderr_text();
    EXPECT_EQ(tracer.stderr_text().find("undecodable record"), std::string::npos) << tracer.stderr_text();
}

TEST(SocketTable, UnconnectedSocketsTakeNoFreeSlotForTheirRecord) {
    WHOCLOSED_REQUIRE_ROOT();
    unconnected_scenario(19315, {});
}

TEST(SocketTable, UnconnectedSocketsNeverReemitTheRecordLastInTheirSlot) {
    WHOCLOSED_REQUIRE_ROOT();
    unconnected_scenario(19316, {"WHOCLOSED_SLOTS=1", "WHOCLOSED_HEAD_SLOTS=1"});
}

// HTTP heads: the kernel keeps a socket's last request and response in its
// heads slot and sends them with its record; a socket whose slot another
// holds sends them ahead as notes. Either way each event carries its own
// socket's heads and request count: from its destroy, and, for server ends
// still open in CLOSE when tracing stops, from the final drain, which takes
// the heads out of the slot with the record.
void heads_scenario(int port, std::vector<std::string> env) {
    TraceRunner tracer({"--port", std::to_string(port), "--no-stacks", "--http", "syscall"}, env);
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", port);
    std::vector<Conn> conns = open_conns(listener.get(), port);
    // Connection i carries i % 3 + 1 keep-alive exchanges, all open at once,
    // interleaved: request j of every connection, then the responses.
    auto requests = [](int i) { return i % 3 + 1; };
    auto request = [](int i, int j) {
        return "GET /c" + std::to_string(i) + "/r" + std::to_string(j) + "?token=secret HTTP/1.1\r\nHost: h" +
               std::to_string(i) + "\r\nUser-Agent: heads-test-" + std::to_string(i) + "\r\n\r\n";
    };
    auto response = [](int i, int j) {
        return "HTTP/1.1 20" + std::to_string((i + j) % 8) + " X\r\nContent-Length: 0\r\n\r\n";
    };
    for (int j = 0; j < 3; ++j) {
        for (int i = 0; i < kOrderly + kReset; ++i) {
            if (j >= requests(i)) continue;
            write_text(conns[i].client.get(), request(i, j));
            read_bytes(conns[i].server.get(), request(i, j).size());
        }
        for (int i = 0; i < kOrderly + kReset; ++i) {
            if (j >= requests(i)) continue;
            write_text(conns[i].server.get(), response(i, j));
            read_bytes(conns[i].client.get(), response(i, j).size());
        }
    }
    close_conns(conns);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    auto events = tracer.events_for_port(port);
    EXPECT_EQ(events.size(), 2u * (kOrderly + kReset));
    for (int i = 0; i < kOrderly + kReset; ++i) {
        SCOPED_TRACE("connection " + std::to_string(i));
        const Conn& c = conns[i];
        const int last = requests(i) - 1;
        for (const nlohmann::json* ev :
             {find_close(events, c.client_end, c.server_end), find_close(events, c.server_end, c.client_end)}) {
            ASSERT_TRUE(ev);
            const nlohmann::json& http = ev->at("http");
            ASSERT_TRUE(http.is_object()) << ev->dump();
            EXPECT_EQ(http.value("requests", -1), requests(i)) << ev->dump();
            EXPECT_EQ(http.value("source", ""), "syscall") << ev->dump();
            EXPECT_EQ(http.at("last_request").value("method", ""), "GET") << ev->dump();
            EXPECT_EQ(http.at("last_request").value("path", ""),
                      "/c" + std::to_string(i) + "/r" + std::to_string(last)) << ev->dump();
            EXPECT_EQ(http.at("last_request").value("host", ""), "h" + std::to_string(i)) << ev->dump();
            EXPECT_EQ(http.at("last_request").value("user_agent", ""), "heads-test-" + std::to_string(i))
                << ev->dump();
            EXPECT_EQ(http.at("last_response").value("status", -1), 200 + (i + last) % 8) << ev->dump();
            EXPECT_EQ(ev->dump().find("secret"), std::string::npos) << ev->dump();
        }
        if (i >= kOrderly) {  // out of the final drain, with its heads
            EXPECT_EQ(find_close(events, c.server_end, c.client_end)->at("states").back(), "CLOSE");
        }
    }
    EXPECT_EQ(tracer.summary().value("lost", -1), 0) << tracer.summary().dump();
    conns.clear();
}

TEST(SocketTable, HttpHeadsKeptInTheKernelComeOutWithTheirRecords) {
    WHOCLOSED_REQUIRE_ROOT();
    heads_scenario(19313, {});
}

// Records in the hash map (one socket slot) keep their heads in the heads
// table all the same, and leave it with them, from the final drain too.
TEST(SocketTable, HttpHeadsOfRecordsInTheHashMapComeOutWithThem) {
    WHOCLOSED_REQUIRE_ROOT();
    heads_scenario(19317, {"WHOCLOSED_SLOTS=1"});
}

// One heads slot: every socket but the one holding it sends its heads
// ahead as notes; the reader joins both kinds alike.
TEST(SocketTable, HttpHeadsOfCollidingSlotsGoAheadAsNotes) {
    WHOCLOSED_REQUIRE_ROOT();
    heads_scenario(19314, {"WHOCLOSED_HEAD_SLOTS=1"});
}

// The test setting is checked like a flag: a clear usage error, never a
// table the loader would have to guess at.
TEST(SocketTable, SlotCountSettingMustBeAPowerOfTwoUpToTheSocketCount) {
    WHOCLOSED_REQUIRE_ROOT();
    for (const std::string var : {"WHOCLOSED_SLOTS", "WHOCLOSED_HEAD_SLOTS"}) {
        for (const char* bad : {"3", "0", "131072", "x", ""}) {
            SCOPED_TRACE(var + "=" + bad);
            std::string out;
            const int rc = run_capture(var + "='" + bad + "' " WHOCLOSED_BINARY " trace --duration 1", out);
            EXPECT_EQ(rc, 2) << out;
            EXPECT_NE(out.find(var + "="), std::string::npos) << out;
            EXPECT_NE(out.find("power of two"), std::string::npos) << out;
        }
    }
}

}  // namespace
}  // namespace whoclosed::testing
