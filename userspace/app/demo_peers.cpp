#include "app/demo_peers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace whoclosed {

namespace {

bool write_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = write(fd, s.data() + off, s.size() - off);
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

bool asks_to_close(const std::string& head) {
    std::string lower;
    for (char c : head) lower += static_cast<char>(tolower(static_cast<unsigned char>(c)));
    return lower.find("\r\nconnection: close\r\n") != std::string::npos;
}

// Serves requests on one connection until the client asks to close or goes away.
void serve_connection(int fd) {
    std::string buf;
    char chunk[2048];
    for (;;) {
        size_t end;
        while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
            ssize_t n = read(fd, chunk, sizeof(chunk));
            if (n <= 0 || buf.size() > 65536) return;
            buf.append(chunk, static_cast<size_t>(n));
        }
        std::string head = buf.substr(0, end + 4);
        buf.erase(0, end + 4);
        if (!write_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"))
            return;
        if (asks_to_close(head)) return;  // the server leaves its loop and closes first
    }
}

[[noreturn]] void server_main(int listen_fd) {
    prctl(PR_SET_NAME, "demo-server");
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the demo (killed, or its pipe closed)
    for (;;) {
        int fd = accept(listen_fd, nullptr, nullptr);
        if (fd < 0) continue;
        serve_connection(fd);
        close(fd);
    }
}

void one_request(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
        std::string req = "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nUser-Agent: Go-http-client/1.1\r\nConnection: close\r\n"
                          "Accept-Encoding: gzip\r\n\r\n";
        write_all(fd, req);
        char chunk[512];
        while (read(fd, chunk, sizeof(chunk)) > 0) {
        }  // read the response until the server's FIN
    }
    close(fd);
}

[[noreturn]] void client_main(int go_fd, uint16_t port, int requests) {
    prctl(PR_SET_NAME, "demo-client");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char go;
    if (read(go_fd, &go, 1) != 1) _exit(1);
    for (int i = 0; i < requests; i++) {
        one_request(port);
        usleep(20 * 1000);
    }
    _exit(0);
}

}  // namespace

bool start_demo_peers(int requests, DemoPeers& peers) {
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    int pipefd[2];
    if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(lfd, 64) != 0 || getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        pipe(pipefd) != 0)
        return false;
    peers.port = ntohs(addr.sin_port);
    peers.server = fork();
    if (peers.server == 0) server_main(lfd);
    close(lfd);
    peers.client = fork();
    if (peers.client == 0) {
        close(pipefd[1]);
        client_main(pipefd[0], peers.port, requests);
    }
    close(pipefd[0]);
    peers.go_fd = pipefd[1];
    return peers.server > 0 && peers.client > 0;
}

void release_client(DemoPeers& peers) {
    char go = 'g';
    if (write(peers.go_fd, &go, 1) != 1) kill(peers.client, SIGTERM);
    close(peers.go_fd);
    peers.go_fd = -1;
}

bool demo_peers_done(DemoPeers& peers) {
    if (peers.client > 0 && waitpid(peers.client, nullptr, WNOHANG) == peers.client)
        peers.client = -1;
    return peers.client < 0;
}

void stop_demo_peers(DemoPeers& peers) {
    for (pid_t* p : {&peers.client, &peers.server}) {
        if (*p <= 0) continue;
        kill(*p, SIGTERM);
        waitpid(*p, nullptr, 0);
        *p = -1;
    }
    if (peers.go_fd >= 0) close(peers.go_fd);
    peers.go_fd = -1;
}

}  // namespace whoclosed
