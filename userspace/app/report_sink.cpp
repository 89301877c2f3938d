#include "app/report_sink.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "report/render.h"

namespace whoclosed {

void ReportingSink::write(const CloseEvent& ev) {
    inner_.write(ev);
    TraceRecord rec;
    rec.event = ev;
    if (ev.http) {
        HttpSeen seen;
        seen.requests = ev.http->requests;
        if (ev.http->last_request && ev.http->last_request->user_agent)
            seen.user_agent = *ev.http->last_request->user_agent;
        rec.http = seen;
    }
    stats_.lines++;
    stats_.closes++;
    agg_.add(rec);
}

void ReportingSink::write_summary(const Summary& s) {
    inner_.write_summary(s);
    stats_.lines++;
    stats_.summary = TraceSummary{s.events, s.lost, s.duration_s, s.attach_mode, s.http_mode};
}

bool ReportingSink::write_html(const std::string& path, std::string& error) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (out) out << render_html(agg_.finish(ReportBy::Closer, stats_), agg_.stacks());
    out.close();
    if (!out) error = std::strerror(errno);
    return static_cast<bool>(out);
}

}  // namespace whoclosed
