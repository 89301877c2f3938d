// Pure TCP reasoning: from the states a socket went through and its RST
// flags, decide who opened it, who sent the first FIN, and whether this host
// holds the TIME_WAIT; then which close reason applies.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "correlate/close_event.h"
#include "whoclosed.h"

namespace whoclosed {

struct CloseVerdict {
    Role role = Role::Unknown;
    FirstFin first_fin = FirstFin::None;
    ResetDir reset = ResetDir::None;
    bool time_wait = false;
    std::vector<std::string> states;  // kernel names, in order
};

// Kernel name of a TCP state ("ESTABLISHED", ...); nullptr if out of range.
const char* tcp_state_name(unsigned state);

// states: enum wc_tcp_state values in order; flags: enum wc_record_flags.
CloseVerdict derive_verdict(std::span<const unsigned char> states, uint32_t flags);
CloseVerdict derive_verdict(const close_record& rec);

// The contract's precedence: reset > simultaneous > process_exit >
// request/response_connection_close (HTTP, not yet inferred) > idle_timeout >
// client_close (HTTP, not yet) > unknown. closer_exiting: the task that sent
// our FIN/RST was inside exit. http is the placeholder the HTTP work extends.
Reason infer_tcp_reason(const CloseVerdict& verdict, bool closer_exiting, std::optional<double> idle_ms,
                        const std::optional<HttpExchange>& http);

}  // namespace whoclosed
