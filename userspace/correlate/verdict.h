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

// Whether the socket took the path to TIME_WAIT (FIN_WAIT2 or CLOSING ->
// CLOSE, no RST sent) but the kernel side found no timewait socket for it:
// the kernel dropped the TIME_WAIT (net.ipv4.tcp_max_tw_buckets full).
bool time_wait_dropped(const close_record& rec);

// Why the side that sent the first FIN closed, judged from this socket
// alone, the first that applies of (CONTRACT.md):
//   reset            an RST was sent or received;
//   simultaneous     both FINs crossed;
//   process_exit     our FIN was sent by a task inside exit;
//   request_connection_close   the server side sent the first FIN (ours if
//                    this socket served, the peer's if it was the client)
//                    after answering the last request, which asked to close
//                    (Connection: close, or HTTP/1.0 without keep-alive);
//   response_connection_close  the same, but only the response asked
//                    (Connection: close, or an HTTP/1.0 response without
//                    keep-alive);
//   idle_timeout     a FIN after >= 1 s without payload;
//   client_close     the client side sent the first FIN after the response
//                    to its last request;
//   unknown.
// closer_exiting: the task that sent our FIN/RST was inside exit. The HTTP
// side comes from http->side (who read the requests), else verdict.role; a
// request never answered yields no HTTP reason.
Reason infer_tcp_reason(const CloseVerdict& verdict, bool closer_exiting, std::optional<double> idle_ms,
                        const std::optional<HttpExchange>& http);

}  // namespace whoclosed
