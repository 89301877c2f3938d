// Table tests of the HTTP/1.x head parser, through HttpTracker as the
// capture will drive it: each row is the chunks one socket saw and the
// `http` object the sink must print for them.
#include <gtest/gtest.h>

#include "http/http_syntax.h"
#include "http_test_util.h"

namespace whoclosed {
namespace {

using namespace http_test;

std::string req_json(std::string_view method, std::string_view path, std::string_view version,
                     std::string_view host, std::string_view connection, std::string_view user_agent) {
    auto v = [](std::string_view s) { return s == "null" ? std::string(s) : "\"" + std::string(s) + "\""; };
    return R"({"method":")" + std::string(method) + R"(","path":)" + v(path) + R"(,"version":)" + v(version) +
           R"(,"host":)" + v(host) + R"(,"connection":)" + v(connection) + R"(,"user_agent":)" + v(user_agent) + "}";
}

std::string exchange_json(int requests, const std::string& req, const std::string& resp) {
    return R"({"requests":)" + std::to_string(requests) + R"(,"source":"syscall","last_request":)" + req +
           R"(,"last_response":)" + resp + "}";
}

std::string simple_req(std::string_view path, std::string_view version = "HTTP/1.1") {
    return req_json("GET", path, version, "h", "null", "null");
}

struct ParseCase {
    const char* name;
    std::vector<Chunk> chunks;
    std::string expected;  // the printed `http` value
};

class HttpParse : public ::testing::TestWithParam<ParseCase> {};

TEST_P(HttpParse, PrintsTheExchange) {
    const ParseCase& c = GetParam();
    EXPECT_EQ(http_json(track(c.chunks)), c.expected);
}

const std::string kOk = R"({"version":"HTTP/1.1","status":200,"connection":null})";

INSTANTIATE_TEST_SUITE_P(
    Table, HttpParse,
    ::testing::Values(
        ParseCase{"go_server_side", {in(kGoRequest), out(kGoResponse)},
                  exchange_json(1, kGoRequestJson, R"({"version":"HTTP/1.1","status":200,"connection":"close"})")},
        ParseCase{"curl_client_side",
                  {out("GET /index.html HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/8.5.0\r\n"
                       "Accept: */*\r\n\r\n"),
                   in("HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Length: 0\r\n"
                      "Connection: keep-alive\r\n\r\n")},
                  exchange_json(1, req_json("GET", "/index.html", "HTTP/1.1", "localhost:8080", "null", "curl/8.5.0"),
                                R"({"version":"HTTP/1.1","status":404,"connection":"keep-alive"})")},
        ParseCase{"query_stripped", {in("GET /search?q=x&token=abc HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(1, simple_req("/search"), "null")},
        ParseCase{"fragment_stripped", {in("GET /a/b#frag HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(1, simple_req("/a/b"), "null")},
        ParseCase{"absolute_form", {in("GET http://example.com:8080/path/x?y=1 HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(1, simple_req("/path/x"), "null")},
        ParseCase{"absolute_form_no_path", {in("GET https://example.com HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(1, simple_req("/"), "null")},
        ParseCase{"absolute_form_query_only", {in("GET http://example.com?x=1 HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(1, simple_req("/"), "null")},
        ParseCase{"absolute_form_userinfo_dropped", {in("GET http://u:pw@example.com/p HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(1, simple_req("/p"), "null")},
        ParseCase{"authority_form", {out("CONNECT example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(1, req_json("CONNECT", "example.com:443", "HTTP/1.1", "h", "null", "null"), "null")},
        ParseCase{"asterisk_form", {in("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(1, req_json("OPTIONS", "*", "HTTP/1.1", "h", "null", "null"), "null")},
        ParseCase{"http10_without_keepalive",
                  {in("GET /f HTTP/1.0\r\nHost: h\r\nUser-Agent: curl/8.5.0\r\n\r\n"),
                   out("HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.12.3\r\n\r\n<html>")},
                  exchange_json(1, req_json("GET", "/f", "HTTP/1.0", "h", "null", "curl/8.5.0"),
                                R"({"version":"HTTP/1.0","status":200,"connection":null})")},
        ParseCase{"http10_keepalive", {in("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: h\r\n\r\n")},
                  exchange_json(1, req_json("GET", "/", "HTTP/1.0", "h", "Keep-Alive", "null"), "null")},
        ParseCase{"header_names_any_case",
                  {in("GET / HTTP/1.1\r\nhOsT: a.b\r\nCONNECTION: Keep-Alive, Upgrade\r\nuser-agent: x/1\r\n\r\n")},
                  exchange_json(1, req_json("GET", "/", "HTTP/1.1", "a.b", "Keep-Alive, Upgrade", "x/1"), "null")},
        ParseCase{"repeated_connection_combined",
                  {in("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: TE\r\n\r\n")},
                  exchange_json(1, req_json("GET", "/", "HTTP/1.1", "h", "keep-alive, TE", "null"), "null")},
        ParseCase{"whitespace_trimmed_bare_lf", {in("GET / HTTP/1.1\nHost:h  \nUser-Agent: \t a b \t\n\n")},
                  exchange_json(1, req_json("GET", "/", "HTTP/1.1", "h", "null", "a b"), "null")},
        ParseCase{"empty_lines_before_request", {in("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(1, simple_req("/"), "null")},
        ParseCase{"pipelined_three",
                  {in("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
                      "GET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")},
                  exchange_json(3, req_json("GET", "/3", "HTTP/1.1", "h", "close", "null"), "null")},
        ParseCase{"pipelined_after_body",
                  {in("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 18\r\n\r\nGET /fake HTTP/1.1\r\n"
                      "GET /b HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(2, simple_req("/b"), "null")},
        // Chunked bodies are not followed: the next message needs its own chunk.
        ParseCase{"chunked_body_stops_the_chunk",
                  {in("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                      "GET /b HTTP/1.1\r\n\r\n"),
                   in("GET /c HTTP/1.1\r\nHost: h\r\n\r\n")},
                  exchange_json(2, simple_req("/c"), "null")},
        ParseCase{"pipelined_responses",
                  {in("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
                   out("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 304 Not Modified\r\n\r\n"
                       "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")},
                  exchange_json(2, simple_req("/2"), R"({"version":"HTTP/1.1","status":204,"connection":"close"})")},
        ParseCase{"interim_100_is_not_the_response",
                  {in("PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n"),
                   out("HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n"
                       "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")},
                  exchange_json(1, req_json("PUT", "/u", "HTTP/1.1", "h", "null", "null"),
                                R"({"version":"HTTP/1.1","status":201,"connection":null})")},
        ParseCase{"nothing_after_101",
                  {in("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
                   out("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n"),
                   in("GET /x HTTP/1.1\r\nHost: h\r\n\r\n"), out("HTTP/1.1 200 OK\r\n\r\n")},
                  exchange_json(1, req_json("GET", "/ws", "HTTP/1.1", "h", "Upgrade", "null"),
                                R"({"version":"HTTP/1.1","status":101,"connection":"Upgrade"})")},
        ParseCase{"response_without_request", {in("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
                  exchange_json(0, "null", kOk)},
        ParseCase{"truncated_request_line", {in("GET /a/very/long/path/that/goes/on", true)},
                  exchange_json(1, req_json("GET", "null", "null", "null", "null", "null"), "null")},
        ParseCase{"truncated_in_query_keeps_path", {in("GET /p?token=abc", true)},
                  exchange_json(1, req_json("GET", "/p", "null", "null", "null", "null"), "null")},
        ParseCase{"truncated_mid_header_name", {in("GET / HTTP/1.1\r\nHost: h\r\nUser-Ag", true)},
                  exchange_json(1, simple_req("/"), "null")},
        ParseCase{"truncated_mid_value_is_unknown", {in("GET / HTTP/1.1\r\nHost: h\r\nConnection: clo", true)},
                  exchange_json(1, simple_req("/"), "null")},
        ParseCase{"no_continuation_after_truncation",
                  {in("GET / HTTP/1.1\r\nHost: h\r\n", true), in("Connection: close\r\n\r\n")},
                  exchange_json(1, simple_req("/"), "null")},
        ParseCase{"continuation_after_complete_chunk",
                  {in("GET / HTTP/1.1\r\nHost: h\r\n"), in("Connection: close\r\n\r\n")},
                  exchange_json(1, req_json("GET", "/", "HTTP/1.1", "h", "close", "null"), "null")},
        ParseCase{"space_before_colon_not_trusted", {in("GET / HTTP/1.1\r\nConnection : close\r\nHost: h\r\n\r\n")},
                  exchange_json(1, simple_req("/"), "null")},
        ParseCase{"binary_in_head_stops_parsing", {in(std::string("GET / HTTP/1.1\r\n\x01\x02Host: h\r\n\r\n", 27))},
                  exchange_json(1, req_json("GET", "/", "HTTP/1.1", "null", "null", "null"), "null")},
        ParseCase{"control_bytes_in_values",
                  {in(std::string("GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: a\0b\x1b[1m\x7f\r\n\r\n", 49))},
                  exchange_json(1, req_json("GET", "/", "HTTP/1.1", "h", "null", "a?b?[1m?"), "null")},
        ParseCase{"utf8_value_kept", {in("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\xc3\xa9\r\n\r\n")},
                  exchange_json(1, req_json("GET", "/caf\xc3\xa9", "HTTP/1.1", "h", "null", "caf\xc3\xa9"), "null")},
        ParseCase{"tls_client_hello", {out(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11))}, "null"},
        ParseCase{"http09", {in("GET /\r\n")}, "null"},
        ParseCase{"http2_version", {in("GET / HTTP/2.0\r\nHost: h\r\n\r\n")}, "null"},
        ParseCase{"http2_preface", {out("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")}, "null"},
        ParseCase{"lowercase_method", {in("get / HTTP/1.1\r\n\r\n")}, "null"},
        ParseCase{"unknown_method", {in("BREW /pot HTTP/1.1\r\n\r\n")}, "null"},
        ParseCase{"bad_status", {in("HTTP/1.1 2000 OK\r\n\r\n"), in("HTTP/1.1 20\r\n"), in("HTTP/1.1 099 x\r\n")},
                  "null"},
        ParseCase{"text_that_mentions_http", {in("hello GET / HTTP/1.1\r\n\r\n"), out("SSH-2.0-OpenSSH_9.6\r\n")},
                  "null"},
        ParseCase{"empty_chunks", {in(""), out("")}, "null"}),
    [](const ::testing::TestParamInfo<ParseCase>& p) { return std::string(p.param.name); });

TEST(HttpParse, OversizeValuesAndPathsAreCutToTheBound) {
    const std::string ua(1000, 'A'), path = "/" + std::string(999, 'p');
    const auto ex = track({in("GET " + path + "?q HTTP/1.1\r\nHost: h\r\nUser-Agent: " + ua + "\r\n\r\n")});
    ASSERT_TRUE(ex && ex->last_request);
    EXPECT_EQ(ex->last_request->user_agent, ua.substr(0, kHttpMaxValue));
    EXPECT_EQ(ex->last_request->path, path.substr(0, kHttpMaxValue));
    EXPECT_EQ(ex->last_request->version, "HTTP/1.1");
    EXPECT_EQ(ex->last_request->host, "h");
}

TEST(HttpParse, LongPathCutByTheCaptureKeepsItsBoundedPrefix) {
    const std::string path = "/" + std::string(600, 'p');
    const auto ex = track({in(("GET " + path).substr(0, kHttpCaptureBytes), true)});
    ASSERT_TRUE(ex && ex->last_request);
    EXPECT_EQ(ex->last_request->path, path.substr(0, kHttpMaxValue));
    EXPECT_FALSE(ex->last_request->version);
}

TEST(HttpParse, RequestLineCutAtCloseCountsAsFarAsRead) {
    HttpTracker t;
    t.feed(HttpDir::In, "GET /x HTTP/1.1\r\nHost: h\r\n\r\nPOST /y?a=b HTT");
    EXPECT_EQ(t.exchange()->requests, 1u);
    const auto ex = t.finish();
    EXPECT_EQ(ex->requests, 2u);
    EXPECT_EQ(ex->last_request->method, "POST");
    EXPECT_EQ(ex->last_request->path, "/y");
    EXPECT_FALSE(ex->last_request->version);
}

TEST(HttpParse, SourceIsThatOfTheFirstHttpChunk) {
    HttpTracker t("syscall");
    t.feed(HttpDir::Out, std::string_view("\x17\x03\x03\x00\x20", 5), false, 1, "syscall");
    t.feed(HttpDir::Out, "GET / HTTP/1.1\r\n\r\n", false, 2, "uprobe:openssl");
    t.feed(HttpDir::In, "HTTP/1.1 200 OK\r\n\r\n", false, 3, "syscall");
    EXPECT_EQ(t.exchange()->source, "uprobe:openssl");
    HttpTracker d("uprobe:go");
    d.feed(HttpDir::In, "GET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(d.exchange()->source, "uprobe:go");
}

TEST(HttpParse, SideAndAnsweredFollowTheBytes) {
    auto ex = track({in(kGoRequest), out(kGoResponse)});
    EXPECT_EQ(ex->side, Role::Server);
    EXPECT_TRUE(ex->last_request_answered);
    ex = track({out(kGoRequest), in(kGoResponse)});
    EXPECT_EQ(ex->side, Role::Client);
    EXPECT_TRUE(ex->last_request_answered);
    ex = track({in(kGoRequest), out(kGoResponse), in("GET /again HTTP/1.1\r\n\r\n")});
    EXPECT_FALSE(ex->last_request_answered);
    ex = track({in("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
                out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")});
    EXPECT_FALSE(ex->last_request_answered) << "one of two pipelined requests answered";
    ex = track({in("GET / HTTP/1.1\r\n\r\n"), out("HTTP/1.1 100 Continue\r\n\r\n")});
    EXPECT_FALSE(ex->last_request_answered) << "an interim response is no answer";
}

TEST(HttpStart, BeginsHttpMessage) {
    EXPECT_EQ(begins_http_message("GET / HTTP/1.1\r\n"), HttpStart::Request);
    EXPECT_EQ(begins_http_message("DELETE /x"), HttpStart::Request);  // line continues beyond the buffer
    EXPECT_EQ(begins_http_message("CONNECT h:443 HTTP/1.1\r\n"), HttpStart::Request);
    EXPECT_EQ(begins_http_message("OPTIONS * HTTP/1.0\n"), HttpStart::Request);
    EXPECT_EQ(begins_http_message("HTTP/1.1 200 OK\r\n"), HttpStart::Response);
    EXPECT_EQ(begins_http_message("HTTP/1.0 404"), HttpStart::Response);
    EXPECT_EQ(begins_http_message("HTTP/1.1 204\r\n"), HttpStart::Response);
    for (std::string_view no : {"", "G", "GET", "GET ", "GET  /", "get / HTTP/1.1\r\n", "GET /\r\n",
                                "GET / HTTP/2.0\r\n", "GET / x HTTP/1.1\r\n", "GET /\x01 HTTP/1.1\r\n",
                                "GETX / HTTP/1.1", "HTTP/1.1 20", "HTTP/1.1 2000", "HTTP/2 200", "HTTP/1.1  200",
                                "HTTP/1.1 abc", "PRI * HTTP/2.0\r\n", "\x16\x03\x01", " GET / HTTP/1.1"})
        EXPECT_EQ(begins_http_message(no), HttpStart::None) << no;
}

TEST(HttpStart, WantsCloseFollowsRfc9112) {
    using S = std::optional<std::string>;
    EXPECT_TRUE(wants_close(S("HTTP/1.1"), S("close")));
    EXPECT_TRUE(wants_close(S("HTTP/1.1"), S("Keep-Alive, CLOSE")));
    EXPECT_FALSE(wants_close(S("HTTP/1.1"), std::nullopt));
    EXPECT_FALSE(wants_close(S("HTTP/1.1"), S("closed, x-close")));
    EXPECT_TRUE(wants_close(S("HTTP/1.0"), std::nullopt));
    EXPECT_TRUE(wants_close(S("HTTP/1.0"), S("TE")));
    EXPECT_FALSE(wants_close(S("HTTP/1.0"), S("Keep-Alive")));
    EXPECT_FALSE(wants_close(S("HTTP/1.0"), S(" keep-alive ,TE")));
    EXPECT_TRUE(wants_close(std::nullopt, S("close")));
    EXPECT_FALSE(wants_close(std::nullopt, std::nullopt));
}

}  // namespace
}  // namespace whoclosed
