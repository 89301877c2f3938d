// Closing kernel stacks come from a memo of kernel paths (bpf/track.bpf.h,
// closer_kernel_stack): a path is keyed by system call, hook, transition
// and SO_LINGER 0. Here one close() call site in this process closes
// sockets three ways, interleaved, more times than the memo's re-check
// period: a FIN, a RST for unread data (__tcp_close sends it) and a RST for
// SO_LINGER 0 (tcp_disconnect sends it). Ground truth is what the test did
// to each socket; each event's kernel stack must show that path's frames.
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

enum class Way { Fin, UnreadReset, LingerReset };

// The one call site of every server-side close in this test.
__attribute__((noinline)) void close_server_end(Fd& fd) { fd.reset(); }

bool has_frame(const nlohmann::json& frames, const std::string& name) {
    return std::any_of(frames.begin(), frames.end(), [&](const nlohmann::json& f) { return f == name; });
}

TEST(KernelPaths, EachWayOfClosingKeepsItsOwnKernelStack) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19311;
    constexpr int kPerWay = 100;  // 300 closes: past the memo's re-check at 256 uses
    TraceRunner tracer({"--port", std::to_string(kPort), "--http", "off"});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", kPort);
    std::map<int, Way> way_of_client_port;
    for (int i = 0; i < 3 * kPerWay; ++i) {
        const Way way = static_cast<Way>(i % 3);
        Fd client = connect_tcp("127.0.0.1", kPort);
        Fd conn = accept_tcp(listener.get());
        way_of_client_port[local_of(client.get()).port] = way;
        if (way == Way::UnreadReset) {
            write_bytes(client.get(), 10);
            int pending = 0;
            for (int t = 0; t < 100 && pending < 10; ++t) {
                ioctl(conn.get(), FIONREAD, &pending);
                if (pending < 10) usleep(1000);
            }
            ASSERT_EQ(pending, 10);  // unread data really is queued
        } else if (way == Way::LingerReset) {
            set_linger_zero(conn.get());
        }
        close_server_end(conn);
        client.reset();
    }
    usleep(100 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    int seen[3] = {0, 0, 0};
    for (const nlohmann::json& ev : tracer.events_for_port(kPort)) {
        if (ev.at("role") != "server") continue;
        auto it = way_of_client_port.find(ev.at("rport").get<int>());
        ASSERT_NE(it, way_of_client_port.end()) << ev.dump();
        SCOPED_TRACE(ev.dump());
        ASSERT_TRUE(ev.at("closer").is_object());
        const nlohmann::json& kstack = ev.at("closer").at("kernel_stack");
        EXPECT_TRUE(has_frame(kstack, "tcp_close"));
        EXPECT_TRUE(has_frame(kstack, "__x64_sys_close"));
        switch (it->second) {
        case Way::Fin:
            EXPECT_EQ(ev.at("reset"), "none");
            EXPECT_FALSE(has_frame(kstack, "tcp_send_active_reset"));
            break;
        case Way::UnreadReset:
            EXPECT_EQ(ev.at("reset"), "sent");
            EXPECT_TRUE(has_frame(kstack, "tcp_send_active_reset"));
            EXPECT_FALSE(has_frame(kstack, "tcp_disconnect"));
            break;
        case Way::LingerReset:
            EXPECT_EQ(ev.at("reset"), "sent");
            EXPECT_TRUE(has_frame(kstack, "tcp_send_active_reset"));
            EXPECT_TRUE(has_frame(kstack, "tcp_disconnect"));
            break;
        }
        seen[static_cast<int>(it->second)]++;
    }
    EXPECT_EQ(seen[0], kPerWay);
    EXPECT_EQ(seen[1], kPerWay);
    EXPECT_EQ(seen[2], kPerWay);
}

}  // namespace
}  // namespace whoclosed::testing
