// Ground truth for end-to-end tests: a tcpdump capture and what it says
// about each TCP connection to one server port (who sent the first FIN,
// whether the FINs crossed, resets). Independent of whoclosed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace whoclosed::testing {

enum class Side { none, server, client };
const char* to_string(Side s);

struct ConnectionTruth {
    int client_port = 0;
    int syns = 0;               // SYNs from the client (more than one: port reused)
    int fins_from_server = 0;   // retransmissions count too
    int fins_from_client = 0;
    Side first_fin = Side::none;
    Side second_fin = Side::none;
    // The second FIN did not acknowledge the first: both sides were in
    // FIN_WAIT1 at once (a simultaneous close).
    bool fins_crossed = false;
    bool reset = false;
    Side reset_from = Side::none;  // who sent the first RST
    uint32_t first_fin_seq = 0;  // the sequence number the first FIN occupies
};

// Per client port, every connection to `server_port` in `pcap`
// (read back with `tcpdump -r pcap -nn -tt -S`).
std::map<int, ConnectionTruth> read_connections(const std::string& pcap, int server_port);

// True once every connection in `pcap` has a FIN from both sides and
// there are at least `connections` of them; polls until `timeout`.
bool wait_for_closed_connections(const std::string& pcap, int server_port, size_t connections,
                                 std::chrono::milliseconds timeout);

// True once every connection in `pcap` has either a FIN from both sides
// or a RST, and there are at least `connections` of them (TLS peers often
// end with a RST: a close_notify sent to a socket already closed).
bool wait_for_ended_connections(const std::string& pcap, int server_port, size_t connections,
                                std::chrono::milliseconds timeout);

// tcpdump on loopback writing `pcap` for `tcp port P`; the constructor
// returns once tcpdump says it is capturing (check capturing()).
class LoopbackCapture {
public:
    LoopbackCapture(std::string pcap, int port);
    bool capturing() const { return capturing_; }
    // SIGINT, so tcpdump flushes and closes the file; returns its exit code.
    int stop();
    const std::string& stderr_text() const { return tcpdump_.stderr_text(); }

private:
    ChildProcess tcpdump_;
    bool capturing_ = false;
};

}  // namespace whoclosed::testing
