#include "report/trace_reader.h"

#include <nlohmann/json.hpp>

#include <array>
#include <limits>
#include <string_view>
#include <vector>

namespace whoclosed {

namespace {

using nlohmann::json;

// Each getter returns false and fills `why` when the key is missing or has
// the wrong type, so that the warning names the offending key.
bool fail(std::string& why, std::string_view key, std::string_view expected) {
    why = "key \"" + std::string(key) + "\" missing or not " + std::string(expected);
    return false;
}

bool get_string(const json& j, const char* key, std::string& out, std::string& why) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return fail(why, key, "a string");
    out = it->get<std::string>();
    return true;
}

bool get_uint(const json& j, const char* key, uint64_t max, uint64_t& out, std::string& why) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned() || it->get<uint64_t>() > max)
        return fail(why, key, "an unsigned integer <= " + std::to_string(max));
    out = it->get<uint64_t>();
    return true;
}

bool get_port(const json& j, const char* key, uint16_t& out, std::string& why) {
    uint64_t v = 0;
    if (!get_uint(j, key, 65535, v, why)) return false;
    out = static_cast<uint16_t>(v);
    return true;
}

bool get_strings(const json& j, const char* key, StackFrames& out, std::string& why) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array()) return fail(why, key, "an array of strings");
    std::vector<std::string> frames;
    for (const json& frame : *it) {
        if (!frame.is_string()) return fail(why, key, "an array of strings");
        frames.push_back(frame.get<std::string>());
    }
    out = StackFrames(std::move(frames));
    return true;
}

// A contract enum: the JSON spelling must be one of to_string(values).
template <typename E, size_t N>
bool get_enum(const json& j, const char* key, const std::array<E, N>& values, E& out,
              std::string& why) {
    std::string s;
    if (get_string(j, key, s, why))
        for (E e : values)
            if (s == to_string(e)) return out = e, true;
    return fail(why, key, "a known value");
}

// An object or null; false (with `why`) when neither.
bool get_nullable_object(const json& j, const char* key, const json*& out, std::string& why) {
    auto it = j.find(key);
    if (it == j.end() || !(it->is_object() || it->is_null())) return fail(why, key, "an object or null");
    out = it->is_object() ? &*it : nullptr;
    return true;
}

bool parse_owner(const json& j, CloseEvent& ev, std::string& why) {
    const json* o = nullptr;
    if (!get_nullable_object(j, "owner", o, why)) return false;
    if (!o) return true;
    OwnerInfo owner;
    uint64_t pid = 0;
    if (!get_uint(*o, "pid", UINT32_MAX, pid, why) || !get_string(*o, "comm", owner.comm, why))
        return false;
    owner.pid = static_cast<uint32_t>(pid);
    ev.owner = std::move(owner);
    return true;
}

bool parse_closer(const json& j, CloseEvent& ev, std::string& why) {
    const json* c = nullptr;
    if (!get_nullable_object(j, "closer", c, why)) return false;
    if (!c) return true;
    CloserInfo closer;
    uint64_t pid = 0;
    if (!get_uint(*c, "pid", UINT32_MAX, pid, why) || !get_string(*c, "comm", closer.comm, why) ||
        !get_strings(*c, "kernel_stack", closer.kernel_stack, why) ||
        !get_strings(*c, "user_stack", closer.user_stack, why))
        return false;
    closer.pid = static_cast<uint32_t>(pid);
    ev.closer = std::move(closer);
    return true;
}

bool parse_http(const json& j, std::optional<HttpSeen>& http, std::string& why) {
    const json* h = nullptr;
    if (!get_nullable_object(j, "http", h, why)) return false;
    if (!h) return true;
    HttpSeen seen;
    const json* req = nullptr;
    if (!get_uint(*h, "requests", UINT64_MAX, seen.requests, why) ||
        !get_nullable_object(*h, "last_request", req, why))
        return false;
    if (req) {
        auto ua = req->find("user_agent");
        if (ua != req->end() && !ua->is_null() && !get_string(*req, "user_agent", seen.user_agent, why))
            return false;
    }
    http = std::move(seen);
    return true;
}

