// The kernel keeps the heads of the last request and response seen on a
// socket (bpf/http.bpf.h); this turns them into the event's `http` object.
#pragma once

#include <optional>

#include "correlate/close_event.h"
#include "whoclosed.h"

namespace whoclosed {

// `role` is the socket's handshake role, used only to orient a response
// seen without any request.
std::optional<HttpExchange> exchange_from_heads(const http_record& heads, Role role);

const char* http_source_name(unsigned char source);

}  // namespace whoclosed
