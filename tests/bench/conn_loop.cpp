// conn_loop: one thread opening, using and closing loopback TCP connections
// back to back, as fast as it can, for scripts/bench.sh --load loop.
//
// Both ends live in this thread and loopback delivers packets in the
// sender's own softirq, so every cycle of connect, accept, a request, a
// response, the server's close (its FIN first, so the TIME_WAIT stays on
// the server's port and never blocks a client port) and the client's close
// runs on one CPU, with nothing to wait for. Pinned to one CPU, the time per
// connection is then the kernel's work per connection plus whatever a
// tracer adds to it, without the run-to-run swings of a two-process load.
//
// usage: conn_loop PORT SECONDS
// prints: <connections> <connections/s> <errors>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr char kRequest[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
constexpr char kResponse[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "conn_loop: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

// One connection; false if any step failed.
bool one_connection(int listener, const sockaddr_in& addr) {
    char buf[256];
    const int client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0) return false;
    bool ok = connect(client, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    const int server = ok ? accept(listener, nullptr, nullptr) : -1;
    ok = ok && server >= 0;
    ok = ok && write(client, kRequest, sizeof kRequest - 1) == static_cast<ssize_t>(sizeof kRequest - 1);
    ok = ok && read(server, buf, sizeof buf) == static_cast<ssize_t>(sizeof kRequest - 1);
    ok = ok && write(server, kResponse, sizeof kResponse - 1) == static_cast<ssize_t>(sizeof kResponse - 1);
    if (server >= 0) close(server);  // the server's FIN goes first
    ok = ok && read(client, buf, sizeof buf) == static_cast<ssize_t>(sizeof kResponse - 1);
    ok = ok && read(client, buf, sizeof buf) == 0;  // the FIN
    close(client);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: conn_loop PORT SECONDS\n");
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int seconds = std::atoi(argv[2]);
    if (port <= 0 || port > 65535 || seconds <= 0) {
        std::fprintf(stderr, "conn_loop: PORT must be 1-65535 and SECONDS positive\n");
        return 2;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    const int one = 1;
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)) die("SO_REUSEADDR");
    if (bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr)) die("bind");
    if (listen(listener, 128)) die("listen");

    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto end = start + std::chrono::seconds(seconds);
    unsigned long long done = 0, errors = 0;
    auto now = start;
    while (now < end) {
        for (int i = 0; i < 64; i++) {  // the clock read every 64 connections
            if (one_connection(listener, addr)) done++;
            else errors++;
        }
        now = Clock::now();
    }
    close(listener);
    const double secs = std::chrono::duration<double>(now - start).count();
    std::printf("%llu %.2f %llu\n", done, done / secs, errors);
    return 0;
}
