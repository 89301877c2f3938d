// The decoded, user-facing form of one closed socket: what sinks print.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "correlate/stack_frames.h"

namespace whoclosed {

enum class Role { Client, Server, Unknown };
enum class FirstFin { Local, Remote, Simultaneous, None };
enum class ResetDir { None, Sent, Received };
enum class Reason {
    RequestConnectionClose,
    ResponseConnectionClose,
    ClientClose,
    IdleTimeout,
    ProcessExit,
    Reset,
    Simultaneous,
    Unknown,
};

const char* to_string(Role r);
const char* to_string(FirstFin f);
const char* to_string(ResetDir r);
const char* to_string(Reason r);

struct OwnerInfo {
    uint32_t pid = 0;
    std::string comm;
    std::optional<std::string> cgroup;  // path below the cgroup2 mount, e.g. "/system.slice/x.service"
};

struct CloserInfo {
    uint32_t pid = 0;
    uint32_t tid = 0;
    std::string comm;
    std::optional<std::string> cgroup;
    bool exiting = false;
    StackFrames kernel_stack;  // innermost first
    StackFrames user_stack;
};

// The head of an HTTP/1.x request as captured: header values verbatim but
// bounded (http/http_syntax.h), the path without query string or fragment.
// A value this host did not see (absent header, capture cut short) is nullopt.
struct HttpRequestHead {
    std::string method;                      // "GET"
    std::optional<std::string> path;         // "/api/x"; nullopt if the target was cut off
    std::optional<std::string> version;      // "HTTP/1.1"; nullopt if the line was cut off
    std::optional<std::string> host;
    std::optional<std::string> connection;   // e.g. "close", "keep-alive", "Keep-Alive, Upgrade"
    std::optional<std::string> user_agent;
};

struct HttpResponseHead {
    std::string version;                     // "HTTP/1.1"
    uint16_t status = 0;                     // 100..999
    std::optional<std::string> connection;
};

// What this socket carried of HTTP/1.x. Never holds Authorization, Cookie,
// Set-Cookie, Proxy-Authorization or query strings: the parser drops them
// before they reach any buffer.
struct HttpExchange {
    uint64_t requests = 0;
    std::string source;                      // "syscall", "uprobe:libc", "uprobe:openssl", "uprobe:go"; "" = unknown
    std::optional<HttpRequestHead> last_request;
    std::optional<HttpResponseHead> last_response;
    // Not printed; what reason inference needs. side: Server if this socket
    // read the requests, Client if it wrote them (from the bytes, so it holds
    // for sockets opened before tracing). last_request_answered: a final
    // response went the other way after the last request.
    Role side = Role::Unknown;
    bool last_request_answered = false;
    // Not printed. The tracer's memo hands out copies of one exchange for
    // every socket that carried the same heads; they share this slot, where
    // the NDJSON sink keeps, once rendered, everything of the `http` object
    // after `requests` (the only field that differs between them). Null
    // elsewhere. Whoever changes any other field of a copy must reset it.
    std::shared_ptr<std::string> json_tail;
};

struct CloseEvent {
    uint64_t ts_unix_ns = 0;              // wall clock of the CLOSE transition
    std::optional<uint64_t> cookie;
    uint64_t netns = 0;
    bool ipv6 = false;
    std::string laddr, raddr;
    uint16_t lport = 0, rport = 0;
    Role role = Role::Unknown;
    FirstFin first_fin = FirstFin::None;
    ResetDir reset = ResetDir::None;
    bool time_wait = false;
    std::vector<std::string> states;       // "SYN_RECV", "ESTABLISHED", ...
    std::optional<OwnerInfo> owner;
    std::optional<CloserInfo> closer;
    std::optional<double> duration_ms;
    std::optional<double> idle_ms;
    std::optional<uint64_t> bytes_sent, bytes_received;
    std::optional<HttpExchange> http;
    Reason reason = Reason::Unknown;
};

}  // namespace whoclosed
