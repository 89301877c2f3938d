// The heads of the last request and response seen on a socket, as the
// reader gathered them from the kernel's http_notes (correlate/http_notes.h):
// this turns them into the event's `http` object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "correlate/close_event.h"
#include "whoclosed.h"

namespace whoclosed {

// `role` is the socket's handshake role, used only to orient a response
// seen without any request.
std::optional<HttpExchange> exchange_from_heads(const http_record& heads, Role role);

const char* http_source_name(unsigned char source);

// exchange_from_heads with a bounded memo: under load most connections carry
// byte-identical heads (the same client, the same server), and parsing them
// again for every close was the tracer's largest cost.
class HttpHeadsParser {
public:
    explicit HttpHeadsParser(size_t capacity = 4096) : capacity_(capacity) {}
    std::optional<HttpExchange> parse(const http_record& heads, Role role);

private:
    struct Entry {
        std::string key;  // everything the result depends on, byte for byte
        std::optional<HttpExchange> exchange;
    };
    size_t capacity_;
    std::unordered_map<uint64_t, Entry> memo_;
};

}  // namespace whoclosed
