#include "correlate/http_notes.h"

#include <cstring>

namespace whoclosed {

void HttpNotes::add(const http_note& note, const char* head) {
    auto it = heads_.find(note.cookie);
    if (it == heads_.end()) {
        if (heads_.size() >= capacity_) {
            ++dropped_;
            return;
        }
        if (spare_.empty()) {
            it = heads_.try_emplace(note.cookie).first;
        } else {
            Map::node_type node = std::move(spare_.back());
            spare_.pop_back();
            node.key() = note.cookie;
            http_record& fresh = node.mapped();
            fresh.requests = fresh.responses = 0;
            fresh.req_len = fresh.resp_len = 0;
            fresh.req_outbound = 0;
            fresh.source = WC_HTTP_SRC_NONE;
            it = heads_.insert(std::move(node)).position;
        }
    }
    http_record& h = it->second;
    h.source = note.source;
    const size_t n = note.len < WC_HTTP_HEAD ? note.len : WC_HTTP_HEAD;
    if (note.kind == WC_HTTP_REQUEST) {
        std::memcpy(h.req, head, n);
        h.req_len = static_cast<unsigned short>(n);
        h.req_outbound = note.outbound;
        h.requests++;
    } else {
        std::memcpy(h.resp, head, n);
        h.resp_len = static_cast<unsigned short>(n);
        h.responses++;
    }
}

void HttpNotes::forget(uint64_t cookie) {
    auto it = heads_.find(cookie);
    if (it == heads_.end()) return;
    Map::node_type node = heads_.extract(it);
    if (spare_.size() < kSpareNodes) spare_.push_back(std::move(node));
}

void merge_heads(http_record& later, const http_record& earlier) {
    if (later.requests == 0 && earlier.requests > 0) {
        std::memcpy(later.req, earlier.req, sizeof(later.req));
        later.req_len = earlier.req_len;
        later.req_outbound = earlier.req_outbound;
    }
    if (later.responses == 0 && earlier.responses > 0) {
        std::memcpy(later.resp, earlier.resp, sizeof(later.resp));
        later.resp_len = earlier.resp_len;
    }
    if (later.source == WC_HTTP_SRC_NONE) later.source = earlier.source;
    later.requests += earlier.requests;
    later.responses += earlier.responses;
}

std::optional<http_note> decode_http_note(const void* data, size_t size) {
    if (data == nullptr || size != sizeof(http_note)) return std::nullopt;
    http_note note;
    std::memcpy(&note, data, offsetof(http_note, head));  // ring samples are only 8-byte aligned
    if (note.magic != WC_HTTP_NOTE_MAGIC || note.len >= WC_HTTP_HEAD ||
        (note.kind != WC_HTTP_REQUEST && note.kind != WC_HTTP_RESPONSE) || note.source > WC_HTTP_SRC_LIBC)
        return std::nullopt;
    return note;
}

}  // namespace whoclosed
