// Helpers of the HTTP unit tests: feed chunks to a tracker, and read back the
// `http` object exactly as the NDJSON sink prints it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/close_event.h"
#include "http/http_tracker.h"
#include "sink/ndjson_sink.h"

namespace whoclosed::http_test {

struct Chunk {
    HttpDir dir;
    std::string bytes;
    bool truncated = false;
};

inline Chunk in(std::string b, bool truncated = false) { return {HttpDir::In, std::move(b), truncated}; }
inline Chunk out(std::string b, bool truncated = false) { return {HttpDir::Out, std::move(b), truncated}; }

inline std::optional<HttpExchange> track(const std::vector<Chunk>& chunks, std::string source = "syscall") {
    HttpTracker t(std::move(source));
    uint64_t ts = 1000;
    for (const Chunk& c : chunks) t.feed(c.dir, c.bytes, c.truncated, ts++);
    return t.finish();
}

// The "http" value of a close event line, as printed.
inline std::string http_json(const std::optional<HttpExchange>& ex) {
    CloseEvent ev;
    ev.http = ex;
    const std::string line = close_event_json(ev);
    const size_t begin = line.find("\"http\":") + 7;
    const size_t end = line.rfind(",\"reason\":");
    return line.substr(begin, end - begin);
}

// A Go 1.19 net/http client with DisableKeepAlives, as it writes the request.
inline const std::string kGoRequest =
    "GET / HTTP/1.1\r\nHost: 10.100.219.9:8081\r\nUser-Agent: Go-http-client/1.1\r\n"
    "Connection: close\r\nAccept-Encoding: gzip\r\n\r\n";
// Go net/http's answer to it.
inline const std::string kGoResponse =
    "HTTP/1.1 200 OK\r\nConnection: close\r\nDate: Wed, 25 Nov 2026 10:00:00 GMT\r\n"
    "Content-Length: 13\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, world\n";
inline const std::string kGoRequestJson =
    R"({"method":"GET","path":"/","version":"HTTP/1.1","host":"10.100.219.9:8081",)"
    R"("connection":"close","user_agent":"Go-http-client/1.1"})";

}  // namespace whoclosed::http_test
