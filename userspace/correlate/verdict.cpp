#include "correlate/verdict.h"

#include <algorithm>

#include "http/http_syntax.h"

namespace whoclosed {

namespace {

// Index = enum wc_tcp_state; the names the kernel uses (tcp_states.h).
constexpr const char* kStateNames[] = {
    nullptr,     "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
    "CLOSE",     "CLOSE_WAIT",  "LAST_ACK",   "LISTEN",   "CLOSING",   "NEW_SYN_RECV",
};

constexpr double kIdleTimeoutMs = 1000.0;  // contract: "first FIN after >= 1 s with no payload"

enum class HttpCloser { Server, Client, Unknown };

// Which HTTP side sent the first FIN, from this socket's view: its side as
// the bytes tell it (who read the requests), else as the handshake does.
HttpCloser http_closer(const CloseVerdict& verdict, const HttpExchange& http) {
    const Role side = http.side != Role::Unknown ? http.side : verdict.role;
    if (side == Role::Unknown) return HttpCloser::Unknown;
    if (verdict.first_fin == FirstFin::Local) return side == Role::Server ? HttpCloser::Server : HttpCloser::Client;
    if (verdict.first_fin == FirstFin::Remote) return side == Role::Server ? HttpCloser::Client : HttpCloser::Server;
    return HttpCloser::Unknown;
}

// The last request got its response: nothing was left in flight when the FIN went.
bool answered(const HttpExchange& http) {
    return http.last_request_answered && http.last_request && http.last_response;
}

Role role_of(std::span<const unsigned char> states) {
    if (states.empty()) return Role::Unknown;
    switch (states.front()) {
        case WC_TCP_SYN_SENT: return Role::Client;
        // A request sock (NEW_SYN_RECV) only ever becomes an accepted child.
        case WC_TCP_SYN_RECV:
        case WC_TCP_NEW_SYN_RECV: return Role::Server;
        default: return Role::Unknown;
    }
}

FirstFin first_fin_of(std::span<const unsigned char> states) {
    // FIN_WAIT1 -> CLOSING means both FINs crossed on the wire.
    if (std::find(states.begin(), states.end(), WC_TCP_CLOSING) != states.end())
        return FirstFin::Simultaneous;
    for (unsigned char s : states) {
        if (s == WC_TCP_FIN_WAIT1) return FirstFin::Local;    // we sent FIN first
        if (s == WC_TCP_CLOSE_WAIT) return FirstFin::Remote;  // their FIN came first
        // A socket older than the trace, first seen past those: our FIN
        // was acked before theirs came, or we answered theirs.
        if (s == WC_TCP_FIN_WAIT2) return FirstFin::Local;
        if (s == WC_TCP_LAST_ACK) return FirstFin::Remote;
    }
    return FirstFin::None;  // reset or failed handshake: no FIN at all
}

// The kernel side looked for the socket's timewait socket and found none
// (tcp_max_tw_buckets full), whatever the states say.
bool no_timewait_found(uint32_t flags) { return (flags & WC_F_TW_CHECKED) && !(flags & WC_F_TIME_WAIT_SEEN); }

ResetDir reset_of(uint32_t flags) {
    // If both happened, ours is what tore the connection down from this host's view.
    if (flags & WC_F_RST_SENT) return ResetDir::Sent;
    if (flags & WC_F_RST_RECEIVED) return ResetDir::Received;
    return ResetDir::None;
}

// The kernel swaps in a timewait sock from FIN_WAIT2 (our FIN acked) or
// CLOSING (crossed FINs); the full socket then goes straight to CLOSE. A RST
// we sent aborts instead (tcp_close with linger 0, or unread data).
bool time_wait_of(std::span<const unsigned char> states, ResetDir reset) {
    if (states.size() < 2 || states.back() != WC_TCP_CLOSE || reset == ResetDir::Sent) return false;
    const unsigned char before = states[states.size() - 2];
    return before == WC_TCP_FIN_WAIT2 || before == WC_TCP_CLOSING;
}

}  // namespace

const char* tcp_state_name(unsigned state) {
    return state < std::size(kStateNames) ? kStateNames[state] : nullptr;
}

CloseVerdict derive_verdict(std::span<const unsigned char> states, uint32_t flags) {
    CloseVerdict v;
    v.role = role_of(states);
    v.first_fin = first_fin_of(states);
    v.reset = reset_of(flags);
    // A record the stale sweep completed lacks its last transitions: what
    // the kernel still holds (a timewait socket with its cookie) decides.
    if (flags & WC_F_RECOVERED)
        v.time_wait = (flags & WC_F_TIME_WAIT_SEEN) && v.reset != ResetDir::Sent;
    else
        v.time_wait = time_wait_of(states, v.reset);
    if (no_timewait_found(flags)) v.time_wait = false;
    v.states.reserve(states.size());
    for (unsigned char s : states) {
        const char* name = tcp_state_name(s);
        v.states.emplace_back(name ? name : "UNKNOWN");
    }
    return v;
}

CloseVerdict derive_verdict(const close_record& rec) {
    const size_t n = std::min<size_t>(rec.nstates, WC_MAX_STATES);
    return derive_verdict(std::span<const unsigned char>(rec.states, n), rec.flags);
}

bool time_wait_dropped(const close_record& rec) {
    if (!no_timewait_found(rec.flags) || (rec.flags & WC_F_RECOVERED)) return false;
    const size_t n = std::min<size_t>(rec.nstates, WC_MAX_STATES);
    return time_wait_of(std::span<const unsigned char>(rec.states, n), reset_of(rec.flags));
}

Reason infer_tcp_reason(const CloseVerdict& verdict, bool closer_exiting, std::optional<double> idle_ms,
                        const std::optional<HttpExchange>& http) {
    if (verdict.reset != ResetDir::None) return Reason::Reset;
    if (verdict.first_fin == FirstFin::Simultaneous) return Reason::Simultaneous;
    if (verdict.first_fin == FirstFin::Local && closer_exiting) return Reason::ProcessExit;
    const HttpCloser closer = http ? http_closer(verdict, *http) : HttpCloser::Unknown;
    if (closer == HttpCloser::Server && answered(*http)) {
        if (wants_close(http->last_request->version, http->last_request->connection))
            return Reason::RequestConnectionClose;
        const HttpResponseHead& resp = *http->last_response;
        if (wants_close(resp.version, resp.connection)) return Reason::ResponseConnectionClose;
    }
    const bool had_fin = verdict.first_fin == FirstFin::Local || verdict.first_fin == FirstFin::Remote;
    if (had_fin && idle_ms && *idle_ms >= kIdleTimeoutMs) return Reason::IdleTimeout;
    if (closer == HttpCloser::Client && answered(*http)) return Reason::ClientClose;
    return Reason::Unknown;
}

}  // namespace whoclosed
