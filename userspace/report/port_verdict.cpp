#include "report/port_verdict.h"

#include <algorithm>
#include <cstdio>

namespace whoclosed {

namespace {

Reason most_common(const std::map<Reason, uint64_t>& counts) {
    Reason best = Reason::Unknown;
    uint64_t best_n = 0;
    for (const auto& [k, n] : counts)
        if (n > best_n) best = k, best_n = n;
    return best;
}

std::string or_unknown(std::string s) { return s.empty() ? "?" : s; }

void tally_side(SideTally& t, const CloseEvent& ev) {
    t.sockets++;
    t.fin_local += ev.first_fin == FirstFin::Local;
    t.fin_remote += ev.first_fin == FirstFin::Remote;
    t.fin_simultaneous += ev.first_fin == FirstFin::Simultaneous;
    t.fin_none += ev.first_fin == FirstFin::None;
    t.resets += ev.reset != ResetDir::None;
    t.time_wait += ev.time_wait;
}

// The client-side view when this host only connected to the port.
std::string client_paragraph(const PortVerdict& v) {
    const SideTally& c = v.client;
    std::string who = "clients on this host (" + v.client_comm + ") connecting to port " +
                      std::to_string(v.port);
    std::string s = who + ": the server closed first in " + percent(c.fin_remote, c.sockets) +
                    " of " + std::to_string(c.sockets) + " connections, this host in " +
                    percent(c.fin_local, c.sockets);
    s += "; this host holds the TIME_WAIT for " + std::to_string(c.time_wait) + " of them";
    return s;
}

std::string server_paragraph(const PortVerdict& v) {
    const SideTally& s = v.server;
    const std::string who = "server:" + std::to_string(v.port) + " (" + v.server_comm + ")";
    const std::string n = std::to_string(s.sockets);
    std::string out;
    if (s.fin_local * 2 > s.sockets)
        out = who + " closed first in " + percent(s.fin_local, s.sockets) + " of " + n +
              " connections";
    else if (s.fin_remote * 2 > s.sockets)
        out = "the clients closed first in " + percent(s.fin_remote, s.sockets) + " of " + n +
              " connections to " + who;
    else
        out = "no side dominates on " + who + ": server first " +
              percent(s.fin_local, s.sockets) + ", client first " +
              percent(s.fin_remote, s.sockets) + ", crossed " +
              percent(s.fin_simultaneous, s.sockets) + ", no FIN " +
              percent(s.fin_none, s.sockets) + " of " + n + " connections";
    out += "; this host holds the TIME_WAIT for " + std::to_string(s.time_wait) + " of them";
    return out;
}

}  // namespace

std::string percent(uint64_t part, uint64_t whole) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f%%", whole ? 100.0 * part / whole : 0.0);
    return buf;
}

uint16_t service_port(const CloseEvent& ev) {
    switch (ev.role) {
        case Role::Server: return ev.lport;
        case Role::Client: return ev.rport;
        case Role::Unknown: break;
    }
    return std::min(ev.lport, ev.rport);
}

PortTally::PortTally(uint16_t port) { v_.port = port; }

void PortTally::add(const CloseEvent& ev, std::string_view user_agent) {
    if (ev.role == Role::Server && ev.lport == v_.port) {
        tally_side(v_.server, ev);
        server_reasons_[ev.reason]++;
        if (ev.owner) server_comms_.at(ev.owner->comm)++;
    } else if (ev.role == Role::Client && ev.rport == v_.port) {
        tally_side(v_.client, ev);
        client_reasons_[ev.reason]++;
        if (ev.owner) client_comms_.at(ev.owner->comm)++;
    } else {
        return;
    }
    if (!user_agent.empty()) agents_.at(std::string(user_agent))++;
}

PortVerdict PortTally::verdict() const {
    PortVerdict v = v_;
    v.dominant_reason = most_common(v.server.sockets ? server_reasons_ : client_reasons_);
    v.server_comm = or_unknown(most_counted(server_comms_));
    v.client_comm = or_unknown(most_counted(client_comms_));
    v.user_agent = most_counted(agents_);
    return v;
}

PortVerdict port_verdict(const std::vector<CloseEvent>& events, uint16_t port) {
    PortTally tally(port);
    for (const CloseEvent& ev : events) tally.add(ev);
    return tally.verdict();
}

std::vector<std::string> verdict_lines(const PortVerdict& v) {
    const uint64_t n = v.server.sockets;
    const bool server_closes = v.server.fin_local * 2 > n;
    std::string who = "server:" + std::to_string(v.port) + " (" + v.server_comm + ")";
    std::vector<std::string> lines;
    lines.push_back(who + (server_closes ? " closed first " : " did not close first: ") +
                    percent(v.server.fin_local, n) + " of " + std::to_string(n) + " connections");
    lines.push_back("first FIN: server " + std::to_string(v.server.fin_local) + ", client " +
                    std::to_string(v.client.fin_local) + ", crossed (simultaneous) " +
                    std::to_string(v.server.fin_simultaneous) + ", reset " +
                    std::to_string(v.server.resets));
    lines.push_back("TIME_WAIT held here: server side " + std::to_string(v.server.time_wait) +
                    ", client side " + std::to_string(v.client.time_wait));
    lines.push_back(std::string("reason (server sockets): ") + to_string(v.dominant_reason));
    lines.push_back(server_closes
                        ? "=> the server, not the client, ends these connections, so the server "
                          "host accumulates TIME_WAIT sockets"
                        : "=> the clients end these connections and hold the TIME_WAIT");
    return lines;
}

std::string verdict_paragraph(const PortVerdict& v) {
    if (v.server.sockets == 0 && v.client.sockets == 0)
        return "no connection on port " + std::to_string(v.port);
    std::string s = v.server.sockets ? server_paragraph(v) : client_paragraph(v);
    s += std::string("; dominant reason ") + to_string(v.dominant_reason);
    if (!v.user_agent.empty()) s += "; clients: " + v.user_agent;
    return s + ".";
}

}  // namespace whoclosed
