#include "loader/live_sockets.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace whoclosed {

namespace {

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// One dump of one address family into `out`; false with `error` on failure.
bool dump_family(uint8_t family, LiveSockets& out, std::string& error) {
    Fd fd(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (fd.get() < 0) {
        error = std::string("sock_diag socket: ") + std::strerror(errno);
        return false;
    }
    struct {
        nlmsghdr nlh;
        inet_diag_req_v2 req;
    } msg{};
    msg.nlh.nlmsg_len = sizeof(msg);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.nlh.nlmsg_seq = 1;
    msg.req.sdiag_family = family;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = ~0u;  // every state, timewait and request sockets included
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd.get(), &msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
        error = std::string("sock_diag request: ") + std::strerror(errno);
        return false;
    }
    std::vector<char> buf(64 * 1024);
    for (;;) {
        ssize_t n = recv(fd.get(), buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            error = std::string("sock_diag read: ") + std::strerror(errno);
            return false;
        }
        if (n == 0) {
            error = "sock_diag: the dump ended without NLMSG_DONE";
            return false;
        }
        int len = static_cast<int>(n);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE) return true;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
                error = std::string("sock_diag: ") + std::strerror(-e->error);
                return false;
            }
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) continue;
            const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
            const uint64_t cookie = (static_cast<uint64_t>(m->id.idiag_cookie[1]) << 32) |
                                    m->id.idiag_cookie[0];
            // Timewait sockets report their substate (FIN_WAIT2 or TIME_WAIT);
            // their timer, 3, is theirs alone.
            out[cookie] = m->idiag_timer == 3 ? static_cast<uint8_t>(WC_TCP_TIME_WAIT) : m->idiag_state;
        }
    }
}

}  // namespace

std::optional<LiveSockets> dump_live_tcp_sockets(std::string& error) {
    LiveSockets live;
    if (!dump_family(AF_INET, live, error) || !dump_family(AF_INET6, live, error)) return std::nullopt;
    return live;
}

uint64_t own_netns_inode() {
    struct stat st {};
    return stat("/proc/self/ns/net", &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

}  // namespace whoclosed
