// Field-by-field checks of whoclosed's `close` events against what the test
// itself did with its sockets (never against whoclosed's own output).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/sockets.h"

namespace whoclosed::testing {

struct Task {
    pid_t pid = 0;
    pid_t tid = 0;       // closer only
    std::string comm;
    bool exiting = false;  // closer only
};

struct ExpectedClose {
    std::string family;  // "ipv4" / "ipv6"
    SockAddr local, remote;
    uint64_t netns = 0;
    std::string role, first_fin, reset;
    bool time_wait = false;
    std::vector<std::string> states;
    Task owner;
    std::optional<Task> closer;  // nullopt: the event must say null
    uint64_t bytes_sent = 0, bytes_received = 0;
    std::string reason;
};

// The states of an orderly close, by role and by who sent the first FIN.
inline const std::vector<std::string> kClientActive{"SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"};
inline const std::vector<std::string> kClientPassive{"SYN_SENT", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"};
inline const std::vector<std::string> kServerActive{"SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"};
inline const std::vector<std::string> kServerPassive{"SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"};

// The one event of `events` for this socket (by its local and remote port).
// Fails the test (gtest ADD_FAILURE) and returns null when none or several match.
const nlohmann::json* find_close(const std::vector<nlohmann::json>& events, const SockAddr& local,
                                 const SockAddr& remote);

// Both ends' events of the one connection between `client` and `server`:
// EXPECTs exactly two events, then find_close for each end (null when missing).
struct ClosePair {
    const nlohmann::json* client = nullptr;
    const nlohmann::json* server = nullptr;
};
ClosePair find_close_pair(const std::vector<nlohmann::json>& events, const SockAddr& client,
                          const SockAddr& server);

// Milliseconds since `t0`: the bound of duration_ms and idle_ms for a test
// that started tracing at t0.
double ms_since(std::chrono::steady_clock::time_point t0);

// EXPECTs every key of the contract; max_ms bounds duration_ms/idle_ms.
void expect_close(const nlohmann::json& ev, const ExpectedClose& want, double max_ms);

// summary: lost == 0 and the attach mode.
void expect_summary(const nlohmann::json& summary, const std::string& attach_mode);

// The calling thread as owner/closer.
Task this_task(bool exiting = false);

}  // namespace whoclosed::testing
