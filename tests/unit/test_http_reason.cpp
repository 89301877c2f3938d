// The close reason as a pure function of the socket's verdict, closing
// task, idle gap and HTTP exchange: one row per contract value, then rows
// where two values apply and the contract's order decides.
#include <gtest/gtest.h>

#include "correlate/verdict.h"
#include "http_test_util.h"

namespace whoclosed {
namespace {

using http_test::in;
using http_test::out;
using Opt = std::optional<std::string>;

struct Http {
    Role side = Role::Server;
    Opt req_version = "HTTP/1.1", req_conn = std::nullopt;
    Opt resp_version = "HTTP/1.1", resp_conn = std::nullopt;
    bool answered = true;
};

std::optional<HttpExchange> exchange(const Http& h) {
    HttpExchange ex;
    ex.requests = 1;
    ex.source = "syscall";
    ex.side = h.side;
    ex.last_request = HttpRequestHead{"GET", "/", h.req_version, "h", h.req_conn, "ua"};
    if (h.resp_version) ex.last_response = HttpResponseHead{*h.resp_version, 200, h.resp_conn};
    ex.last_request_answered = h.answered && h.resp_version;
    return ex;
}

struct ReasonCase {
    const char* name;
    Role role;  // from the handshake
    FirstFin fin;
    ResetDir reset;
    bool exiting;
    std::optional<double> idle_ms;
    std::optional<Http> http;
    Reason expected;
};

class HttpReason : public ::testing::TestWithParam<ReasonCase> {};

TEST_P(HttpReason, FirstApplicableWins) {
    const ReasonCase& c = GetParam();
    CloseVerdict v;
    v.role = c.role;
    v.first_fin = c.fin;
    v.reset = c.reset;
    const auto http = c.http ? exchange(*c.http) : std::nullopt;
    EXPECT_EQ(to_string(infer_tcp_reason(v, c.exiting, c.idle_ms, http)), std::string(to_string(c.expected)));
}

constexpr auto S = Role::Server, C = Role::Client, U = Role::Unknown;
constexpr auto L = FirstFin::Local, R = FirstFin::Remote, X = FirstFin::Simultaneous, N = FirstFin::None;
constexpr auto NoRst = ResetDir::None;
const Http kReqClose{S, "HTTP/1.1", "close"};
const Http kRespClose{S, "HTTP/1.1", std::nullopt, "HTTP/1.1", "close"};
const Http kBothClose{S, "HTTP/1.1", "close", "HTTP/1.1", "close"};
const Http kKeepAlive{S};
Http as_client(Http h) {
    h.side = C;
    return h;
}

INSTANTIATE_TEST_SUITE_P(
    Table, HttpReason,
    ::testing::Values(
        // ---- one row per contract value ----
        ReasonCase{"reset", S, N, ResetDir::Received, false, 0.1, kKeepAlive, Reason::Reset},
        ReasonCase{"simultaneous", C, X, NoRst, false, 0.1, std::nullopt, Reason::Simultaneous},
        ReasonCase{"process_exit", C, L, NoRst, true, 0.1, std::nullopt, Reason::ProcessExit},
        ReasonCase{"request_connection_close", S, L, NoRst, false, 0.08, kReqClose, Reason::RequestConnectionClose},
        ReasonCase{"response_connection_close", S, L, NoRst, false, 0.1, kRespClose, Reason::ResponseConnectionClose},
        ReasonCase{"idle_timeout", C, L, NoRst, false, 1000.0, std::nullopt, Reason::IdleTimeout},
        ReasonCase{"client_close", C, L, NoRst, false, 3.0, as_client(kKeepAlive), Reason::ClientClose},
        ReasonCase{"unknown", S, L, NoRst, false, 3.0, kKeepAlive, Reason::Unknown},
        // ---- precedence: two apply, the earlier in the contract's list wins ----
        ReasonCase{"reset_over_request_close", S, L, ResetDir::Sent, false, 0.1, kReqClose, Reason::Reset},
        ReasonCase{"reset_over_simultaneous", C, X, ResetDir::Received, false, 0.1, std::nullopt, Reason::Reset},
        ReasonCase{"simultaneous_over_request_close", S, X, NoRst, false, 0.1, kReqClose, Reason::Simultaneous},
        ReasonCase{"process_exit_over_request_close", S, L, NoRst, true, 0.1, kReqClose, Reason::ProcessExit},
        ReasonCase{"request_over_response_close", S, L, NoRst, false, 0.1, kBothClose, Reason::RequestConnectionClose},
        ReasonCase{"request_close_over_idle", S, L, NoRst, false, 5000.0, kReqClose, Reason::RequestConnectionClose},
        ReasonCase{"response_close_over_idle", S, L, NoRst, false, 5000.0, kRespClose,
                   Reason::ResponseConnectionClose},
        ReasonCase{"idle_over_client_close", C, L, NoRst, false, 2000.0, as_client(kKeepAlive), Reason::IdleTimeout},
        // ---- each socket judges from its own view ----
        ReasonCase{"request_close_seen_by_the_client", C, R, NoRst, false, 0.1, as_client(kReqClose),
                   Reason::RequestConnectionClose},
        ReasonCase{"response_close_seen_by_the_client", C, R, NoRst, false, 0.1, as_client(kRespClose),
                   Reason::ResponseConnectionClose},
        ReasonCase{"client_close_seen_by_the_server", S, R, NoRst, false, 0.5, kKeepAlive, Reason::ClientClose},
        ReasonCase{"http10_request_without_keepalive", S, L, NoRst, false, 0.1,
                   Http{S, "HTTP/1.0", std::nullopt, "HTTP/1.0"}, Reason::RequestConnectionClose},
        ReasonCase{"http10_request_with_keepalive", S, L, NoRst, false, 0.1,
                   Http{S, "HTTP/1.0", "keep-alive", "HTTP/1.0", "keep-alive"}, Reason::Unknown},
        ReasonCase{"http10_response_to_http11_request", S, L, NoRst, false, 0.1,
                   Http{S, "HTTP/1.1", std::nullopt, "HTTP/1.0"}, Reason::ResponseConnectionClose},
        // the client asked to close but closed first itself: its own choice
        ReasonCase{"request_close_but_client_closed_first", C, L, NoRst, false, 0.1, as_client(kReqClose),
                   Reason::ClientClose},
        // the server closed before answering: Connection: close is not why
        ReasonCase{"request_close_unanswered", S, L, NoRst, false, 0.1, Http{S, "HTTP/1.1", "close", std::nullopt},
                   Reason::Unknown},
        ReasonCase{"request_pending_after_response", S, L, NoRst, false, 0.1,
                   Http{S, "HTTP/1.1", "close", "HTTP/1.1", std::nullopt, false}, Reason::Unknown},
        ReasonCase{"client_close_needs_an_answer", C, L, NoRst, false, 0.1,
                   Http{C, "HTTP/1.1", std::nullopt, std::nullopt}, Reason::Unknown},
        // the bytes say who served when the handshake was not seen
        ReasonCase{"side_from_http_when_role_unknown", U, L, NoRst, false, 0.1, kReqClose,
                   Reason::RequestConnectionClose},
        ReasonCase{"no_side_no_http_reason", U, L, NoRst, false, 0.1, Http{U, "HTTP/1.1", "close"}, Reason::Unknown},
        ReasonCase{"no_fin_no_http_reason", S, N, NoRst, false, 0.1, kReqClose, Reason::Unknown},
        ReasonCase{"exit_of_the_peer_is_not_process_exit", S, R, NoRst, true, 0.1, kKeepAlive, Reason::ClientClose},
        ReasonCase{"no_http_no_idle", S, L, NoRst, false, 0.1, std::nullopt, Reason::Unknown}),
    [](const ::testing::TestParamInfo<ReasonCase>& p) { return std::string(p.param.name); });

// From captured bytes to reason, both ends of the classic case.
TEST(HttpReasonFromBytes, ClassicGoCaseOnBothSockets) {
    const auto server = http_test::track({in(http_test::kGoRequest), out(http_test::kGoResponse)});
    const auto client = http_test::track({out(http_test::kGoRequest), in(http_test::kGoResponse)});
    CloseVerdict v;
    v.role = Role::Server;
    v.first_fin = FirstFin::Local;
    EXPECT_EQ(infer_tcp_reason(v, false, 0.08, server), Reason::RequestConnectionClose);
    v.role = Role::Client;
    v.first_fin = FirstFin::Remote;
    EXPECT_EQ(infer_tcp_reason(v, false, 0.08, client), Reason::RequestConnectionClose);
}

TEST(HttpReasonFromBytes, KeepAliveNginxIdleTimeout) {
    const auto client = http_test::track(
        {out("GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: curl/8.5.0\r\n\r\n"),
         in("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")});
    CloseVerdict v;
    v.role = Role::Client;
    v.first_fin = FirstFin::Remote;
    EXPECT_EQ(infer_tcp_reason(v, false, 1003.5, client), Reason::IdleTimeout);
    EXPECT_EQ(infer_tcp_reason(v, false, 20.0, client), Reason::Unknown);  // server closed, no header said so
}

}  // namespace
}  // namespace whoclosed
