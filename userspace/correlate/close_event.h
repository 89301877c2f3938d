// The decoded, user-facing form of one closed socket: what sinks print.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
    std::vector<std::string> kernel_stack;  // innermost first
    std::vector<std::string> user_stack;
};

// Placeholder for the HTTP issue; always nullopt until HTTP capture exists.
struct HttpExchange {};

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
