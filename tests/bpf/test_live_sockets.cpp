// The stale-record sweep trusts sock_diag to say, by cookie, which TCP
// sockets the kernel still holds and which of them are timewait sockets.
// Ground truth here is SO_COOKIE on sockets the test opened itself.
#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "loader/live_sockets.h"
#include "support/sockets.h"

namespace whoclosed::testing {
namespace {

uint64_t cookie_of(int fd) {
    uint64_t cookie = 0;
    socklen_t len = sizeof(cookie);
    if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) return 0;
    return cookie;
}

LiveSockets dump_or_fail() {
    std::string error;
    auto live = dump_live_tcp_sockets(error);
    EXPECT_TRUE(live.has_value()) << error;
    return live.value_or(LiveSockets{});
}

void expect_state(const LiveSockets& live, uint64_t cookie, int state, const char* what) {
    auto it = live.find(cookie);
    ASSERT_NE(it, live.end()) << what << " (cookie " << cookie << ") missing from sock_diag";
    EXPECT_EQ(it->second, state) << what;
}

TEST(LiveSockets, CookiesFollowSocketsIntoTimeWaitAndOut) {
    for (const std::string addr : {"127.0.0.1", "::1"}) {
        SCOPED_TRACE(addr);
        Fd listener = listen_tcp(addr, 0);
        Fd client = connect_tcp(addr, local_of(listener.get()).port);
        Fd server = accept_tcp(listener.get());
        const uint64_t server_cookie = cookie_of(server.get());
        const uint64_t client_cookie = cookie_of(client.get());
        ASSERT_NE(server_cookie, 0u);
        ASSERT_NE(client_cookie, 0u);

        LiveSockets live = dump_or_fail();
        expect_state(live, server_cookie, WC_TCP_ESTABLISHED, "accepted socket");
        expect_state(live, client_cookie, WC_TCP_ESTABLISHED, "connected socket");

        // The server closes first: its timewait socket keeps the cookie; the
        // client's socket is freed once its FIN is acknowledged.
        server.reset();
        ASSERT_EQ(read_until_eof(client.get()), 0u);
        client.reset();
        for (int i = 0; i < 100; i++) {  // the last ACK crosses loopback in softirq
            live = dump_or_fail();
            if (!live.count(client_cookie)) break;
            usleep(10 * 1000);
        }
        expect_state(live, server_cookie, WC_TCP_TIME_WAIT, "server after closing first");
        EXPECT_EQ(live.count(client_cookie), 0u) << "client socket still listed after LAST_ACK";
    }
}

TEST(LiveSockets, OwnNetnsIsTheInodeProcNames) {
    char link[64] = {};
    ASSERT_GT(readlink("/proc/self/ns/net", link, sizeof(link) - 1), 0);
    EXPECT_EQ("net:[" + std::to_string(own_netns_inode()) + "]", std::string(link));
}

}  // namespace
}  // namespace whoclosed::testing
