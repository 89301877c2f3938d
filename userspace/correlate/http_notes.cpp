#include "correlate/http_notes.h"

#include <cstring>

namespace whoclosed {

void HttpNotes::add(const http_note& note) {
    auto it = heads_.find(note.cookie);
    if (it == heads_.end()) {
        if (heads_.size() >= capacity_) {
            ++dropped_;
            return;
        }
        it = heads_.emplace(note.cookie, http_record{}).first;
    }
    http_record& h = it->second;
    h.source = note.source;
    const size_t n = note.len < WC_HTTP_HEAD ? note.len : WC_HTTP_HEAD;
    if (note.kind == WC_HTTP_REQUEST) {
        std::memcpy(h.req, note.head, n);
        h.req_len = static_cast<unsigned short>(n);
        h.req_outbound = note.outbound;
        h.requests++;
    } else {
        std::memcpy(h.resp, note.head, n);
        h.resp_len = static_cast<unsigned short>(n);
        h.responses++;
    }
}

std::optional<http_record> HttpNotes::take(uint64_t cookie) {
    auto it = heads_.find(cookie);
    if (it == heads_.end()) return std::nullopt;
    http_record out = it->second;
    heads_.erase(it);
    return out;
}

std::optional<http_note> decode_http_note(const void* data, size_t size) {
    if (data == nullptr || size != sizeof(http_note)) return std::nullopt;
    http_note note;
    std::memcpy(&note, data, sizeof note);  // ring samples are only 8-byte aligned
    if (note.magic != WC_HTTP_NOTE_MAGIC || note.len >= WC_HTTP_HEAD ||
        (note.kind != WC_HTTP_REQUEST && note.kind != WC_HTTP_RESPONSE) || note.source > WC_HTTP_SRC_LIBC)
        return std::nullopt;
    return note;
}

}  // namespace whoclosed
