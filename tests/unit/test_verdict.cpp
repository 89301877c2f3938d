#include <gtest/gtest.h>

#include <vector>

#include "correlate/verdict.h"
#include "record_builder.h"

namespace whoclosed {
namespace {

using test_support::make_record;

constexpr unsigned char EST = WC_TCP_ESTABLISHED, SYN_SENT = WC_TCP_SYN_SENT, SYN_RECV = WC_TCP_SYN_RECV,
                        FW1 = WC_TCP_FIN_WAIT1, FW2 = WC_TCP_FIN_WAIT2, CLOSE = WC_TCP_CLOSE,
                        CLOSE_WAIT = WC_TCP_CLOSE_WAIT, LAST_ACK = WC_TCP_LAST_ACK, CLOSING = WC_TCP_CLOSING;

struct PathCase {
    const char* name;
    std::vector<unsigned char> states;
    unsigned flags;
    Role role;
    FirstFin first_fin;
    ResetDir reset;
    bool time_wait;
};

class VerdictPath : public ::testing::TestWithParam<PathCase> {};

TEST_P(VerdictPath, MatchesTcpStateMachine) {
    const PathCase& c = GetParam();
    const CloseVerdict v = derive_verdict(c.states, c.flags);
    EXPECT_EQ(v.role, c.role);
    EXPECT_EQ(v.first_fin, c.first_fin);
    EXPECT_EQ(v.reset, c.reset);
    EXPECT_EQ(v.time_wait, c.time_wait);
    EXPECT_EQ(v.states.size(), c.states.size());
}

INSTANTIATE_TEST_SUITE_P(
    AllPaths, VerdictPath,
    ::testing::Values(
        PathCase{"active_close_client", {SYN_SENT, EST, FW1, FW2, CLOSE}, 0, Role::Client, FirstFin::Local,
                 ResetDir::None, true},
        PathCase{"active_close_server", {SYN_RECV, EST, FW1, FW2, CLOSE}, 0, Role::Server, FirstFin::Local,
                 ResetDir::None, true},
        PathCase{"passive_close_server", {SYN_RECV, EST, CLOSE_WAIT, LAST_ACK, CLOSE}, 0, Role::Server,
                 FirstFin::Remote, ResetDir::None, false},
        PathCase{"passive_close_client", {SYN_SENT, EST, CLOSE_WAIT, LAST_ACK, CLOSE}, 0, Role::Client,
                 FirstFin::Remote, ResetDir::None, false},
        PathCase{"simultaneous", {SYN_SENT, EST, FW1, CLOSING, CLOSE}, 0, Role::Client,
                 FirstFin::Simultaneous, ResetDir::None, true},
        PathCase{"rst_sent", {SYN_RECV, EST, CLOSE}, WC_F_RST_SENT, Role::Server, FirstFin::None,
                 ResetDir::Sent, false},
        PathCase{"rst_received", {SYN_SENT, EST, CLOSE}, WC_F_RST_RECEIVED, Role::Client, FirstFin::None,
                 ResetDir::Received, false},
        PathCase{"rst_both_ways_reports_sent", {EST, CLOSE}, WC_F_RST_SENT | WC_F_RST_RECEIVED,
                 Role::Unknown, FirstFin::None, ResetDir::Sent, false},
        PathCase{"refused_handshake", {SYN_SENT, CLOSE}, WC_F_RST_RECEIVED, Role::Client, FirstFin::None,
                 ResetDir::Received, false},
        PathCase{"handshake_timeout", {SYN_SENT, CLOSE}, 0, Role::Client, FirstFin::None, ResetDir::None,
                 false},
        PathCase{"preexisting_active", {EST, FW1, FW2, CLOSE}, 0, Role::Unknown, FirstFin::Local,
                 ResetDir::None, true},
        PathCase{"preexisting_passive", {CLOSE_WAIT, LAST_ACK, CLOSE}, 0, Role::Unknown, FirstFin::Remote,
                 ResetDir::None, false},
        // Older than the trace and first seen past the first FIN: found in
        // FIN_WAIT2 (ours was acked before theirs came) or in LAST_ACK.
        PathCase{"preexisting_found_in_fin_wait2", {FW2, CLOSE}, 0, Role::Unknown, FirstFin::Local,
                 ResetDir::None, true},
        PathCase{"preexisting_found_in_last_ack", {LAST_ACK, CLOSE}, 0, Role::Unknown, FirstFin::Remote,
                 ResetDir::None, false},
        // Our FIN went out, then the peer reset before acking it.
        PathCase{"fin_then_rst_received", {SYN_SENT, EST, FW1, CLOSE}, WC_F_RST_RECEIVED, Role::Client,
                 FirstFin::Local, ResetDir::Received, false},
        // FIN_WAIT2 then we abort (e.g. data arrived after close): RST sent, no TIME_WAIT.
        PathCase{"fin_then_rst_sent", {SYN_RECV, EST, FW1, FW2, CLOSE}, WC_F_RST_SENT, Role::Server,
                 FirstFin::Local, ResetDir::Sent, false},
        // Peer's FIN first, then we reset instead of LAST_ACK.
        PathCase{"remote_fin_then_rst_sent", {SYN_RECV, EST, CLOSE_WAIT, CLOSE}, WC_F_RST_SENT, Role::Server,
                 FirstFin::Remote, ResetDir::Sent, false},
        // Flushed at exit while still in FIN_WAIT2: not (yet) handed to TIME_WAIT.
        PathCase{"not_closed_yet", {SYN_SENT, EST, FW1, FW2}, WC_F_FLUSHED, Role::Client, FirstFin::Local,
                 ResetDir::None, false},
        // The kernel side found the timewait socket that took over...
        PathCase{"time_wait_seen", {SYN_RECV, EST, FW1, FW2, CLOSE}, WC_F_TW_CHECKED | WC_F_TIME_WAIT_SEEN,
                 Role::Server, FirstFin::Local, ResetDir::None, true},
        // ...or found none: tcp_max_tw_buckets was full, the kernel kept no TIME_WAIT.
        PathCase{"time_wait_dropped", {SYN_RECV, EST, FW1, FW2, CLOSE}, WC_F_TW_CHECKED, Role::Server,
                 FirstFin::Local, ResetDir::None, false},
        PathCase{"time_wait_dropped_crossing", {SYN_SENT, EST, FW1, CLOSING, CLOSE}, WC_F_TW_CHECKED,
                 Role::Client, FirstFin::Simultaneous, ResetDir::None, false},
        PathCase{"no_states", {}, 0, Role::Unknown, FirstFin::None, ResetDir::None, false}),
    [](const ::testing::TestParamInfo<PathCase>& p) { return std::string(p.param.name); });

TEST(Verdict, TimeWaitDroppedOnlyOnTheTimeWaitPathWithoutATimewaitSocket) {
    close_record r = make_record({SYN_RECV, EST, FW1, FW2, CLOSE}, WC_F_TW_CHECKED);
    EXPECT_TRUE(time_wait_dropped(r));
    r.flags |= WC_F_TIME_WAIT_SEEN;  // the kernel had one
    EXPECT_FALSE(time_wait_dropped(r));
    r = make_record({SYN_RECV, EST, FW1, FW2, CLOSE}, 0);  // not checked (kernel < 6.1)
    EXPECT_FALSE(time_wait_dropped(r));
    r = make_record({SYN_RECV, EST, FW1, FW2, CLOSE}, WC_F_TW_CHECKED | WC_F_RST_SENT);  // aborted
    EXPECT_FALSE(time_wait_dropped(r));
    r = make_record({SYN_RECV, EST, CLOSE_WAIT, LAST_ACK, CLOSE}, WC_F_TW_CHECKED);  // passive closer
    EXPECT_FALSE(time_wait_dropped(r));
}

TEST(Verdict, StateNamesAreTheKernelsInOrder) {
    const CloseVerdict v = derive_verdict(std::vector<unsigned char>{SYN_RECV, EST, FW1, FW2, CLOSE}, 0);
    EXPECT_EQ(v.states, (std::vector<std::string>{"SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"}));
}

TEST(Verdict, EveryStateHasItsKernelName) {
    const std::vector<std::pair<unsigned, std::string>> names = {
        {1, "ESTABLISHED"}, {2, "SYN_SENT"},   {3, "SYN_RECV"}, {4, "FIN_WAIT1"},
        {5, "FIN_WAIT2"},   {6, "TIME_WAIT"},  {7, "CLOSE"},    {8, "CLOSE_WAIT"},
        {9, "LAST_ACK"},    {10, "LISTEN"},    {11, "CLOSING"}, {12, "NEW_SYN_RECV"}};
    for (const auto& [state, name] : names) EXPECT_EQ(tcp_state_name(state), name);
    EXPECT_EQ(tcp_state_name(0), nullptr);
    EXPECT_EQ(tcp_state_name(13), nullptr);
}

TEST(Verdict, FromRecordUsesOnlyNstates) {
    close_record r = make_record({SYN_SENT, EST, FW1, FW2, CLOSE});
    r.states[5] = CLOSING;  // beyond nstates: must not turn this into a simultaneous close
    const CloseVerdict v = derive_verdict(r);
    EXPECT_EQ(v.first_fin, FirstFin::Local);
    EXPECT_EQ(v.states.size(), 5u);
}

// ---- reason precedence ----

CloseVerdict verdict(FirstFin fin, ResetDir reset) {
    CloseVerdict v;
    v.first_fin = fin;
    v.reset = reset;
    return v;
}

struct ReasonCase {
    const char* name;
    FirstFin fin;
    ResetDir reset;
    bool exiting;
    std::optional<double> idle_ms;
    Reason expected;
};

class ReasonPrecedence : public ::testing::TestWithParam<ReasonCase> {};

TEST_P(ReasonPrecedence, FirstApplicableWins) {
    const ReasonCase& c = GetParam();
    EXPECT_EQ(infer_tcp_reason(verdict(c.fin, c.reset), c.exiting, c.idle_ms, std::nullopt), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ReasonPrecedence,
    ::testing::Values(
        // reset beats everything, including an exiting closer and a long idle gap
        ReasonCase{"reset_sent_over_all", FirstFin::Local, ResetDir::Sent, true, 5000.0, Reason::Reset},
        ReasonCase{"reset_received", FirstFin::None, ResetDir::Received, false, std::nullopt, Reason::Reset},
        ReasonCase{"simultaneous_over_exit", FirstFin::Simultaneous, ResetDir::None, true, 5000.0,
                   Reason::Simultaneous},
        ReasonCase{"exit_over_idle", FirstFin::Local, ResetDir::None, true, 5000.0, Reason::ProcessExit},
        // the exiting task did not send the first FIN: the peer did
        ReasonCase{"exit_needs_local_fin", FirstFin::Remote, ResetDir::None, true, 10.0, Reason::Unknown},
        ReasonCase{"idle_local", FirstFin::Local, ResetDir::None, false, 1000.0, Reason::IdleTimeout},
        ReasonCase{"idle_remote", FirstFin::Remote, ResetDir::None, false, 30000.0, Reason::IdleTimeout},
        ReasonCase{"idle_just_below", FirstFin::Local, ResetDir::None, false, 999.999, Reason::Unknown},
        ReasonCase{"idle_unknown", FirstFin::Local, ResetDir::None, false, std::nullopt, Reason::Unknown},
        ReasonCase{"idle_without_fin", FirstFin::None, ResetDir::None, false, 5000.0, Reason::Unknown},
        ReasonCase{"nothing", FirstFin::Local, ResetDir::None, false, 0.5, Reason::Unknown}),
    [](const ::testing::TestParamInfo<ReasonCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace whoclosed
