#include "report/aggregate.h"

#include <algorithm>

namespace whoclosed {

namespace {

constexpr std::array<ReportBy, 5> kAllBys{ReportBy::Closer, ReportBy::Owner, ReportBy::Port,
                                          ReportBy::Peer, ReportBy::Reason};
constexpr std::array<const char*, 7> kBucketLabels{"0", "1", "2", "3-5", "6-10", "11-100", ">100"};

size_t bucket_of(uint64_t requests) {
    if (requests <= 2) return static_cast<size_t>(requests);
    if (requests <= 5) return 3;
    if (requests <= 10) return 4;
    if (requests <= 100) return 5;
    return 6;
}

// Who a closed socket belongs to for the TIME_WAIT table: the task that
// closed it, else its owner.
std::string holder_comm(const CloseEvent& ev) {
    if (ev.closer) return ev.closer->comm;
    if (ev.owner) return ev.owner->comm;
    return "?";
}

std::string table_key(ReportBy by, const CloseEvent& ev) {
    switch (by) {
        case ReportBy::Closer: return ev.closer ? ev.closer->comm : "(kernel: no closing task)";
        case ReportBy::Owner: return ev.owner ? ev.owner->comm : "(unknown owner)";
        case ReportBy::Port: return std::to_string(service_port(ev));
        case ReportBy::Peer: return ev.raddr;
        case ReportBy::Reason: return to_string(ev.reason);
    }
    return "?";
}

template <size_t N>
Reason top_of(const std::array<uint64_t, N>& reasons) {
    Reason best = Reason::Unknown;
    uint64_t best_n = 0;
    for (Reason r : kAllReasons)
        if (reasons[static_cast<size_t>(r)] > best_n) best = r, best_n = reasons[static_cast<size_t>(r)];
    return best;
}

// The port the verdict is about: most accepted sockets, else most connected.
std::optional<uint16_t> verdict_port(const std::vector<PortVerdict>& ports) {
    const PortVerdict* best = nullptr;
    for (const PortVerdict& p : ports)
        if (p.server.sockets && (!best || p.server.sockets > best->server.sockets)) best = &p;
    for (const PortVerdict& p : ports)
        if (!best || (!best->server.sockets && p.client.sockets > best->client.sockets)) best = &p;
    return best ? std::optional<uint16_t>(best->port) : std::nullopt;
}

}  // namespace

Reason GroupStats::top_reason() const { return top_of(reasons); }

const char* table_title(ReportBy by) {
    switch (by) {
        case ReportBy::Closer: return "closer (comm)";
        case ReportBy::Owner: return "owner (comm)";
        case ReportBy::Port: return "port (local port of accepted sockets, remote port of connected ones)";
        case ReportBy::Peer: return "peer (remote address)";
        case ReportBy::Reason: return "reason";
    }
    return "?";
}

void ReportAggregate::add(const TraceRecord& rec) {
    const CloseEvent& ev = rec.event;
    add_to_tables(rec);
    const uint16_t port = service_port(ev);
    ports_.try_emplace(port, port).first->second.add(ev, rec.http ? rec.http->user_agent : "");
    if (ev.time_wait) add_holder(rec);
    time_wait_ += ev.time_wait;
    if (rec.http) request_buckets_[bucket_of(rec.http->requests)]++;
    else no_http_++;
    stacks_.add(ev);
}

void ReportAggregate::add_to_tables(const TraceRecord& rec) {
    const CloseEvent& ev = rec.event;
    for (ReportBy by : kAllBys) {
        GroupStats& g = tables_[static_cast<size_t>(by)].at(table_key(by, ev));
        g.closes++;
        g.fin_local += ev.first_fin == FirstFin::Local;
        g.time_wait += ev.time_wait;
        g.reasons[static_cast<size_t>(ev.reason)]++;
    }
}

void ReportAggregate::add_holder(const TraceRecord& rec) {
    const CloseEvent& ev = rec.event;
    const std::string comm = holder_comm(ev);
    const uint16_t port = service_port(ev);
    HolderStats& h = holders_.at(std::string(to_string(ev.role)) + ':' + std::to_string(port) + ':' + comm);
    if (h.id.count == 0) h.id = TimeWaitHolder{port, ev.role, comm};
    h.id.count++;
    h.reasons[static_cast<size_t>(ev.reason)]++;
    if (rec.http && !rec.http->user_agent.empty()) h.agents.at(rec.http->user_agent)++;
}

std::vector<TimeWaitHolder> ReportAggregate::ranked_holders() const {
    std::vector<TimeWaitHolder> out;
    for (const auto& [key, h] : holders_.ranked([](const HolderStats& s) { return s.id.count; })) {
        TimeWaitHolder t = h.id;
        if (key == kOtherKey) t.comm = kOtherKey, t.port = 0, t.side = Role::Unknown;
        t.top_reason = top_of(h.reasons);
        t.top_user_agent = most_counted(h.agents);
        out.push_back(std::move(t));
    }
    return out;
}

std::string ReportAggregate::describe(const ReportData& d) const {
    if (d.read.closes == 0) return "No close events in this trace.";
    std::string s;
    for (const PortVerdict& p : d.ports)
        if (d.verdict_port && p.port == *d.verdict_port) s = verdict_paragraph(p) + " ";
    s += "Across the trace: " + std::to_string(d.read.closes) + " closes on " +
         std::to_string(d.ports.size()) + (d.ports.size() == 1 ? " port" : " ports") +
         "; this host holds " + std::to_string(d.time_wait_total) + " TIME_WAITs; ";
    s += d.read.summary ? std::to_string(d.read.summary->lost) + " events lost"
                        : "events lost unknown (no summary line)";
    return s + "; " + std::to_string(d.read.malformed) + " malformed lines skipped.";
}

ReportData ReportAggregate::finish(ReportBy primary, const ReadStats& read) const {
    ReportData d;
    d.primary = primary;
    d.read = read;
    d.time_wait_total = time_wait_;
    std::vector<ReportBy> order{primary};
    for (ReportBy by : kAllBys)
        if (by != primary) order.push_back(by);
    for (ReportBy by : order) {
        ReportTable t{by, {}};
        for (auto& [key, g] : tables_[static_cast<size_t>(by)].ranked([](const GroupStats& s) { return s.closes; }))
            t.rows.push_back({key, g});
        d.tables.push_back(std::move(t));
    }
    for (const auto& [port, tally] : ports_) {
        PortVerdict v = tally.verdict();
        if (v.server.sockets + v.client.sockets) d.ports.push_back(std::move(v));
    }
    std::stable_sort(d.ports.begin(), d.ports.end(), [](const PortVerdict& a, const PortVerdict& b) {
        return a.server.sockets + a.client.sockets > b.server.sockets + b.client.sockets;
    });
    d.verdict_port = verdict_port(d.ports);
    d.holders = ranked_holders();
    d.requests.no_http = no_http_;
    for (size_t i = 0; i < kBucketLabels.size(); i++) {
        d.requests.buckets.push_back({kBucketLabels[i], request_buckets_[i]});
        d.requests.http_sockets += request_buckets_[i];
    }
    d.verdict = describe(d);
    return d;
}

}  // namespace whoclosed
