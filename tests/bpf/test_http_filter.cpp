// HTTP heads reach the reader ahead of their socket's close record (struct
// http_note), before the kernel's filters can judge the socket. A socket the
// filters then drop must make the reader forget its heads (the kernel sends
// its record marked WC_F_FILTERED_OUT); otherwise the reader's table of open
// HTTP sockets (16,384) fills with heads that never get an event, and later
// sockets lose theirs. Here more than 16,384 HTTP connections are filtered
// out, then one passes the filter: it must still carry its request.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

constexpr char kRequest[] = "GET /kept HTTP/1.1\r\nHost: wc\r\nUser-Agent: wc-filter-test\r\n\r\n";

void send_request(int fd) { write_text(fd, kRequest); }

// One connection from a child named `comm`: it sends a request, the server
// (this process) reads it and closes first, then the child closes.
void one_exchange(int listener, int port, const char* comm) {
    Child client([&](int ctl) {
        set_thread_comm(comm);
        Fd fd = connect_tcp("127.0.0.1", port);
        send_request(fd.get());
        read_until_eof(fd.get());
        send_token(ctl);
        return 0;
    });
    Fd conn = accept_tcp(listener);
    read_bytes(conn.get(), sizeof kRequest - 1);
    conn.reset();
    recv_token(client.ctl());
    ASSERT_EQ(client.wait(), 0);
}

TEST(HttpFilter, FilteredSocketsDoNotUseUpTheReadersHttpTable) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19321;
    constexpr int kDropped = 8300;  // x2 sockets each: past the table's 16,384
    TraceRunner tracer({"--port", std::to_string(kPort), "--comm", "wc-http-keep", "--http", "syscall",
                        "--no-stacks"});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", kPort);
    // The dropped ones, quicker without a child each: same process, same
    // comm as the test (not the filter's), still real HTTP heads both ways.
    for (int i = 0; i < kDropped; ++i) {
        Fd client = connect_tcp("127.0.0.1", kPort);
        Fd conn = accept_tcp(listener.get());
        send_request(client.get());
        read_bytes(conn.get(), sizeof kRequest - 1);
        conn.reset();
        client.reset();
    }
    one_exchange(listener.get(), kPort, "wc-http-keep");
    usleep(100 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    EXPECT_EQ(tracer.stderr_text().find("HTTP heads not kept"), std::string::npos) << tracer.stderr_text();
    int kept = 0;
    for (const nlohmann::json& ev : tracer.events_for_port(kPort)) {
        SCOPED_TRACE(ev.dump());
        ASSERT_EQ(ev.at("owner").at("comm"), "wc-http-keep");  // the filter dropped every other socket
        ASSERT_TRUE(ev.at("http").is_object());
        EXPECT_EQ(ev.at("http").at("requests"), 1);
        EXPECT_EQ(ev.at("http").at("last_request").at("path"), "/kept");
        EXPECT_EQ(ev.at("http").at("last_request").at("user_agent"), "wc-filter-test");
        kept++;
    }
    EXPECT_EQ(kept, 1);
}

}  // namespace
}  // namespace whoclosed::testing
