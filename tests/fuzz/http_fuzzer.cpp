// libFuzzer target for the HTTP/1.x tracker; not part of the CMake build.
// Input: a sequence of chunks, each [flags byte][length byte][bytes...]:
// flags bit 0 = direction out, bit 1 = truncated. Build and run:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
//     -Iuserspace -Ibpf userspace/http/*.cpp userspace/correlate/verdict.cpp \
//     userspace/correlate/close_event.cpp userspace/sink/ndjson_sink.cpp \
//     userspace/sink/json.cpp userspace/sink/summary.cpp tests/fuzz/http_fuzzer.cpp -o http_fuzzer
//   ./http_fuzzer -max_len=4096
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "http/http_tracker.h"
#include "sink/ndjson_sink.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    whoclosed::HttpTracker t;
    uint64_t ts = 0;
    while (size >= 2) {
        const uint8_t flags = data[0];
        const size_t n = data[1] * 2u < size - 2 ? data[1] * 2u : size - 2;
        const auto dir = (flags & 1) ? whoclosed::HttpDir::Out : whoclosed::HttpDir::In;
        t.feed(whoclosed::HttpChunk{{data + 2, n}, dir, (flags & 2) != 0, ts++, {}});
        data += 2 + n;
        size -= 2 + n;
    }
    whoclosed::CloseEvent ev;
    ev.http = t.finish();
    if (ev.http && ev.http->last_request && ev.http->last_request->path &&
        ev.http->last_request->path->size() > whoclosed::kHttpMaxValue)
        std::abort();
    (void)whoclosed::close_event_json(ev);
    return 0;
}