constexpr std::array kRoles{Role::Client, Role::Server, Role::Unknown};
constexpr std::array kFins{FirstFin::Local, FirstFin::Remote, FirstFin::Simultaneous, FirstFin::None};
constexpr std::array kResets{ResetDir::None, ResetDir::Sent, ResetDir::Received};
constexpr std::array kReasons{Reason::RequestConnectionClose, Reason::ResponseConnectionClose,
                              Reason::ClientClose,           Reason::IdleTimeout,
                              Reason::ProcessExit,           Reason::Reset,
                              Reason::Simultaneous,          Reason::Unknown};

bool parse_close(const json& j, TraceRecord& rec, std::string& why) {
    CloseEvent& ev = rec.event;
    auto tw = j.find("time_wait");
    if (tw == j.end() || !tw->is_boolean()) return fail(why, "time_wait", "a boolean");
    ev.time_wait = tw->get<bool>();
    return get_string(j, "laddr", ev.laddr, why) && get_port(j, "lport", ev.lport, why) &&
           get_string(j, "raddr", ev.raddr, why) && get_port(j, "rport", ev.rport, why) &&
           get_enum(j, "role", kRoles, ev.role, why) &&
           get_enum(j, "first_fin", kFins, ev.first_fin, why) &&
           get_enum(j, "reset", kResets, ev.reset, why) &&
           get_enum(j, "reason", kReasons, ev.reason, why) && parse_owner(j, ev, why) &&
           parse_closer(j, ev, why) && parse_http(j, rec.http, why);
}

bool parse_summary(const json& j, TraceSummary& s, std::string& why) {
    auto dur = j.find("duration_s");
    if (dur == j.end() || !dur->is_number()) return fail(why, "duration_s", "a number");
    s.duration_s = dur->get<double>();
    return get_uint(j, "events", UINT64_MAX, s.events, why) &&
           get_uint(j, "lost", UINT64_MAX, s.lost, why) &&
           get_string(j, "attach_mode", s.attach_mode, why) &&
           get_string(j, "http_mode", s.http_mode, why);
}

bool blank(const std::string& line) {
    return line.find_first_not_of(" \t\r") == std::string::npos;
}

}  // namespace

LineKind parse_trace_line(const std::string& line, TraceRecord& rec,
                          std::optional<TraceSummary>& summary, std::string& why) {
    if (blank(line)) return LineKind::Blank;
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return why = "not valid JSON", LineKind::Malformed;
    if (!j.is_object()) return why = "not a JSON object", LineKind::Malformed;
    std::string type;
    if (!get_string(j, "type", type, why)) return LineKind::Malformed;
    if (type == "close") {
        rec = TraceRecord{};
        return parse_close(j, rec, why) ? LineKind::Close : LineKind::Malformed;
    }
    if (type != "summary") return LineKind::Other;
    TraceSummary s;
    if (!parse_summary(j, s, why)) return LineKind::Malformed;
    summary = std::move(s);
    return LineKind::Summary;
}

ReadStats read_trace(std::istream& in, std::ostream& warnings,
                     const std::function<void(const TraceRecord&)>& on_close) {
    ReadStats st;
    std::vector<char> buf(kMaxLineBytes + 1);
    TraceRecord rec;
    std::string line, why;
    while (true) {
        in.getline(buf.data(), static_cast<std::streamsize>(buf.size()));
        const bool too_long = in.fail() && !in.eof() && !in.bad();
        if ((in.fail() && !too_long) && in.gcount() == 0) break;
        st.lines++;
        if (too_long) {
            in.clear();
            in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
            why = "longer than " + std::to_string(kMaxLineBytes) + " bytes";
        } else {
            // gcount includes the newline, unless the stream ended first.
            const auto n = static_cast<size_t>(in.gcount()) - (in.eof() ? 0 : 1);
            line.assign(buf.data(), n);
        }
        LineKind kind = too_long ? LineKind::Malformed : parse_trace_line(line, rec, st.summary, why);
        switch (kind) {
            case LineKind::Close: st.closes++, on_close(rec); break;
            case LineKind::Other: st.other++; break;
            case LineKind::Malformed:
                st.malformed++;
                warnings << "whoclosed: report: line " << st.lines << ": skipped, " << why << '\n';
                break;
            case LineKind::Summary:
            case LineKind::Blank: break;
        }
        if (in.eof()) break;
    }
    st.read_error = in.bad();
    return st;
}

}  // namespace whoclosed
