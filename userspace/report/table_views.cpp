// The report's tables as cells: what the text and HTML renderings share.
#include <algorithm>

#include "report/render.h"

namespace whoclosed {

namespace {

constexpr size_t kBarWidth = 30;

std::string n(uint64_t v) { return std::to_string(v); }

std::string more_rows(size_t shown, size_t all) {
    return all > shown ? "... " + n(all - shown) + " more rows (--format json lists all)" : "";
}

TableView group_view(const ReportTable& t, uint64_t total, size_t max_rows) {
    TableView v{std::string("by-") + to_string(t.by), std::string("By ") + table_title(t.by),
                {to_string(t.by), "closes", "%", "first FIN here", "TIME_WAIT here", "top reason"},
                {}, {0, 5}, more_rows(max_rows, t.rows.size())};
    for (size_t i = 0; i < t.rows.size() && i < max_rows; i++) {
        const GroupStats& g = t.rows[i].stats;
        v.rows.push_back({t.rows[i].key, n(g.closes), percent(g.closes, total), n(g.fin_local),
                          n(g.time_wait), to_string(g.top_reason())});
    }
    return v;
}

TableView ports_view(const std::vector<PortVerdict>& ports) {
    TableView v{"first-fin", "First FIN per port",
                {"port", "seen from", "sockets", "server first", "client first", "simultaneous",
                 "no FIN", "resets"}, {}, {0, 1}, ""};
    auto row = [&](const PortVerdict& p, const SideTally& t, bool server_side) {
        const FinSplit f = fin_split(t, server_side);
        v.rows.push_back({n(p.port), server_side ? "server sockets" : "client sockets", n(t.sockets),
                          percent(f.server_first, t.sockets), percent(f.client_first, t.sockets),
                          percent(f.simultaneous, t.sockets), percent(f.none, t.sockets), n(t.resets)});
    };
    for (const PortVerdict& p : ports) {
        if (p.server.sockets) row(p, p.server, true);
        if (p.client.sockets) row(p, p.client, false);
    }
    return v;
}

TableView holders_view(const std::vector<TimeWaitHolder>& holders, size_t max_rows) {
    TableView v{"time-wait", "TIME_WAIT held on this host",
                {"port", "side", "comm", "TIME_WAIT", "top reason", "top User-Agent"}, {},
                {0, 1, 2, 4, 5}, more_rows(max_rows, holders.size())};
    for (size_t i = 0; i < holders.size() && i < max_rows; i++) {
        const TimeWaitHolder& h = holders[i];
        v.rows.push_back({n(h.port), to_string(h.side), h.comm, n(h.count), to_string(h.top_reason),
                          h.top_user_agent.empty() ? "-" : h.top_user_agent});
    }
    if (holders.empty()) v.note = "none";
    return v;
}

TableView requests_view(const RequestHistogram& h) {
    TableView v{"requests", "Requests per connection (sockets with HTTP: " + n(h.http_sockets) +
                                "; without: " + n(h.no_http) + ")",
                {"requests", "sockets", "%", ""}, {}, {0, 3}, ""};
    uint64_t most = 0;
    for (const RequestBucket& b : h.buckets) most = std::max(most, b.sockets);
    for (const RequestBucket& b : h.buckets)
        v.rows.push_back({b.label, n(b.sockets), percent(b.sockets, h.http_sockets),
                          std::string(most ? (b.sockets * kBarWidth + most / 2) / most : 0, '#')});
    const uint64_t single = h.buckets.size() > 1 ? h.buckets[1].sockets : 0;
    if (h.http_sockets)
        v.note = "=> " + n(single) + " of " + n(h.http_sockets) + " HTTP sockets (" +
                 percent(single, h.http_sockets) +
                 ") carried a single request: keep-alive wasted on them";
    return v;
}

TableView trace_view(const ReadStats& r) {
    TableView v{"trace", "Trace", {"", ""}, {}, {0}, ""};
    v.rows = {{"lines read", n(r.lines)},
              {"close events", n(r.closes)},
              {"malformed lines skipped", n(r.malformed)},
              {"other lines ignored", n(r.other)},
              {"events lost (kernel)", r.summary ? n(r.summary->lost) : "unknown: no summary line"}};
    if (r.summary)
        v.rows.push_back({"attach mode / http mode", r.summary->attach_mode + " / " + r.summary->http_mode});
    return v;
}

}  // namespace

FinSplit fin_split(const SideTally& t, bool server_side) {
    return server_side ? FinSplit{t.fin_local, t.fin_remote, t.fin_simultaneous, t.fin_none}
                       : FinSplit{t.fin_remote, t.fin_local, t.fin_simultaneous, t.fin_none};
}

std::vector<TableView> table_views(const ReportData& d, size_t max_rows) {
    std::vector<TableView> views;
    for (const ReportTable& t : d.tables) views.push_back(group_view(t, d.read.closes, max_rows));
    views.push_back(ports_view(d.ports));
    views.push_back(holders_view(d.holders, max_rows));
    views.push_back(requests_view(d.requests));
    views.push_back(trace_view(d.read));
    return views;
}

}  // namespace whoclosed
