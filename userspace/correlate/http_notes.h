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
#include <vector>

#include "whoclosed.h"

namespace whoclosed {

class HttpNotes {
public:
    explicit HttpNotes(size_t capacity = 16384) : capacity_(capacity) {}

    // Keeps the note's head as its socket's last request or response.
    void add(const http_note& note) { add(note, note.head); }
    // The same, for a note whose head bytes lie at `head` (a ring sample,
    // read in place: only note.len bytes are copied).
    void add(const http_note& note, const char* head);
    // The heads gathered for `cookie`, or nullptr; valid until the next add
    // or forget. Forget them once the socket's event is built.
    const http_record* find(uint64_t cookie) const {
        auto it = heads_.find(cookie);
        return it == heads_.end() ? nullptr : &it->second;
    }
    void forget(uint64_t cookie);

    size_t sockets() const { return heads_.size(); }
    uint64_t dropped() const { return dropped_; }

private:
    size_t capacity_;
    static constexpr size_t kSpareNodes = 256;
    using Map = std::unordered_map<uint64_t, http_record>;
    Map heads_;  // values are 1 KiB: never copied whole
    // Nodes of forgotten sockets, reused: no allocation and no 1 KiB fill
    // per socket (only the counters and lengths are reset).
    std::vector<Map::node_type> spare_;
    uint64_t dropped_ = 0;
};

// Folds the heads a socket sent ahead as notes (`earlier`) into those the
// kernel kept for it and sent with its record (`later`): counts add up, and
// `later`'s last request and response stand unless it has none.
void merge_heads(http_record& later, const http_record& earlier);

// The header of the note in a ring sample (exact size, magic, bounds
// checked), else nullopt; its head[] is left empty: the bytes stay in the
// sample, at offsetof(http_note, head).
std::optional<http_note> decode_http_note(const void* data, size_t size);

}  // namespace whoclosed
