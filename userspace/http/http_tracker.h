// Per-socket HTTP/1.x tracking: the captured heads of reads and writes go
// in, in the order they happened; the socket's HttpExchange comes out.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "correlate/close_event.h"
#include "http/http_parser.h"

namespace whoclosed {

// In: bytes this socket read (received). Out: bytes it wrote (sent).
enum class HttpDir : uint8_t { In, Out };

// One captured read or write: its first bytes (the kernel copies at most
// kHttpCaptureBytes), and whether the call moved more than that.
struct HttpChunk {
    std::span<const unsigned char> bytes;
    HttpDir dir = HttpDir::In;
    bool truncated = false;       // bytes after these were not captured
    uint64_t ts_ns = 0;           // when the read/write happened (any monotonic clock)
    std::string_view source = {};  // "syscall", "uprobe:go", ...; empty: the tracker's default
};

class HttpTracker {
public:
    explicit HttpTracker(std::string default_source = "syscall") : default_source_(std::move(default_source)) {}

    // Chunks must come in the order the calls happened (by ts_ns). A chunk
    // that begins a request or response (begins_http_message) starts a new
    // message; any other chunk continues the message in progress in its
    // direction if the previous chunk there was complete, else is ignored.
    void feed(const HttpChunk& chunk);
    void feed(HttpDir dir, std::string_view bytes, bool truncated = false, uint64_t ts_ns = 0,
              std::string_view source = {});

    // The exchange so far; nullopt if no HTTP/1.x message was seen.
    std::optional<HttpExchange> exchange() const;
    // At socket close: a request line still cut short counts as far as read.
    std::optional<HttpExchange> finish();

private:
    HttpStreamParser& parser(HttpDir d) { return d == HttpDir::In ? in_ : out_; }
    const HttpStreamParser& parser(HttpDir d) const { return d == HttpDir::In ? in_ : out_; }
    void note_progress(HttpDir dir, uint64_t ts_ns, std::string_view source, uint64_t new_requests,
                       uint64_t new_responses);
    void leave_http_if_upgraded(HttpDir dir, uint64_t new_responses);

    HttpStreamParser in_, out_;
    std::string default_source_, source_;
    Role side_ = Role::Unknown;
    std::optional<HttpDir> request_dir_, response_dir_;  // where the last request / response went
    uint64_t pending_ = 0;                               // requests not yet answered
    uint64_t last_request_ts_ = 0, last_response_ts_ = 0, last_ts_ = 0;
};

}  // namespace whoclosed
