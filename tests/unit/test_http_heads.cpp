#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "correlate/http_heads.h"
#include "sink/ndjson_sink.h"

namespace whoclosed {
namespace {

http_record heads(const std::string& req, const std::string& resp, bool req_outbound, unsigned requests) {
    http_record h{};
    std::memcpy(h.req, req.data(), req.size());
    h.req_len = static_cast<unsigned short>(req.size());
    std::memcpy(h.resp, resp.data(), resp.size());
    h.resp_len = static_cast<unsigned short>(resp.size());
    h.req_outbound = req_outbound;
    h.requests = requests;
    h.responses = requests;
    h.source = WC_HTTP_SRC_SYSCALL;
    return h;
}

const std::string kGoRequest =
    "GET / HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nUser-Agent: Go-http-client/1.1\r\n"
    "Connection: close\r\nAccept-Encoding: gzip\r\n\r\n";
const std::string kGoResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";

TEST(HttpHeads, TheServerSocketReadsTheRequestAndAnswersIt) {
    auto ex = exchange_from_heads(heads(kGoRequest, kGoResponse, false, 1), Role::Server);
    ASSERT_TRUE(ex.has_value());
    EXPECT_EQ(ex->requests, 1u);
    EXPECT_EQ(ex->source, "syscall");
    ASSERT_TRUE(ex->last_request.has_value());
    EXPECT_EQ(ex->last_request->method, "GET");
    EXPECT_EQ(ex->last_request->path, "/");
    EXPECT_EQ(ex->last_request->connection, "close");
    EXPECT_EQ(ex->last_request->user_agent, "Go-http-client/1.1");
    ASSERT_TRUE(ex->last_response.has_value());
    EXPECT_EQ(ex->last_response->status, 200);
    EXPECT_EQ(ex->side, Role::Server);
}

TEST(HttpHeads, MemoGivesTheSameExchangeAndKeepsEachSocketsRequestCount) {
    HttpHeadsParser parser(2);
    auto first = parser.parse(heads(kGoRequest, kGoResponse, false, 1), Role::Server);
    auto again = parser.parse(heads(kGoRequest, kGoResponse, false, 7), Role::Server);
    ASSERT_TRUE(first && again);
    EXPECT_EQ(first->requests, 1u);
    EXPECT_EQ(again->requests, 7u);
    EXPECT_EQ(again->last_request->user_agent, first->last_request->user_agent);
    // The client's socket wrote the same request: a different entry, a different side.
    auto client = parser.parse(heads(kGoRequest, kGoResponse, true, 1), Role::Client);
    ASSERT_TRUE(client.has_value());
    EXPECT_EQ(client->side, Role::Client);
    // Past capacity the memo starts over and still answers correctly.
    auto other = parser.parse(heads("GET /x HTTP/1.0\r\n\r\n", "HTTP/1.0 404 Not Found\r\n\r\n", false, 1),
                              Role::Server);
    ASSERT_TRUE(other.has_value());
    EXPECT_EQ(other->last_request->path, "/x");
    EXPECT_EQ(other->last_response->status, 404);
    auto back = parser.parse(heads(kGoRequest, kGoResponse, false, 2), Role::Server);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->requests, 2u);
    EXPECT_EQ(back->last_request->connection, "close");
}

// Three exchanges in turn through a memo of two: the latest-two shortcut
// misses, hits and is emptied with the memo each time it starts over, and
// every answer is the one an unmemoized parse gives.
TEST(HttpHeads, MemoAnswersRightWhileExchangesTakeTurns) {
    HttpHeadsParser parser(2);
    const std::vector<std::pair<http_record, Role>> cases = {
        {heads("GET /a HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", false, 1), Role::Server},
        {heads("GET /b HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n\r\n", true, 1), Role::Client},
        {heads("GET /c HTTP/1.1\r\n\r\n", "HTTP/1.1 503 Busy\r\n\r\n", false, 1), Role::Server},
    };
    const size_t order[] = {0, 1, 0, 1, 2, 0, 2, 2, 1, 0, 1, 2, 1, 0};
    for (size_t step = 0; step < std::size(order); ++step) {
        SCOPED_TRACE(::testing::Message() << "step " << step);
        const auto& [h, role] = cases[order[step]];
        auto memo = parser.parse(h, role);
        auto fresh = exchange_from_heads(h, role);
        ASSERT_TRUE(memo && fresh);
        EXPECT_EQ(memo->side, fresh->side);
        ASSERT_TRUE(memo->last_request && memo->last_response);
        EXPECT_EQ(memo->last_request->path, fresh->last_request->path);
        EXPECT_EQ(memo->last_response->status, fresh->last_response->status);
    }
}

// Everything the memo's answer depends on tells entries apart: the same
// bytes split differently between request and response, another source,
// another role, a different byte anywhere. Each answer equals an unmemoized
// parse of the same heads.
TEST(HttpHeads, MemoTellsApartHeadsThatDifferInAnyPart) {
    HttpHeadsParser parser;
    const std::string req = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", resp = "HTTP/1.1 200 OK\r\n\r\n";
    std::vector<std::pair<http_record, Role>> cases;
    cases.push_back({heads(req, resp, false, 1), Role::Server});
    cases.push_back({heads(req + resp, "", false, 1), Role::Server});  // same bytes, other split
    cases.push_back({heads(req, resp, false, 1), Role::Client});
    cases.push_back({heads("", resp, false, 0), Role::Server});  // a response alone: the role orients it
    cases.push_back({heads("", resp, false, 0), Role::Client});
    http_record tls = heads(req, resp, false, 1);
    tls.source = WC_HTTP_SRC_OPENSSL;
    cases.push_back({tls, Role::Server});
    std::string other = req;
    other[5] = 'b';  // GET /b
    cases.push_back({heads(other, resp, false, 1), Role::Server});
    std::string status = resp;
    status[9] = '5';  // 500
    cases.push_back({heads(req, status, false, 1), Role::Server});
    for (int pass = 0; pass < 2; ++pass) {  // the second pass answers from the memo
        for (size_t i = 0; i < cases.size(); ++i) {
            SCOPED_TRACE(::testing::Message() << "case " << i << " pass " << pass);
            const auto& [h, role] = cases[i];
            auto memo = parser.parse(h, role);
            auto fresh = exchange_from_heads(h, role);
            ASSERT_EQ(memo.has_value(), fresh.has_value());
            if (!memo) continue;
            EXPECT_EQ(memo->source, fresh->source);
            EXPECT_EQ(memo->side, fresh->side);
            EXPECT_EQ(memo->last_request.has_value(), fresh->last_request.has_value());
            if (memo->last_request && fresh->last_request) {
                EXPECT_EQ(memo->last_request->path, fresh->last_request->path);
            }
            EXPECT_EQ(memo->last_response.has_value(), fresh->last_response.has_value());
            if (memo->last_response && fresh->last_response) {
                EXPECT_EQ(memo->last_response->status, fresh->last_response->status);
            }
        }
    }
}

// Copies of a memoized exchange render their `http` fields after `requests`
// once, into the slot they share, and print exactly what an unmemoized
// exchange of the same heads prints, each with its own request count.
TEST(HttpHeads, MemoizedExchangesPrintLikeFreshOnesFromOneRendering) {
    HttpHeadsParser parser;
    const std::vector<std::pair<http_record, Role>> cases = {
        {heads(kGoRequest, kGoResponse, false, 1), Role::Server},
        {heads(kGoRequest, kGoResponse, true, 1), Role::Client},
        {heads("GET /x?token=secret HTTP/1.0\r\nUser-Agent: a\"b\\c\r\n\r\n", "", false, 1), Role::Server},
        {heads("", "HTTP/1.1 503 Busy\r\nConnection: close\r\n\r\n", false, 0), Role::Client},
    };
    for (unsigned requests : {1u, 7u, 1u}) {  // the memo answers after the first round
        for (size_t i = 0; i < cases.size(); ++i) {
            SCOPED_TRACE(::testing::Message() << "case " << i << " requests " << requests);
            http_record h = cases[i].first;
            h.requests = requests;
            CloseEvent memo_ev, fresh_ev;
            memo_ev.http = parser.parse(h, cases[i].second);
            fresh_ev.http = exchange_from_heads(h, cases[i].second);
            ASSERT_TRUE(memo_ev.http && fresh_ev.http);
            ASSERT_TRUE(memo_ev.http->json_tail);
            EXPECT_FALSE(fresh_ev.http->json_tail);
            const std::string printed = close_event_json(memo_ev);
            EXPECT_EQ(printed, close_event_json(fresh_ev));
            EXPECT_NE(printed.find("\"http\":{\"requests\":" + std::to_string(requests) + ",\"source\":"),
                      std::string::npos)
                << printed;
            EXPECT_FALSE(memo_ev.http->json_tail->empty());  // rendered once, kept for the next copy
            EXPECT_EQ(printed.find("secret"), std::string::npos);
        }
    }
}

TEST(HttpHeads, BytesThatAreNotHttpGiveNoExchange) {
    auto ex = exchange_from_heads(heads(std::string("\x16\x03\x01\x02\x00\x01\x00\x01", 8), "", true, 1),
                                  Role::Client);
    EXPECT_FALSE(ex.has_value());
}

}  // namespace
}  // namespace whoclosed
