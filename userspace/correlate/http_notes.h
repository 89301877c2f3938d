// The HTTP heads the kernel sends ahead of a socket's close record (struct
// http_note, bpf/http.bpf.h), gathered per socket cookie into the
// http_record the correlator parses when the close record arrives.
//
// Bounded: at most `capacity` sockets at a time (sockets with HTTP still
// open). Heads of further sockets are dropped and counted; their events
// then say http null or miss the last head.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "whoclosed.h"

namespace whoclosed {

class HttpNotes {
public:
    explicit HttpNotes(size_t capacity = 16384) : capacity_(capacity) {}

    // Keeps the note's head as its socket's last request or response.
    void add(const http_note& note);
    // The heads gathered for `cookie`, which are then forgotten.
    std::optional<http_record> take(uint64_t cookie);
    void forget(uint64_t cookie) { heads_.erase(cookie); }

    size_t sockets() const { return heads_.size(); }
    uint64_t dropped() const { return dropped_; }

private:
    size_t capacity_;
    std::unordered_map<uint64_t, http_record> heads_;
    uint64_t dropped_ = 0;
};

// The note in a ring sample (exact size, magic, bounds checked), else nullopt.
std::optional<http_note> decode_http_note(const void* data, size_t size);

}  // namespace whoclosed
