// Heads split across reads at every byte offset, pipelining across splits,
// and secrets: Authorization, Cookie, Set-Cookie, Proxy-Authorization,
// userinfo and query strings must reach neither the output nor the
// tracker's own buffers, wherever the capture cuts them.
#include <gtest/gtest.h>

#include <cstring>

#include "http_test_util.h"
#include "sink/text_sink.h"

namespace whoclosed {
namespace {

using namespace http_test;

std::optional<HttpExchange> split_in(const std::string& msg, const std::vector<size_t>& cuts,
                                     const std::string& response) {
    HttpTracker t;
    size_t from = 0;
    uint64_t ts = 1;
    for (size_t cut : cuts) {
        t.feed(HttpDir::In, std::string_view(msg).substr(from, cut - from), false, ts++);
        from = cut;
    }
    t.feed(HttpDir::In, std::string_view(msg).substr(from), false, ts++);
    t.feed(HttpDir::Out, response, false, ts++);
    return t.finish();
}

TEST(HttpSplit, GoRequestSplitAtEveryOffset) {
    const std::string whole = http_json(track({in(kGoRequest), out(kGoResponse)}));
    ASSERT_NE(whole.find(kGoRequestJson), std::string::npos) << whole;
    for (size_t i = 1; i < kGoRequest.size(); ++i)
        ASSERT_EQ(http_json(split_in(kGoRequest, {i}, kGoResponse)), whole) << "split at " << i;
}

TEST(HttpSplit, GoRequestSplitAtEveryPairOfOffsets) {
    const std::string whole = http_json(track({in(kGoRequest), out(kGoResponse)}));
    for (size_t i = 1; i < kGoRequest.size(); ++i)
        for (size_t j = i; j < kGoRequest.size(); ++j)
            ASSERT_EQ(http_json(split_in(kGoRequest, {i, j}, kGoResponse)), whole) << "splits at " << i << ", " << j;
}

TEST(HttpSplit, ResponseSplitAtEveryOffset) {
    const std::string whole = http_json(track({in(kGoRequest), out(kGoResponse)}));
    for (size_t i = 1; i < kGoResponse.size(); ++i) {
        const auto ex = track({in(kGoRequest), out(kGoResponse.substr(0, i)), out(kGoResponse.substr(i))});
        ASSERT_EQ(http_json(ex), whole) << "split at " << i;
        ASSERT_TRUE(ex->last_request_answered);
    }
}

TEST(HttpSplit, ThreePipelinedRequestsSplitAtEveryOffset) {
    const std::string three =
        "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
        "GET /3?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: u\r\nConnection: close\r\n\r\n";
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    const auto whole = track({in(three), out(response)});
    ASSERT_EQ(whole->requests, 3u);
    EXPECT_EQ(whole->last_request->path, "/3");
    EXPECT_EQ(whole->last_request->connection, "close");
    for (size_t i = 1; i < three.size(); ++i)
        ASSERT_EQ(http_json(split_in(three, {i}, response)), http_json(whole)) << "split at " << i;
}

// ---- secrets ----

const char* const kSecrets[] = {"S3cr3tBearer", "S3cr3tCookie", "S3cr3tSetCookie", "S3cr3tProxy",
                                "S3cr3tQuery",  "S3cr3tUser",   "S3cr3tFrag"};

const std::string kSecretRequest =
    "GET http://S3cr3tUser:pw@api.example.com/v1/items?token=S3cr3tQuery#S3cr3tFrag HTTP/1.1\r\n"
    "Host: api.example.com\r\nAuthorization: Bearer S3cr3tBearer\r\nCookie: session=S3cr3tCookie\r\n"
    "Proxy-Authorization: Basic S3cr3tProxy\r\nUser-Agent: curl/8.5.0\r\nConnection: keep-alive\r\n\r\n";
const std::string kSecretResponse =
    "HTTP/1.1 200 OK\r\nSet-Cookie: id=S3cr3tSetCookie; HttpOnly\r\nContent-Length: 0\r\n\r\n";

std::string printed(const std::optional<HttpExchange>& ex) {
    CloseEvent ev;
    ev.http = ex;
    return close_event_json(ev) + "\n" + close_event_text(ev);
}

bool memory_holds(const void* p, size_t n, const char* needle) {
    const std::string_view hay(static_cast<const char*>(p), n);
    return hay.find(needle) != std::string_view::npos;
}

// Each secret is at least 10 bytes: a tracker that kept a secret would hold
// its first 8 bytes somewhere, so look for a prefix as well.
void expect_no_secret(const HttpTracker& t, const std::string& out, const std::string& where) {
    for (const char* s : kSecrets) {
        EXPECT_EQ(out.find(s), std::string::npos) << s << " printed, " << where << ":\n" << out;
        const std::string tail(s + 6);  // "Bearer", "Cookie"...: past the shared "S3cr3t"
        EXPECT_FALSE(memory_holds(&t, sizeof t, (std::string("S3cr3t") + tail.substr(0, 2)).c_str()))
            << s << " held in the tracker, " << where;
    }
}

TEST(HttpSecrets, NeverPrintedNorHeldWholeOrSplit) {
    HttpTracker t;
    t.feed(HttpDir::Out, kSecretRequest);
    t.feed(HttpDir::In, kSecretResponse);
    const auto ex = t.finish();
    const std::string out = printed(ex);
    ASSERT_NE(out.find(R"("path":"/v1/items")"), std::string::npos) << out;
    ASSERT_NE(out.find(R"("user_agent":"curl/8.5.0")"), std::string::npos) << out;
    expect_no_secret(t, out, "whole");
    for (size_t i = 1; i < kSecretRequest.size(); ++i) {
        HttpTracker s;
        s.feed(HttpDir::Out, kSecretRequest.substr(0, i));
        expect_no_secret(s, printed(s.exchange()), "request cut at " + std::to_string(i) + " (mid-stream)");
        s.feed(HttpDir::Out, kSecretRequest.substr(i));
        s.feed(HttpDir::In, kSecretResponse.substr(0, i % kSecretResponse.size()), true);
        expect_no_secret(s, printed(s.finish()), "split at " + std::to_string(i));
        if (HasFailure()) return;
    }
}

// The memory check above can see a value the tracker does keep.
TEST(HttpSecrets, MemoryCheckSeesKeptValues) {
    HttpTracker t;
    t.feed(HttpDir::In, "CONNECT S3cr3tUser:x@h:443 HTTP/1.1\r\nUser-Agent: S3cr3tKept\r\n\r\n");
    EXPECT_TRUE(memory_holds(&t, sizeof t, "S3cr3tKe"));
    EXPECT_FALSE(memory_holds(&t, sizeof t, "S3cr3tUs")) << "userinfo of an authority-form target";
    EXPECT_EQ(t.exchange()->last_request->path, "h:443");
}

TEST(HttpSecrets, TruncatedCaptureMidSecret) {
    for (size_t i = 1; i < kSecretRequest.size(); ++i) {
        HttpTracker t;
        t.feed(HttpDir::In, kSecretRequest.substr(0, i), true);
        t.feed(HttpDir::In, kSecretRequest.substr(i));  // not a continuation: ignored
        expect_no_secret(t, printed(t.finish()), "truncated at " + std::to_string(i));
        if (HasFailure()) return;
    }
}

}  // namespace
}  // namespace whoclosed
