// Who closes first on one local port, in plain words: the demo's verdict and
// the top of `report`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "correlate/close_event.h"

namespace whoclosed {

struct PortVerdict {
    uint16_t port = 0;
    uint64_t server_sockets = 0;      // events whose lport is `port` and role server
    uint64_t client_sockets = 0;      // events whose rport is `port` and role client
    uint64_t server_first = 0;        // server socket sent the first FIN
    uint64_t client_first = 0;        // client socket sent the first FIN
    uint64_t simultaneous = 0;        // server sockets that saw the FINs cross
    uint64_t resets = 0;              // server sockets torn down by RST
    uint64_t time_wait_server = 0;    // TIME_WAIT held by the server side
    uint64_t time_wait_client = 0;
    Reason dominant_reason = Reason::Unknown;  // most common reason on server sockets
    std::string server_comm;          // most common server owner comm
};

PortVerdict port_verdict(const std::vector<CloseEvent>& events, uint16_t port);

// Five lines: who closed first, the FIN split, where TIME_WAIT is held, the
// reason, and what it means.
std::vector<std::string> verdict_lines(const PortVerdict& v);

}  // namespace whoclosed
