#include "report/port_verdict.h"

#include <cstdio>
#include <map>

namespace whoclosed {

namespace {

template <typename K>
K most_common(const std::map<K, uint64_t>& counts, K fallback) {
    K best = fallback;
    uint64_t best_n = 0;
    for (const auto& [k, n] : counts)
        if (n > best_n) best = k, best_n = n;
    return best;
}

std::string percent(uint64_t part, uint64_t whole) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f%%", whole ? 100.0 * part / whole : 0.0);
    return buf;
}

}  // namespace

PortVerdict port_verdict(const std::vector<CloseEvent>& events, uint16_t port) {
    PortVerdict v;
    v.port = port;
    std::map<Reason, uint64_t> reasons;
    std::map<std::string, uint64_t> comms;
    for (const CloseEvent& ev : events) {
        if (ev.role == Role::Server && ev.lport == port) {
            v.server_sockets++;
            v.server_first += ev.first_fin == FirstFin::Local;
            v.simultaneous += ev.first_fin == FirstFin::Simultaneous;
            v.resets += ev.reset != ResetDir::None;
            v.time_wait_server += ev.time_wait;
            reasons[ev.reason]++;
            if (ev.owner) comms[ev.owner->comm]++;
        } else if (ev.role == Role::Client && ev.rport == port) {
            v.client_sockets++;
            v.client_first += ev.first_fin == FirstFin::Local;
            v.time_wait_client += ev.time_wait;
        }
    }
    v.dominant_reason = most_common(reasons, Reason::Unknown);
    v.server_comm = most_common(comms, std::string("?"));
    return v;
}

std::vector<std::string> verdict_lines(const PortVerdict& v) {
    const uint64_t n = v.server_sockets;
    const bool server_closes = v.server_first * 2 > n;
    std::string who = "server:" + std::to_string(v.port) + " (" + v.server_comm + ")";
    std::vector<std::string> lines;
    lines.push_back(who + (server_closes ? " closed first " : " did not close first: ") +
                    percent(v.server_first, n) + " of " + std::to_string(n) + " connections");
    lines.push_back("first FIN: server " + std::to_string(v.server_first) + ", client " +
                    std::to_string(v.client_first) + ", crossed (simultaneous) " +
                    std::to_string(v.simultaneous) + ", reset " + std::to_string(v.resets));
    lines.push_back("TIME_WAIT held here: server side " + std::to_string(v.time_wait_server) +
                    ", client side " + std::to_string(v.time_wait_client));
    lines.push_back(std::string("reason (server sockets): ") + to_string(v.dominant_reason));
    lines.push_back(server_closes
                        ? "=> the server, not the client, ends these connections, so the server "
                          "host accumulates TIME_WAIT sockets"
                        : "=> the clients end these connections and hold the TIME_WAIT");
    return lines;
}

}  // namespace whoclosed
