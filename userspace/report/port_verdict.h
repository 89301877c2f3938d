// Who closes first on one service port, in plain words: the demo's verdict,
// the top of `report` and its first-FIN matrix. Tallied one event at a time
// so that `report` never has to keep a trace's events.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/close_event.h"
#include "report/bounded_map.h"

namespace whoclosed {

// How the sockets of one side of a port ended. "local" is that socket's
// own side: on server sockets fin_local means the server closed first.
struct SideTally {
    uint64_t sockets = 0;
    uint64_t fin_local = 0;
    uint64_t fin_remote = 0;
    uint64_t fin_simultaneous = 0;
    uint64_t fin_none = 0;
    uint64_t resets = 0;       // reset sent or received
    uint64_t time_wait = 0;    // this host holds the TIME_WAIT
};

struct PortVerdict {
    uint16_t port = 0;
    SideTally server;   // role server, lport == port (this host accepted)
    SideTally client;   // role client, rport == port (this host connected)
    Reason dominant_reason = Reason::Unknown;  // on server sockets, else client sockets
    std::string server_comm;   // most common owner comm of server sockets ("?" if none)
    std::string client_comm;   // most common owner comm of client sockets ("?" if none)
    std::string user_agent;    // most common request User-Agent ("" if none seen)
};

// The service port of a socket: local for accepted sockets, remote for
// connected ones, the lower of the two when the role is unknown.
uint16_t service_port(const CloseEvent& ev);

class PortTally {
public:
    explicit PortTally(uint16_t port = 0);
    // Counts ev if `port` is its service port on a known side; user_agent is
    // the last request's User-Agent when HTTP was seen.
    void add(const CloseEvent& ev, std::string_view user_agent = {});
    PortVerdict verdict() const;

private:
    PortVerdict v_;
    std::map<Reason, uint64_t> server_reasons_, client_reasons_;
    BoundedMap<uint64_t> server_comms_{64}, client_comms_{64}, agents_{64};
};

PortVerdict port_verdict(const std::vector<CloseEvent>& events, uint16_t port);

// Five lines: who closed first, the FIN split, where TIME_WAIT is held, the
// reason, and what it means.
std::vector<std::string> verdict_lines(const PortVerdict& v);

// One sentence-per-fact paragraph for the top of a report, e.g.
// "server:8081 (server) closed first in 99.7% of 1234 connections; ...".
std::string verdict_paragraph(const PortVerdict& v);

std::string percent(uint64_t part, uint64_t whole);

}  // namespace whoclosed
