// How the sinks print an HTTP exchange beyond the contract example:
// unknown values null, absent heads null, text kept printable.
#include <gtest/gtest.h>

#include "http_test_util.h"
#include "json_check.h"
#include "sink/text_sink.h"

namespace whoclosed {
namespace {

using http_test::http_json;

TEST(HttpOutput, UnknownValuesAndAbsentHeadsAreNull) {
    HttpExchange ex;
    ex.requests = 2;
    ex.last_request = HttpRequestHead{"POST", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
    EXPECT_EQ(http_json(ex),
              R"({"requests":2,"source":null,"last_request":{"method":"POST","path":null,"version":null,)"
              R"("host":null,"connection":null,"user_agent":null},"last_response":null})");
    ex.last_request.reset();
    ex.last_response = HttpResponseHead{"HTTP/1.0", 503, "close"};
    ex.source = "uprobe:openssl";
    EXPECT_EQ(http_json(ex), R"({"requests":2,"source":"uprobe:openssl","last_request":null,)"
                             R"("last_response":{"version":"HTTP/1.0","status":503,"connection":"close"}})");
    EXPECT_EQ(http_json(std::nullopt), "null");
}

TEST(HttpOutput, OddValueBytesStayValidJson) {
    const auto ex = http_test::track({http_test::in("GET /\xff\"x HTTP/1.1\r\nUser-Agent: \"q\"\\ \xc3\r\n\r\n")});
    const std::string json = http_json(ex);
    const auto doc = json_check::parse(json);
    ASSERT_TRUE(doc) << json;
    EXPECT_EQ(doc->at("last_request").at("path").text, "/\xef\xbf\xbd\"x");
    EXPECT_EQ(doc->at("last_request").at("user_agent").text, "\"q\"\\ \xef\xbf\xbd");
}

std::string text_of(const std::optional<HttpExchange>& ex) {
    CloseEvent ev;
    ev.http = ex;
    const std::string line = close_event_text(ev);
    const size_t at = line.find(" http: ");
    return at == std::string::npos ? "" : line.substr(at);
}

TEST(HttpOutput, TextPart) {
    EXPECT_EQ(text_of(std::nullopt), "");
    EXPECT_EQ(text_of(http_test::track({http_test::in(http_test::kGoRequest), http_test::out(http_test::kGoResponse)})),
              " http: GET / -> 200 (Connection: close, UA Go-http-client/1.1, response Connection: close)");
    EXPECT_EQ(text_of(http_test::track({http_test::out("GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\n")})),
              " http: 2 requests, last HEAD /2 -> ?");
    EXPECT_EQ(text_of(http_test::track({http_test::in("HTTP/1.1 301 Moved\r\n\r\n")})), " http: ? -> 301");
    EXPECT_EQ(text_of(http_test::track({http_test::in("GET /caf\xc3 HTTP/1.1\r\nUser-Agent: a\x1b[2J\r\n\r\n")})),
              " http: GET /caf\\xc3 -> ? (UA a?[2J)");
    EXPECT_EQ(text_of(http_test::track({http_test::in("GET /\x1b[2J HTTP/1.1\r\n\r\n")})), "")
        << "a CTL in a target: not HTTP";
    EXPECT_EQ(text_of(http_test::track({http_test::in("PUT /long-path-cut", true)})), " http: PUT ? -> ?");
}

}  // namespace
}  // namespace whoclosed
