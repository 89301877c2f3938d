// A deterministic fuzz loop: random bytes, and valid heads with random
// damage, cut and truncated at random, fed to trackers. Nothing may crash,
// every kept value stays within its bound, and every line stays valid JSON.
// (tests/fuzz/http_fuzzer.cpp is the libFuzzer counterpart.)
#include <gtest/gtest.h>

#include <random>

#include "http/http_syntax.h"
#include "http_test_util.h"
#include "json_check.h"

namespace whoclosed {
namespace {

const std::vector<std::string> kSeeds = {
    http_test::kGoRequest,
    http_test::kGoResponse,
    "POST /a?b=c HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabcGET / HTTP/1.1\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n",
    "CONNECT u@h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
    "GET http://u:p@h:1/p#f HTTP/1.1\r\nCookie: c\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.0 204 No Content\r\nSet-Cookie: s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
};

std::string random_bytes(std::mt19937& rng, size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
}

// A seed with a few bytes flipped, inserted or removed, or random bytes.
std::string chunk_bytes(std::mt19937& rng) {
    if (rng() % 4 == 0) return random_bytes(rng, rng() % 600);
    std::string s = kSeeds[rng() % kSeeds.size()];
    using namespace std::string_view_literals;
    const std::string_view alphabet = "\r\n :/?#@\t\x00\x7f\xff" "0123456789GETHTP."sv;
    for (unsigned edits = rng() % 4; edits > 0 && !s.empty(); --edits) {
        const size_t at = rng() % s.size();
        switch (rng() % 3) {
            case 0: s[at] = alphabet[rng() % alphabet.size()]; break;
            case 1: s.insert(at, 1, static_cast<char>(rng() & 0xFF)); break;
            default: s.erase(at, 1 + rng() % 8); break;
        }
    }
    if (rng() % 3 == 0) s = s.substr(rng() % (s.size() + 1));
    return s.substr(0, kHttpCaptureBytes);
}

void expect_bounded(const HttpExchange& ex) {
    if (const auto& r = ex.last_request) {
        EXPECT_TRUE(is_known_method(r->method)) << r->method;
        for (const auto* v : {&r->path, &r->host, &r->connection, &r->user_agent})
            EXPECT_LE(v->value_or("").size(), kHttpMaxValue);
        const std::string version = r->version.value_or("HTTP/1.1");
        EXPECT_TRUE(version == "HTTP/1.1" || version == "HTTP/1.0") << version;
    }
    if (const auto& r = ex.last_response) {
        EXPECT_TRUE(r->version == "HTTP/1.1" || r->version == "HTTP/1.0") << r->version;
        EXPECT_GE(r->status, 100);
        EXPECT_LE(r->status, 999);
        EXPECT_LE(r->connection.value_or("").size(), kHttpMaxValue);
    }
}

TEST(HttpFuzz, RandomAndDamagedChunksNeverCrashAndStayBounded) {
    std::mt19937 rng(20261125);
    size_t with_http = 0;
    for (int iter = 0; iter < 100000; ++iter) {
        HttpTracker t;
        size_t fed = 0;
        for (unsigned n = 1 + rng() % 6; n > 0; --n) {
            const std::string b = chunk_bytes(rng);
            fed += b.size();
            t.feed(rng() % 2 ? HttpDir::In : HttpDir::Out, b, rng() % 4 == 0, static_cast<uint64_t>(iter));
        }
        const auto ex = t.finish();
        if (!ex) continue;
        ++with_http;
        EXPECT_LE(ex->requests, fed / 8) << "a request takes at least \"GET / HTTP/1.1\\n\" minus the version";
        expect_bounded(*ex);
        if (iter % 16 == 0) {
            const std::string json = http_test::http_json(ex);
            EXPECT_TRUE(json_check::parse(json)) << json;
        }
        if (HasFailure()) FAIL() << "iteration " << iter;
    }
    EXPECT_GT(with_http, 10000u) << "the damaged seeds should still parse often";
}

TEST(HttpFuzz, TrackerMemoryIsFixed) {
    // The parser's buffers are fixed arrays: a tracker is a constant-size
    // object plus at most a few bounded strings, whatever it is fed.
    EXPECT_LE(sizeof(HttpTracker), 4096u);
    std::mt19937 rng(7);
    HttpTracker t;
    for (int i = 0; i < 20000; ++i) t.feed(rng() % 2 ? HttpDir::In : HttpDir::Out, chunk_bytes(rng), rng() % 4 == 0);
    const auto ex = t.finish();
    ASSERT_TRUE(ex);
    expect_bounded(*ex);
}

}  // namespace
}  // namespace whoclosed
