// Reads the NDJSON of `whoclosed trace` line by line, handing each close
// event to a callback as it goes: a trace can hold millions of lines and
// `report` keeps none of them. A line that is not a well-formed event is
// reported (with its line number), skipped and counted, never fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>

#include "correlate/close_event.h"

namespace whoclosed {

// What `report` needs of the `http` object, which CloseEvent does not carry.
struct HttpSeen {
    uint64_t requests = 0;
    std::string user_agent;  // last request's User-Agent, "" if absent or null
};

struct TraceRecord {
    CloseEvent event;                // the fields report uses; stacks innermost first
    std::optional<HttpSeen> http;    // nullopt when the event's http is null
};

// The trace's final `summary` line, when there was one.
struct TraceSummary {
    uint64_t events = 0;
    uint64_t lost = 0;
    double duration_s = 0;
    std::string attach_mode;
    std::string http_mode;
};

struct ReadStats {
    uint64_t lines = 0;       // every line, blank ones included
    uint64_t closes = 0;      // well-formed close events handed to the callback
    uint64_t malformed = 0;   // skipped lines
    uint64_t other = 0;       // well-formed objects of another "type", ignored
    std::optional<TraceSummary> summary;
    bool read_error = false;  // the stream failed before its end
};

// Lines longer than this are malformed (and never buffered whole).
inline constexpr size_t kMaxLineBytes = 1 << 20;

ReadStats read_trace(std::istream& in, std::ostream& warnings,
                     const std::function<void(const TraceRecord&)>& on_close);

// Parses one line; on failure returns false and says why in `why`. The
// summary (if the line is one) goes to `summary`.
enum class LineKind { Close, Summary, Other, Blank, Malformed };
LineKind parse_trace_line(const std::string& line, TraceRecord& rec,
                          std::optional<TraceSummary>& summary, std::string& why);

}  // namespace whoclosed
