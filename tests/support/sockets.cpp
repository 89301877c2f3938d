#include "support/sockets.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace whoclosed::testing {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

bool is_v6(const std::string& addr) { return addr.find(':') != std::string::npos; }

socklen_t make_addr(const std::string& addr, int port, sockaddr_storage& ss) {
    std::memset(&ss, 0, sizeof(ss));
    if (is_v6(addr)) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<uint16_t>(port));
        if (inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr) != 1) fail("bad address " + addr);
        return sizeof(*a);
    }
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, addr.c_str(), &a->sin_addr) != 1) fail("bad address " + addr);
    return sizeof(*a);
}

SockAddr to_sockaddr(const sockaddr_storage& ss) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
        return {buf, ntohs(a->sin6_port)};
    }
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    return {buf, ntohs(a->sin_port)};
}

bool read_full(int fd, void* buf, size_t n) {
    auto* p = static_cast<char*>(buf);
    while (n > 0) {
        wait_readable(fd, 10000);
        ssize_t r = read(fd, p, n);
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

}  // namespace

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) {
        reset();
        fd_ = o.release();
    }
    return *this;
}

int Fd::release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
}

void Fd::reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
}

Fd listen_tcp(const std::string& addr, int port) {
    sockaddr_storage ss;
    socklen_t len = make_addr(addr, port, ss);
    Fd fd(socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) fail("socket");
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) fail("bind " + addr);
    if (listen(fd.get(), 4096) != 0) fail("listen");
    return fd;
}

Fd connect_tcp(const std::string& addr, int port, const std::string& from, int from_port) {
    sockaddr_storage ss;
    socklen_t len = make_addr(addr, port, ss);
    Fd fd(socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) fail("socket");
    if (!from.empty()) {
        sockaddr_storage local;
        socklen_t local_len = make_addr(from, from_port, local);
        if (bind(fd.get(), reinterpret_cast<sockaddr*>(&local), local_len) != 0) fail("bind " + from);
    }
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) fail("connect " + addr);
    return fd;
}

namespace {

// accept4() once the listener is readable; `peer` and `len` as accept4 takes them.
Fd accept_into(int listen_fd, sockaddr* peer, socklen_t* len) {
    wait_readable(listen_fd, 10000);
    Fd fd(accept4(listen_fd, peer, len, SOCK_CLOEXEC));
    if (!fd) fail("accept");
    return fd;
}

}  // namespace

Fd accept_tcp(int listen_fd) { return accept_into(listen_fd, nullptr, nullptr); }

Fd accept_tcp_naming_peer(int listen_fd) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    return accept_into(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len);
}

SockAddr local_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail("getsockname");
    return to_sockaddr(ss);
}

SockAddr peer_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail("getpeername");
    return to_sockaddr(ss);
}

void write_text(int fd, std::string_view text) {
    size_t off = 0;
    while (off < text.size()) {
        ssize_t w = write(fd, text.data() + off, text.size() - off);
        if (w <= 0) fail("write");
        off += static_cast<size_t>(w);
    }
}

void write_bytes(int fd, size_t n) { write_text(fd, std::string(n, 'x')); }

void read_bytes(int fd, size_t n) {
    std::vector<char> buf(n);
    if (!read_full(fd, buf.data(), n)) fail("short read");
}

size_t read_until_eof(int fd) {
    char buf[4096];
    size_t total = 0;
    for (;;) {
        wait_readable(fd, 10000);
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0) fail("read");
        if (r == 0) return total;
        total += static_cast<size_t>(r);
    }
}

void wait_readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    int r;
    do r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0) throw std::runtime_error("timed out waiting for fd " + std::to_string(fd));
    if (r < 0) fail("poll");
}

void set_linger_zero(int fd) {
    linger l{1, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) != 0) fail("SO_LINGER");
}

int tcp_state(int fd) {
    tcp_info info{};
    socklen_t len = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) fail("TCP_INFO");
    return info.tcpi_state;
}

std::string thread_comm() {
    char name[17] = {};
    prctl(PR_GET_NAME, name);
    return name;
}

void set_thread_comm(const std::string& name) { prctl(PR_SET_NAME, name.c_str()); }

pid_t this_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

int time_wait_count(const SockAddr& local, const SockAddr& remote, const std::string& ns) {
    std::string cmd = (ns.empty() ? "" : "ip netns exec " + ns + " ") +
                      "ss -tanH state time-wait '( sport = :" + std::to_string(local.port) +
                      " and dport = :" + std::to_string(remote.port) + " )'";
    std::string out;
    if (run_capture(cmd, out) != 0) throw std::runtime_error("ss failed: " + out);
    int lines = 0;
    for (char c : out) lines += c == '\n';
    return lines;
}

Child::Child(const std::function<int(int ctl)>& fn) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) fail("socketpair");
    pid_ = fork();
    if (pid_ < 0) fail("fork");
    if (pid_ == 0) {
        close(sv[0]);
        int rc = 1;
        try {
            rc = fn(sv[1]);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child %d: %s\n", getpid(), e.what());
        }
        _exit(rc);
    }
    close(sv[1]);
    ctl_ = Fd(sv[0]);
}

Child::~Child() {
    if (pid_ > 0 && !reaped_) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
}

int Child::wait() {
    int status = 0;
    if (pid_ <= 0 || reaped_ || waitpid(pid_, &status, 0) != pid_) return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void send_token(int ctl, char c) {
    if (write(ctl, &c, 1) != 1) fail("send_token");
}

char recv_token(int ctl) {
    char c = 0;
    if (!read_full(ctl, &c, 1)) throw std::runtime_error("control socket closed");
    return c;
}

void send_u64(int ctl, unsigned long long v) {
    if (write(ctl, &v, sizeof(v)) != sizeof(v)) fail("send_u64");
}

unsigned long long recv_u64(int ctl) {
    unsigned long long v = 0;
    if (!read_full(ctl, &v, sizeof(v))) throw std::runtime_error("control socket closed");
    return v;
}

int run_capture(const std::string& cmd, std::string& output) {
    output.clear();
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (!p) fail("popen");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) output.append(buf, n);
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace whoclosed::testing
