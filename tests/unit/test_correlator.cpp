#include <arpa/inet.h>

#include <gtest/gtest.h>

#include <map>

#include "correlate/correlator.h"
#include "record_builder.h"

namespace whoclosed {
namespace {

using test_support::make_record;
using test_support::set_comm;

class MapResolver : public CgroupResolver {
public:
    std::map<uint64_t, std::string> paths;
    std::optional<std::string> path_for(uint64_t id) override {
        auto it = paths.find(id);
        return it == paths.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
};

constexpr int64_t kOffset = 1'795'600'000'000'000'000;  // boot -> unix

class CorrelatorTest : public ::testing::Test {
protected:
    MapResolver cgroups;
    Correlator correlator{kOffset, cgroups};
};

// The contract's example socket, as the kernel side would report it.
close_record example_record() {
    close_record r = make_record(
        {WC_TCP_SYN_RECV, WC_TCP_ESTABLISHED, WC_TCP_FIN_WAIT1, WC_TCP_FIN_WAIT2, WC_TCP_CLOSE},
        WC_F_HAS_OWNER | WC_F_HAS_CLOSER | WC_F_IO_TRACKED | WC_F_SEEN_OPEN | WC_F_HAS_COOKIE);
    test_support::set_addrs(r, AF_INET, "127.0.0.1", 8081, "10.1.2.3", 54722);
    r.cookie = 8193;
    r.netns = 4026531840;
    r.ts_open_ns = 5'000'000'000;
    r.ts_close_ns = 5'003'410'000;         // +3.41 ms
    r.ts_last_payload_ns = 5'003'000'000;
    r.ts_first_fin_ns = 5'003'080'000;     // +0.08 ms after the last payload
    r.bytes_sent = 130;
    r.bytes_received = 96;
    r.owner_pid = 4242;
    r.closer_pid = 4242;
    r.closer_tid = 4250;
    r.owner_cgroup = 77;
    r.closer_cgroup = 78;
    set_comm(r.owner_comm, "server");
    set_comm(r.closer_comm, "server-worker");
    return r;
}

TEST_F(CorrelatorTest, FullyPopulatedRecord) {
    cgroups.paths = {{77, "/system.slice/web.service"}, {78, "/system.slice/other.service"}};
    const CloseEvent ev = correlator.build(example_record());
    EXPECT_EQ(ev.ts_unix_ns, 1'795'600'005'003'410'000u);
    EXPECT_EQ(ev.cookie, 8193u);
    EXPECT_EQ(ev.netns, 4026531840u);
    EXPECT_FALSE(ev.ipv6);
    EXPECT_EQ(ev.laddr, "127.0.0.1");
    EXPECT_EQ(ev.lport, 8081);
    EXPECT_EQ(ev.raddr, "10.1.2.3");
    EXPECT_EQ(ev.rport, 54722);
    EXPECT_EQ(ev.role, Role::Server);
    EXPECT_EQ(ev.first_fin, FirstFin::Local);
    EXPECT_EQ(ev.reset, ResetDir::None);
    EXPECT_TRUE(ev.time_wait);
    EXPECT_EQ(ev.states.front(), "SYN_RECV");
    ASSERT_TRUE(ev.owner);
    EXPECT_EQ(ev.owner->pid, 4242u);
    EXPECT_EQ(ev.owner->comm, "server");
    EXPECT_EQ(ev.owner->cgroup, "/system.slice/web.service");
    ASSERT_TRUE(ev.closer);
    EXPECT_EQ(ev.closer->tid, 4250u);
    EXPECT_EQ(ev.closer->comm, "server-worker");
    EXPECT_EQ(ev.closer->cgroup, "/system.slice/other.service");
    EXPECT_FALSE(ev.closer->exiting);
    EXPECT_TRUE(ev.closer->kernel_stack.empty());
    ASSERT_TRUE(ev.duration_ms);
    EXPECT_NEAR(*ev.duration_ms, 3.41, 1e-9);
    ASSERT_TRUE(ev.idle_ms);
    EXPECT_NEAR(*ev.idle_ms, 0.08, 1e-9);
    EXPECT_EQ(ev.bytes_sent, 130u);
    EXPECT_EQ(ev.bytes_received, 96u);
    EXPECT_FALSE(ev.http);
    EXPECT_EQ(ev.reason, Reason::Unknown);
}

TEST_F(CorrelatorTest, UnknownFieldsStayNull) {
    close_record r = example_record();
    r.flags = 0;  // nothing learned beyond the states
    const CloseEvent ev = correlator.build(r);
    EXPECT_FALSE(ev.cookie);
    EXPECT_FALSE(ev.owner);
    EXPECT_FALSE(ev.closer);
    EXPECT_FALSE(ev.duration_ms);
    EXPECT_FALSE(ev.idle_ms);
    EXPECT_FALSE(ev.bytes_sent);
    EXPECT_FALSE(ev.bytes_received);
}

TEST_F(CorrelatorTest, UnresolvedCgroupIsNull) {
    const CloseEvent ev = correlator.build(example_record());  // resolver knows nothing
    ASSERT_TRUE(ev.owner);
    EXPECT_FALSE(ev.owner->cgroup);
}

TEST_F(CorrelatorTest, IdleNeedsBothTimestampsInOrder) {
    close_record r = example_record();
    r.ts_last_payload_ns = 0;  // no payload ever
    EXPECT_FALSE(correlator.build(r).idle_ms);
    r = example_record();
    r.ts_first_fin_ns = 0;
    EXPECT_FALSE(correlator.build(r).idle_ms);
    r = example_record();
    r.ts_last_payload_ns = r.ts_first_fin_ns + 1;  // data after the FIN (half-close)
    EXPECT_FALSE(correlator.build(r).idle_ms);
}

TEST_F(CorrelatorTest, Ipv6AndMappedAddresses) {
    close_record r = example_record();
    test_support::set_addrs(r, AF_INET6, "::1", 443, "2001:db8::7", 50000);
    CloseEvent ev = correlator.build(r);
    EXPECT_TRUE(ev.ipv6);
    EXPECT_EQ(ev.laddr, "::1");
    EXPECT_EQ(ev.raddr, "2001:db8::7");
    test_support::set_addrs(r, AF_INET6, "::ffff:10.0.0.1", 443, "::ffff:10.0.0.2", 50000);
    ev = correlator.build(r);
    EXPECT_TRUE(ev.ipv6);  // dual-stack socket: stays ipv6 as the kernel reports it
    EXPECT_EQ(ev.laddr, "::ffff:10.0.0.1");
    EXPECT_EQ(ev.raddr, "::ffff:10.0.0.2");
}

TEST_F(CorrelatorTest, CommMayBeUnterminatedOrBinary) {
    close_record r = example_record();
    set_comm(r.owner_comm, "abcdefghijklmnop");          // all 16 bytes, no NUL
    set_comm(r.closer_comm, std::string_view("a\0zz", 4));  // stops at the first NUL
    const CloseEvent ev = correlator.build(r);
    EXPECT_EQ(ev.owner->comm, "abcdefghijklmnop");
    EXPECT_EQ(ev.closer->comm, "a");
}

TEST_F(CorrelatorTest, ReasonFromExitingCloserAndIdleGap) {
    close_record r = example_record();
    r.flags |= WC_F_CLOSER_EXITING;
    CloseEvent ev = correlator.build(r);
    EXPECT_TRUE(ev.closer->exiting);
    EXPECT_EQ(ev.reason, Reason::ProcessExit);

    r = example_record();
    r.ts_first_fin_ns = r.ts_last_payload_ns + 1'500'000'000;  // 1.5 s idle
    EXPECT_EQ(correlator.build(r).reason, Reason::IdleTimeout);

    r.flags |= WC_F_RST_SENT;
    EXPECT_EQ(correlator.build(r).reason, Reason::Reset);
}

TEST(Offset, BootToUnixIsPlausible) {
    // Unix time now minus time since boot: after 2020 and before now.
    const int64_t offset = boot_to_unix_offset_ns();
    EXPECT_GT(offset, 1'577'836'800LL * 1'000'000'000LL);
    EXPECT_LT(offset, static_cast<int64_t>(time(nullptr)) * 1'000'000'000LL);
}

// The IPv4 fast path against libc's inet_ntop, every octet width (1, 2
// and 3 digits, and their edges) in every position.
TEST(FormatAddress, Ipv4AgreesWithInetNtop) {
    const unsigned char octets[] = {0, 9, 10, 99, 100, 255};
    unsigned char addr[16] = {};
    for (unsigned char a : octets)
        for (unsigned char b : octets)
            for (unsigned char c : octets)
                for (unsigned char d : octets) {
                    addr[0] = a, addr[1] = b, addr[2] = c, addr[3] = d;
                    char want[INET_ADDRSTRLEN] = {};
                    ASSERT_NE(inet_ntop(AF_INET, addr, want, sizeof want), nullptr);
                    ASSERT_EQ(format_address(addr, AF_INET), want);
                }
}

}  // namespace
}  // namespace whoclosed
