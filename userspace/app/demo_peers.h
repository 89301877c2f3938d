// The classic case as two real processes on loopback: an HTTP/1.1 keep-alive
// server in the style of Go's net/http (it honours `Connection: close` by
// closing right after its response) and a client that sends every request
// with `Connection: close`, like Go's Transport with DisableKeepAlives.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace whoclosed {

struct DemoPeers {
    pid_t server = -1;
    pid_t client = -1;
    uint16_t port = 0;
    int go_fd = -1;  // write a byte to let the client start
};

// Forks both peers; the client waits for `release_client`. Returns false
// (with errno set) if the listening socket or a fork failed.
bool start_demo_peers(int requests, DemoPeers& peers);
void release_client(DemoPeers& peers);
// True once the client has exited (then the server is stopped and reaped).
bool demo_peers_done(DemoPeers& peers);
void stop_demo_peers(DemoPeers& peers);

}  // namespace whoclosed
