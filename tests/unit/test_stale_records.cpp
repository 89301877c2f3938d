#include <gtest/gtest.h>

#include <algorithm>

#include "correlate/correlator.h"
#include "correlate/stale_records.h"
#include "correlate/verdict.h"
#include "record_builder.h"

namespace whoclosed {
namespace {

using test_support::make_record;

constexpr uint64_t kNetns = 4026531840ull;

close_record server_record(uint64_t cookie) {
    close_record r = make_record({WC_TCP_SYN_RECV, WC_TCP_ESTABLISHED, WC_TCP_FIN_WAIT1},
                                 WC_F_HAS_COOKIE | WC_F_SEEN_OPEN | WC_F_HAS_OWNER | WC_F_HAS_CLOSER);
    r.cookie = cookie;
    r.netns = kNetns;
    r.ts_open_ns = 1'000'000;
    r.ts_first_fin_ns = 2'000'000;
    return r;
}

using Table = std::vector<std::pair<uint64_t, close_record>>;

bool contains(const std::vector<uint64_t>& keys, uint64_t k) {
    return std::find(keys.begin(), keys.end(), k) != keys.end();
}

TEST(StaleSweep, TakesAGoneSocketOnlyAfterTwoSweepsWithoutChange) {
    StaleSweep sweep;
    Table table = {{7, server_record(7)}};
    LiveSockets live;  // the kernel no longer has cookie 7
    EXPECT_TRUE(sweep.select(table, live, kNetns, false).empty()) << "first sight: may still be closing";
    EXPECT_EQ(sweep.select(table, live, kNetns, false), std::vector<uint64_t>{7});
    EXPECT_EQ(sweep.remembered(), 0u) << "a completed key is forgotten";
}

TEST(StaleSweep, ARecordThatChangedIsAlive) {
    StaleSweep sweep;
    Table table = {{7, server_record(7)}};
    LiveSockets live;
    sweep.select(table, live, kNetns, false);
    table[0].second.states[table[0].second.nstates++] = WC_TCP_FIN_WAIT2;  // a hook ran meanwhile
    EXPECT_TRUE(sweep.select(table, live, kNetns, false).empty());
    EXPECT_EQ(sweep.select(table, live, kNetns, false), std::vector<uint64_t>{7});
}

TEST(StaleSweep, LiveFullSocketsStayAndTimewaitSocketsDoNot) {
    StaleSweep sweep;
    Table table = {{7, server_record(7)}, {8, server_record(8)}, {9, server_record(9)}};
    LiveSockets live = {{7, WC_TCP_FIN_WAIT1}, {8, WC_TCP_TIME_WAIT}};
    sweep.select(table, live, kNetns, false);
    auto keys = sweep.select(table, live, kNetns, false);
    EXPECT_FALSE(contains(keys, 7)) << "the kernel still has the socket";
    EXPECT_TRUE(contains(keys, 8)) << "only its timewait socket is left";
    EXPECT_TRUE(contains(keys, 9)) << "nothing is left";
    EXPECT_EQ(sweep.remembered(), 1u);
}

TEST(StaleSweep, LeavesWhatSockDiagCannotSee) {
    StaleSweep sweep;
    close_record other_ns = server_record(7);
    other_ns.netns = kNetns + 1;
    close_record no_cookie = server_record(8);
    no_cookie.flags &= ~WC_F_HAS_COOKIE;
    close_record address_key = server_record(9);  // keyed by socket address, not cookie
    Table table = {{7, other_ns}, {8, no_cookie}, {0xffff888100000000ull, address_key}};
    EXPECT_TRUE(sweep.select(table, {}, kNetns, true).empty());
}

TEST(StaleSweep, CandidatesOnlyOnceARecordStoodStill) {
    StaleSweep sweep;
    Table table = {{7, server_record(7)}};
    EXPECT_TRUE(sweep.candidates(table, kNetns, false).empty());
    EXPECT_EQ(sweep.candidates(table, kNetns, false), std::vector<uint64_t>{7});
    table[0].second.bytes_sent = 10;
    EXPECT_TRUE(sweep.candidates(table, kNetns, false).empty());
}

TEST(StaleSweep, FinalPassDoesNotWaitForASecondSweep) {
    StaleSweep sweep;
    Table table = {{7, server_record(7)}};
    EXPECT_EQ(sweep.select(table, {}, kNetns, true), std::vector<uint64_t>{7});
}

TEST(StaleSweep, FingerprintSeesEveryHookWrite) {
    const close_record base = server_record(7);
    auto differs = [&](auto mutate) {
        close_record r = base;
        mutate(r);
        return record_fingerprint(r) != record_fingerprint(base);
    };
    EXPECT_TRUE(differs([](close_record& r) { r.flags |= WC_F_RST_RECEIVED; }));
    EXPECT_TRUE(differs([](close_record& r) { r.bytes_sent += 1; }));
    EXPECT_TRUE(differs([](close_record& r) { r.bytes_received += 1; }));
    EXPECT_TRUE(differs([](close_record& r) { r.ts_last_payload_ns = 5; }));
    EXPECT_TRUE(differs([](close_record& r) { r.ts_close_ns = 5; }));
    EXPECT_TRUE(differs([](close_record& r) { r.rx_mark = 5; }));
    EXPECT_TRUE(differs([](close_record& r) { r.dport = 1; }));
    EXPECT_TRUE(differs([](close_record& r) { r.states[r.nstates++] = WC_TCP_FIN_WAIT2; }));
}

TEST(CompleteStaleRecord, EndsAtCloseAndTakesTimeWaitFromTheKernel) {
    close_record r = server_record(7);
    complete_stale_record(r, true, 9'000'000);
    CloseVerdict v = derive_verdict(r);
    EXPECT_EQ(v.states, (std::vector<std::string>{"SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "CLOSE"}));
    EXPECT_EQ(v.role, Role::Server);
    EXPECT_EQ(v.first_fin, FirstFin::Local);
    EXPECT_TRUE(v.time_wait);
    EXPECT_EQ(r.ts_close_ns, 9'000'000u);

    close_record gone = server_record(8);
    complete_stale_record(gone, false, 9'000'000);
    EXPECT_FALSE(derive_verdict(gone).time_wait) << "no timewait socket: none is held";
}

TEST(CompleteStaleRecord, HasNoDurationSinceTheCloseTimeIsUnknown) {
    close_record r = server_record(7);
    complete_stale_record(r, true, 9'000'000);
    SysfsCgroupResolver cgroups;
    Correlator c(0, cgroups);
    CloseEvent ev = c.build(r, nullptr);
    EXPECT_FALSE(ev.duration_ms.has_value());
    EXPECT_TRUE(ev.time_wait);
    EXPECT_EQ(ev.states.back(), "CLOSE");
}

TEST(CompleteStaleRecord, AFullStateListKeepsCloseLast) {
    close_record r = server_record(7);
    r.nstates = 0;
    for (int i = 0; i < WC_MAX_STATES; i++) r.states[r.nstates++] = WC_TCP_ESTABLISHED;
    complete_stale_record(r, false, 1);
    EXPECT_EQ(r.nstates, WC_MAX_STATES);
    EXPECT_EQ(r.states[WC_MAX_STATES - 1], WC_TCP_CLOSE);
    EXPECT_TRUE(r.flags & WC_F_STATES_TRUNCATED);
}

}  // namespace
}  // namespace whoclosed
