// The heads of the last request and response seen on a socket, as the
// reader gathered them from the kernel's http_notes (correlate/http_notes.h):
// this turns them into the event's `http` object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
    // Everything the result depends on, byte for byte, compared in place
    // against a socket's heads (no key assembled per event).
    struct Entry {
        unsigned char req_outbound = 0, source = 0;
        Role role = Role::Unknown;
        std::string req, resp;
        std::optional<HttpExchange> exchange;
        bool matches(std::string_view req_bytes, std::string_view resp_bytes, const http_record& heads,
                     Role r) const {
            return req_outbound == heads.req_outbound && source == heads.source && role == r &&
                   req == req_bytes && resp == resp_bytes;
        }
    };
    // Tried before hashing (hashing both heads was over half of parse()):
    // the entries of the latest two answers, newest first. Under load the
    // heads alternate between a few exchanges (a loopback connection's two
    // ends close one after the other). Entries of an unordered_map stay
    // where they are until erased; these are dropped with the memo.
    void remember(const Entry* e);
    size_t capacity_;
    std::unordered_map<uint64_t, Entry> memo_;
    const Entry* recent_[2] = {nullptr, nullptr};
};

}  // namespace whoclosed
