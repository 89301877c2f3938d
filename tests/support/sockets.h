// Plain POSIX TCP sockets for the kernel suite: the tests open real
// connections themselves and know, from their own syscalls, what whoclosed
// must report about them.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace whoclosed::testing {

// Owns one file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release();
    void reset();  // close() now

private:
    int fd_ = -1;
};

struct SockAddr {
    std::string addr;  // numeric, as inet_ntop prints it
    int port = 0;
};

// addr decides the family: it contains ':' for IPv6.
Fd listen_tcp(const std::string& addr, int port);
// `from`, if given, is the local address (and `from_port` the port, 0 for
// any) to bind before connecting.
Fd connect_tcp(const std::string& addr, int port, const std::string& from = "", int from_port = 0);
Fd accept_tcp(int listen_fd);            // accept4(fd, NULL, NULL): the peer's address not asked for
Fd accept_tcp_naming_peer(int listen_fd); // accept4 that asks for the peer's address, as most servers do
SockAddr local_of(int fd);
SockAddr peer_of(int fd);

void write_bytes(int fd, size_t n);      // writes exactly n bytes, throws otherwise
void write_text(int fd, std::string_view text);  // writes all of text, throws otherwise
void read_bytes(int fd, size_t n);       // reads exactly n bytes, throws otherwise
size_t read_until_eof(int fd);           // returns how many bytes came before EOF
void wait_readable(int fd, int timeout_ms);
void set_linger_zero(int fd);            // close() will then send a RST
int tcp_state(int fd);                   // tcpi_state of TCP_INFO (TCP_ESTABLISHED ...)

// The comm (thread name) of the calling thread, and setting it.
std::string thread_comm();
void set_thread_comm(const std::string& name);
pid_t this_tid();

// Lines `ss -tanH state time-wait` prints for exactly this 4-tuple, seen
// from `local`'s side. ns: run inside this named netns ("" = current).
int time_wait_count(const SockAddr& local, const SockAddr& remote, const std::string& ns = "");

// A forked child running fn(ctl) and exiting with its return value; ctl is
// its end of a socketpair to the parent. The destructor SIGKILLs and reaps a
// child still running, so a failing test never leaves it behind.
class Child {
public:
    explicit Child(const std::function<int(int ctl)>& fn);
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    int ctl() const { return ctl_.get(); }
    int wait();  // exit status (128+signal when killed); pid() stays valid

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    Fd ctl_;
};

// One-byte messages over a control socket; recv_token fails after 10 s.
void send_token(int ctl, char c = '.');
char recv_token(int ctl);
void send_u64(int ctl, unsigned long long v);
unsigned long long recv_u64(int ctl);

// Runs a shell command, capturing stdout+stderr; returns the exit status.
int run_capture(const std::string& cmd, std::string& output);

}  // namespace whoclosed::testing
