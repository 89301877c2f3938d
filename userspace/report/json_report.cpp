// `report --format json`: the text report's content as one JSON document,
// every table complete (text shows the top rows only).
#include "report/render.h"
#include "sink/json.h"

namespace whoclosed {

namespace {

void table_json(std::string& out, const ReportTable& t) {
    out += '[';
    for (size_t i = 0; i < t.rows.size(); i++) {
        if (i) out += ',';
        const GroupStats& g = t.rows[i].stats;
        JsonObjectWriter(out)
            .str("key", t.rows[i].key)
            .uint("closes", g.closes)
            .uint("first_fin_local", g.fin_local)
            .uint("time_wait", g.time_wait)
            .str("top_reason", to_string(g.top_reason()))
            .end();
    }
    out += ']';
}

void side_json(std::string& out, const PortVerdict& p, const SideTally& t, bool server_side) {
    const FinSplit f = fin_split(t, server_side);
    JsonObjectWriter(out)
        .uint("port", p.port)
        .str("seen_from", server_side ? "server" : "client")
        .uint("sockets", t.sockets)
        .uint("server_first", f.server_first)
        .uint("client_first", f.client_first)
        .uint("simultaneous", f.simultaneous)
        .uint("none", f.none)
        .uint("resets", t.resets)
        .uint("time_wait", t.time_wait)
        .end();
}

void ports_json(std::string& out, const std::vector<PortVerdict>& ports) {
    out += '[';
    bool first = true;
    for (const PortVerdict& p : ports)
        for (bool server_side : {true, false}) {
            const SideTally& t = server_side ? p.server : p.client;
            if (!t.sockets) continue;
            if (!first) out += ',';
            first = false;
            side_json(out, p, t, server_side);
        }
    out += ']';
}

void holders_json(std::string& out, const std::vector<TimeWaitHolder>& holders) {
    out += '[';
    for (size_t i = 0; i < holders.size(); i++) {
        if (i) out += ',';
        const TimeWaitHolder& h = holders[i];
        JsonObjectWriter w(out);
        w.uint("port", h.port).str("side", to_string(h.side)).str("comm", h.comm);
        w.uint("count", h.count).str("top_reason", to_string(h.top_reason));
        if (h.top_user_agent.empty()) w.null("top_user_agent");
        else w.str("top_user_agent", h.top_user_agent);
        w.end();
    }
    out += ']';
}

void requests_json(std::string& out, const RequestHistogram& h) {
    JsonObjectWriter w(out);
    w.uint("http_sockets", h.http_sockets).uint("no_http", h.no_http);
    std::string& b = w.key("buckets");
    b += '[';
    for (size_t i = 0; i < h.buckets.size(); i++) {
        if (i) b += ',';
        JsonObjectWriter(b).str("requests", h.buckets[i].label).uint("sockets", h.buckets[i].sockets).end();
    }
    b += ']';
    w.end();
}

void input_json(std::string& out, const ReadStats& r) {
    JsonObjectWriter w(out);
    w.uint("lines", r.lines).uint("closes", r.closes).uint("malformed", r.malformed).uint("other", r.other);
    if (r.summary) w.uint("lost", r.summary->lost).str("attach_mode", r.summary->attach_mode)
                       .str("http_mode", r.summary->http_mode).dbl("duration_s", r.summary->duration_s);
    else w.null("lost").null("attach_mode").null("http_mode").null("duration_s");
    w.end();
}

}  // namespace

std::string render_json(const ReportData& d) {
    std::string out;
    JsonObjectWriter w(out);
    w.str("type", "report").str("by", to_string(d.primary)).str("verdict", d.verdict);
    w.opt_uint("verdict_port", d.verdict_port ? std::optional<uint64_t>(*d.verdict_port) : std::nullopt);
    input_json(w.key("input"), d.read);
    w.uint("time_wait_local", d.time_wait_total);
    std::string& tables = w.key("tables");
    JsonObjectWriter tw(tables);
    for (const ReportTable& t : d.tables) table_json(tw.dynamic_key(to_string(t.by)), t);
    tw.end();
    ports_json(w.key("first_fin"), d.ports);
    holders_json(w.key("time_wait_holders"), d.holders);
    requests_json(w.key("requests_per_connection"), d.requests);
    w.end();
    return out + '\n';
}

}  // namespace whoclosed
