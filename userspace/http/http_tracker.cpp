#include "http/http_tracker.h"

#include <algorithm>

namespace whoclosed {

void HttpTracker::feed(const HttpChunk& chunk) {
    HttpStreamParser& p = parser(chunk.dir);
    if (p.stopped()) return;
    last_ts_ = std::max(last_ts_, chunk.ts_ns);
    if (begins_http_message(chunk.bytes) != HttpStart::None) {
        p.restart();
    } else if (!p.in_sync()) {
        return;  // body, ciphertext, or the rest of a head whose start we lost
    }
    const uint64_t requests = p.requests(), responses = p.responses();
    p.feed(chunk.bytes);
    if (chunk.truncated) p.lose_sync();
    note_progress(chunk.dir, chunk.ts_ns, chunk.source, p.requests() - requests, p.responses() - responses);
}

void HttpTracker::feed(HttpDir dir, std::string_view bytes, bool truncated, uint64_t ts_ns,
                       std::string_view source) {
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    feed(HttpChunk{{data, bytes.size()}, dir, truncated, ts_ns, source});
}

void HttpTracker::note_progress(HttpDir dir, uint64_t ts_ns, std::string_view source, uint64_t new_requests,
                                uint64_t new_responses) {
    if (new_requests == 0 && new_responses == 0) return;
    if (source_.empty()) source_ = source.empty() ? default_source_ : std::string(source);
    if (new_requests) {
        pending_ += new_requests;
        request_dir_ = dir;
        last_request_ts_ = ts_ns;
        // Whoever reads the requests serves them; judged from the bytes, so
        // it holds for sockets opened before tracing began.
        if (side_ == Role::Unknown) side_ = dir == HttpDir::In ? Role::Server : Role::Client;
    }
    if (new_responses) {
        pending_ -= std::min(pending_, new_responses);
        response_dir_ = dir;
        last_response_ts_ = ts_ns;
        if (side_ == Role::Unknown) side_ = dir == HttpDir::Out ? Role::Server : Role::Client;
        leave_http_if_upgraded(dir, new_responses);
    }
}

// After 101 Switching Protocols, or a 2xx to CONNECT, the bytes either way
// are another protocol (WebSocket, a tunnel): parse no further.
void HttpTracker::leave_http_if_upgraded(HttpDir dir, uint64_t new_responses) {
    const HttpStreamParser& p = parser(dir);
    const auto& resp = p.last_response();
    const HttpDir other = dir == HttpDir::In ? HttpDir::Out : HttpDir::In;
    const auto& req = parser(other).last_request();
    const bool tunnel = resp && resp->status / 100 == 2 && req && req->method == "CONNECT" && pending_ == 0 &&
                        new_responses == 1;
    if (p.stopped() || tunnel) {
        in_.stop();
        out_.stop();
    }
}

std::optional<HttpExchange> HttpTracker::exchange() const {
    if (!request_dir_ && !response_dir_) return std::nullopt;
    HttpExchange ex;
    ex.requests = in_.requests() + out_.requests();
    ex.source = source_;
    if (request_dir_) ex.last_request = parser(*request_dir_).last_request();
    if (response_dir_) ex.last_response = parser(*response_dir_).last_response();
    ex.side = side_;
    ex.last_request_answered = ex.requests > 0 && ex.last_request && ex.last_response && pending_ == 0 &&
                               last_response_ts_ >= last_request_ts_;
    return ex;
}

std::optional<HttpExchange> HttpTracker::finish() {
    for (HttpDir d : {HttpDir::In, HttpDir::Out}) {
        HttpStreamParser& p = parser(d);
        const uint64_t requests = p.requests();
        p.lose_sync();
        note_progress(d, last_ts_, {}, p.requests() - requests, 0);
    }
    return exchange();
}

}  // namespace whoclosed
