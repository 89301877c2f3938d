#include "sink/ndjson_sink.h"

#include "sink/json.h"

namespace whoclosed {

namespace {

template <class Out>
void append_owner(Out& out, const std::optional<OwnerInfo>& owner) {
    if (!owner) {
        out.append("null", 4);
        return;
    }
    BasicJsonObjectWriter<Out>(out).uint("pid", owner->pid).str("comm", owner->comm).opt_str("cgroup", owner->cgroup).end();
}

template <class Out>
void append_closer(Out& out, const std::optional<CloserInfo>& c) {
    if (!c) {
        out.append("null", 4);
        return;
    }
    BasicJsonObjectWriter<Out>(out)
        .uint("pid", c->pid)
        .uint("tid", c->tid)
        .str("comm", c->comm)
        .opt_str("cgroup", c->cgroup)
        .boolean("exiting", c->exiting)
        .raw("kernel_stack", c->kernel_stack.json())
        .raw("user_stack", c->user_stack.json())
        .end();
}

template <class Out>
void append_http_object(Out& out, const HttpExchange& http, uint64_t requests) {
    BasicJsonObjectWriter<Out> o(out);
    o.uint("requests", requests);
    if (http.source.empty()) o.null("source");
    else o.str("source", http.source);
    Out& req = o.key("last_request");
    if (const auto& r = http.last_request) {
        BasicJsonObjectWriter<Out>(req)
            .str("method", r->method)
            .opt_str("path", r->path)
            .opt_str("version", r->version)
            .opt_str("host", r->host)
            .opt_str("connection", r->connection)
            .opt_str("user_agent", r->user_agent)
            .end();
    } else {
        req.append("null", 4);
    }
    Out& resp = o.key("last_response");
    if (const auto& r = http.last_response) {
        BasicJsonObjectWriter<Out>(resp)
            .str("version", r->version)
            .uint("status", r->status)
            .opt_str("connection", r->connection)
            .end();
    } else {
        resp.append("null", 4);
    }
    o.end();
}

// The `http` object; an exchange from the tracer's memo renders its fields
// after `requests` once and appends them from its json_tail after that.
template <class Out>
void append_http(Out& out, const std::optional<HttpExchange>& http) {
    if (!http) {
        out.append("null", 4);
        return;
    }
    if (!http->json_tail) {
        append_http_object(out, *http, http->requests);
        return;
    }
    static constexpr std::string_view kHead = "{\"requests\":";
    std::string& tail = *http->json_tail;
    if (tail.empty()) {
        append_http_object(tail, *http, 0);
        tail.erase(0, kHead.size() + 1);  // + the 0
    }
    out.append(kHead.data(), kHead.size());
    append_json_uint(out, http->requests);
    out.append(tail.data(), tail.size());
}

// {"<name>":count,...} for every value of an enum, zeros included, so that
// `jq .by_reason.reset` is a number, never null.
template <typename Enum, size_t N>
void append_counts(std::string& out, const std::array<Enum, N>& values, const std::array<uint64_t, N>& counts) {
    JsonObjectWriter o(out);
    for (Enum v : values) append_json_uint(o.dynamic_key(to_string(v)), counts[static_cast<size_t>(v)]);
    o.end();
}

template <class Out>
void append_event(Out& out, const CloseEvent& ev) {
    char ts[32];
    BasicJsonObjectWriter<Out> o(out);
    o.literal("type", "close")
        .str("ts", format_rfc3339_ns(ev.ts_unix_ns, ts))
        .opt_uint("cookie", ev.cookie)
        .uint("netns", ev.netns)
        .literal("family", ev.ipv6 ? "ipv6" : "ipv4")
        .str("laddr", ev.laddr)
        .uint("lport", ev.lport)
        .str("raddr", ev.raddr)
        .uint("rport", ev.rport)
        .literal("role", to_string(ev.role))
        .literal("first_fin", to_string(ev.first_fin))
        .literal("reset", to_string(ev.reset))
        .boolean("time_wait", ev.time_wait)
        .strings("states", ev.states);
    append_owner(o.key("owner"), ev.owner);
    append_closer(o.key("closer"), ev.closer);
    o.opt_dbl("duration_ms", ev.duration_ms)
        .opt_dbl("idle_ms", ev.idle_ms)
        .opt_uint("bytes_sent", ev.bytes_sent)
        .opt_uint("bytes_received", ev.bytes_received);
    append_http(o.key("http"), ev.http);
    o.literal("reason", to_string(ev.reason)).end();
}

}  // namespace

std::string close_event_json(const CloseEvent& ev) {
    std::string out;
    append_event(out, ev);
    return out;
}

void append_close_event_json(ByteBuffer& out, const CloseEvent& ev) { append_event(out, ev); }

std::string summary_json(const Summary& s) {
    std::string out;
    JsonObjectWriter o(out);
    o.str("type", "summary").dbl("duration_s", s.duration_s).uint("events", s.events).uint("lost", s.lost);
    append_counts(o.key("by_reason"), kAllReasons, s.by_reason);
    append_counts(o.key("by_first_fin"), kAllFirstFins, s.by_first_fin);
    o.uint("time_wait_local", s.time_wait_local)
        .str("attach_mode", s.attach_mode)
        .str("http_mode", s.http_mode)
        .end();
    return out;
}

}  // namespace whoclosed
