#include "sink/text_sink.h"

#include <cstdio>
#include <vector>

#include "sink/json.h"

namespace whoclosed {

namespace {

// comm is whatever bytes a process chose (prctl PR_SET_NAME): keep printable
// ASCII, show the rest as \xNN so the terminal never interprets them.
std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out += static_cast<char>(c);
        } else {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

std::string endpoint(const std::string& addr, uint16_t port, bool ipv6) {
    const std::string host = ipv6 ? "[" + addr + "]" : addr;
    return host + ":" + std::to_string(port);
}

std::string owner_text(const std::optional<OwnerInfo>& o) {
    if (!o) return "-";
    return printable(o->comm) + "[" + std::to_string(o->pid) + "]";
}

std::string closer_text(const std::optional<CloserInfo>& c) {
    if (!c) return "-";
    std::string s = printable(c->comm) + "[" + std::to_string(c->pid) + "/" + std::to_string(c->tid) + "]";
    if (c->exiting) s += "(exiting)";
    return s;
}

// " http: GET /x -> 200 (Connection: close, UA curl/8.5.0)", with the
// request count when there were several; header values kept printable.
std::string http_text(const std::optional<HttpExchange>& http) {
    if (!http) return {};
    std::string s = " http: ";
    if (http->requests > 1) s += std::to_string(http->requests) + " requests, last ";
    std::vector<std::string> notes;
    if (const auto& r = http->last_request) {
        s += printable(r->method) + " " + (r->path ? printable(*r->path) : "?");
        if (r->connection) notes.push_back("Connection: " + printable(*r->connection));
        if (r->user_agent) notes.push_back("UA " + printable(*r->user_agent));
    } else {
        s += "?";
    }
    s += " -> ";
    if (const auto& r = http->last_response) {
        s += std::to_string(r->status);
        if (r->connection) notes.push_back("response Connection: " + printable(*r->connection));
    } else {
        s += "?";
    }
    for (size_t i = 0; i < notes.size(); ++i) s += (i ? ", " : " (") + notes[i];
    if (!notes.empty()) s += ")";
    return s;
}

std::string number(double v) {
    std::string s;
    append_json_double(s, v);
    return s;
}

}  // namespace

void append_close_event_text(ByteBuffer& out, const CloseEvent& ev) { out.append(close_event_text(ev)); }

std::string close_event_text(const CloseEvent& ev) {
    std::string line = format_rfc3339_ns(ev.ts_unix_ns);
    line += " " + endpoint(ev.laddr, ev.lport, ev.ipv6) + " -> " + endpoint(ev.raddr, ev.rport, ev.ipv6);
    line += std::string(" ") + to_string(ev.role);
    line += std::string(" first_fin=") + to_string(ev.first_fin);
    line += std::string(" reset=") + to_string(ev.reset);
    if (ev.time_wait) line += " TIME_WAIT here";
    line += std::string(" reason=") + to_string(ev.reason);
    line += " owner=" + owner_text(ev.owner);
    line += " closer=" + closer_text(ev.closer);
    line += http_text(ev.http);
    return line;
}

std::string summary_text(const Summary& s) {
    std::string line = "summary: " + std::to_string(s.events) + " closes in " + number(s.duration_s) +
                       " s, " + std::to_string(s.lost) + " lost; reasons:";
    for (Reason r : kAllReasons)
        if (uint64_t n = s.by_reason[static_cast<size_t>(r)])
            line += std::string(" ") + to_string(r) + "=" + std::to_string(n);
    line += "; first FIN:";
    for (FirstFin f : kAllFirstFins)
        if (uint64_t n = s.by_first_fin[static_cast<size_t>(f)])
            line += std::string(" ") + to_string(f) + "=" + std::to_string(n);
    line += "; TIME_WAIT here: " + std::to_string(s.time_wait_local);
    line += "; attach " + printable(s.attach_mode) + ", http " + printable(s.http_mode);
    return line;
}

}  // namespace whoclosed
