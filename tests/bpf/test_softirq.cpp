// A RST the kernel sends from a softirq names no closer. The test plays a
// broken server by hand: a packet socket in a namespace answers the client's
// SYN with a SYN-ACK acknowledging bytes never sent. The client's TCP answers
// that with a RST (RFC 793, SYN-SENT: unacceptable ACK) from the NET_RX
// softirq that the test's own sendto() runs on its way out of the veth, so
// the interrupted task is the test itself: it must not be reported.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <stdexcept>
#include <optional>
#include <vector>

#include "support/close_expect.h"
#include "support/netns.h"
#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

constexpr int kPort = 19501;
const char* const kClientComm = "wc-syn-client";
const char* const kRootIp = "10.213.5.1";
const char* const kFakeServerIp = "10.213.5.5";  // on no interface: only our packet socket answers

std::string unique(const std::string& prefix) { return prefix + std::to_string(getpid()); }

uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

uint32_t add16(const uint8_t* p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
    if (n & 1) sum += p[n - 1] << 8;
    return sum;
}

struct TcpSeen {
    uint8_t src_mac[6], dst_mac[6];
    in_addr saddr{}, daddr{};
    uint16_t sport = 0, dport = 0;
    uint32_t seq = 0;
    uint8_t flags = 0;
};

// The next IPv4/TCP frame on `fd` matching `want`, within timeout_ms.
template <typename Want>
std::optional<TcpSeen> next_tcp(int fd, int timeout_ms, Want want) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    uint8_t buf[2048];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < static_cast<ssize_t>(sizeof(ether_header) + sizeof(iphdr) + sizeof(tcphdr))) continue;
        const auto* eth = reinterpret_cast<const ether_header*>(buf);
        if (ntohs(eth->ether_type) != ETHERTYPE_IP) continue;
        const auto* ip = reinterpret_cast<const iphdr*>(buf + sizeof(ether_header));
        if (ip->protocol != IPPROTO_TCP) continue;
        const auto* tcp = reinterpret_cast<const tcphdr*>(buf + sizeof(ether_header) + ip->ihl * 4);
        TcpSeen s;
        std::memcpy(s.src_mac, eth->ether_shost, 6);
        std::memcpy(s.dst_mac, eth->ether_dhost, 6);
        s.saddr.s_addr = ip->saddr;
        s.daddr.s_addr = ip->daddr;
        s.sport = ntohs(tcp->source);
        s.dport = ntohs(tcp->dest);
        s.seq = ntohl(tcp->seq);
        s.flags = reinterpret_cast<const uint8_t*>(tcp)[13];
        if (want(s)) return s;
    }
    return std::nullopt;
}

enum class Answer { BadSynAck, Refuse };

// A frame answering `syn`: a SYN-ACK whose ACK number is 1000 bytes past the
// SYN (unacceptable), or the RST+ACK a closed port sends (connection refused).
std::vector<uint8_t> answer(const TcpSeen& syn, Answer how) {
    std::vector<uint8_t> f(sizeof(ether_header) + sizeof(iphdr) + sizeof(tcphdr), 0);
    auto* eth = reinterpret_cast<ether_header*>(f.data());
    std::memcpy(eth->ether_dhost, syn.src_mac, 6);
    std::memcpy(eth->ether_shost, syn.dst_mac, 6);
    eth->ether_type = htons(ETHERTYPE_IP);
    auto* ip = reinterpret_cast<iphdr*>(f.data() + sizeof(ether_header));
    ip->version = 4;
    ip->ihl = 5;
    ip->tot_len = htons(sizeof(iphdr) + sizeof(tcphdr));
    ip->ttl = 64;
    ip->protocol = IPPROTO_TCP;
    ip->saddr = syn.daddr.s_addr;
    ip->daddr = syn.saddr.s_addr;
    ip->check = htons(fold(add16(reinterpret_cast<uint8_t*>(ip), sizeof(iphdr))));
    auto* tcp = reinterpret_cast<tcphdr*>(f.data() + sizeof(ether_header) + sizeof(iphdr));
    tcp->source = htons(syn.dport);
    tcp->dest = htons(syn.sport);
    tcp->doff = 5;
    tcp->ack = 1;
    if (how == Answer::BadSynAck) {
        tcp->seq = htonl(0x12345678);
        tcp->ack_seq = htonl(syn.seq + 1000);  // the client sent 1 (its SYN): unacceptable
        tcp->syn = 1;
        tcp->window = htons(65535);
    } else {
        tcp->ack_seq = htonl(syn.seq + 1);
        tcp->rst = 1;
    }
    uint8_t pseudo[12];
    std::memcpy(pseudo, &ip->saddr, 4);
    std::memcpy(pseudo + 4, &ip->daddr, 4);
    pseudo[8] = 0;
    pseudo[9] = IPPROTO_TCP;
    pseudo[10] = 0;
    pseudo[11] = sizeof(tcphdr);
    uint32_t sum = add16(pseudo, sizeof pseudo);
    sum = add16(reinterpret_cast<uint8_t*>(tcp), sizeof(tcphdr), sum);
    tcp->check = htons(fold(sum));
    return f;
}

std::string mac_of(const std::string& dev, const std::string& ns) {
    std::string cmd = (ns.empty() ? "" : "ip netns exec " + ns + " ") + "cat /sys/class/net/" + dev + "/address";
    FILE* p = popen(cmd.c_str(), "r");
    char buf[64] = {};
    if (p) {
        if (!fgets(buf, sizeof buf, p)) buf[0] = 0;
        pclose(p);
    }
    std::string mac(buf);
    while (!mac.empty() && (mac.back() == '\n' || mac.back() == '\r')) mac.pop_back();
    return mac;
}

// A veth pair to a namespace whose end owns no address the client dials:
// a packet socket there plays the server by hand.
class FakeServer {
public:
    FakeServer()
        : ns_(unique("wc-s-")), root_if_(unique("wsr")), ns_if_(unique("wsn")),
          veth_(root_if_, ns_if_, ns_, std::string(kRootIp) + "/29", "10.213.5.2/29") {
        // The fake server's address resolves to the namespace's end, whose
        // kernel does not own it and drops the frames: only the packet
        // socket sees the SYN.
        must_run("ip neigh replace " + std::string(kFakeServerIp) + " lladdr " + mac_of(ns_if_, ns_.name()) +
                 " dev " + root_if_ + " nud permanent");
        InNetNs in(ns_.name());
        raw_ = Fd(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP)));
        if (!raw_) throw std::runtime_error(std::string("packet socket: ") + std::strerror(errno));
        sockaddr_ll ll{};
        ll.sll_family = AF_PACKET;
        ll.sll_protocol = htons(ETH_P_IP);
        ll.sll_ifindex = ifindex_ = static_cast<int>(if_nametoindex(ns_if_.c_str()));
        if (ifindex_ <= 0 || bind(raw_.get(), reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0)
            throw std::runtime_error(std::string("bind packet socket: ") + std::strerror(errno));
    }

    // The next SYN to `port`, within 5 s.
    std::optional<TcpSeen> syn(int port) {
        return next_tcp(raw_.get(), 5000, [port](const TcpSeen& s) {
            return s.dport == port && (s.flags & 0x02) && !(s.flags & 0x10);
        });
    }
    // Sends the answer to `syn` from this (the calling) task: the client's
    // TCP handles it in the NET_RX softirq that runs on top of this sendto().
    bool answer_syn(const TcpSeen& syn, Answer how) {
        const std::vector<uint8_t> frame = answer(syn, how);
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_protocol = htons(ETH_P_IP);
        to.sll_ifindex = ifindex_;
        to.sll_halen = 6;
        std::memcpy(to.sll_addr, syn.src_mac, 6);
        return sendto(raw_.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
               static_cast<ssize_t>(frame.size());
    }
    // A RST the client sent from `syn`'s port, within 5 s.
    bool client_reset(const TcpSeen& syn) {
        return next_tcp(raw_.get(), 5000, [&](const TcpSeen& s) {
                   return s.sport == syn.sport && s.dport == syn.dport && (s.flags & 0x04);
               }).has_value();
    }

private:
    NetNs ns_;
    std::string root_if_, ns_if_;
    VethPair veth_;
    Fd raw_;
    int ifindex_ = 0;
};

SockAddr client_end(const TcpSeen& syn) {
    char ip[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &syn.saddr, ip, sizeof ip);
    return {ip, syn.sport};
}

void pin_to_this_cpu() {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) throw std::runtime_error("sched_setaffinity");
}

// tp_btf tells a softirq by the stack its hook's arguments are on; the
// classic tracepoint mode by a flag the softirq_entry/exit hooks keep.
class Softirq : public ::testing::TestWithParam<std::string> {};

TEST_P(Softirq, ResetSentFromSoftirqBlamesNoTask) {
    WHOCLOSED_REQUIRE_ROOT();
    FakeServer server;
    auto t0 = std::chrono::steady_clock::now();
    TraceRunner tracer({"--port", std::to_string(kPort)}, {"WHOCLOSED_ATTACH_MODE=" + GetParam()});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Child client([&](int ctl) {
        set_thread_comm(kClientComm);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(kPort);
        inet_pton(AF_INET, kFakeServerIp, &to.sin_addr);
        if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 || errno != EINPROGRESS) return 2;
        recv_token(ctl);  // the RST went out; the socket is still connecting
        if (tcp_state(fd) != TCP_SYN_SENT) return 3;
        close(fd);        // SYN_SENT -> CLOSE: no FIN, no RST from this task
        return 0;
    });

    const auto syn = server.syn(kPort);
    ASSERT_TRUE(syn) << "the client's SYN never reached the namespace";
    ASSERT_TRUE(server.answer_syn(*syn, Answer::BadSynAck)) << std::strerror(errno);
    // Ground truth: the client's kernel answered with a RST.
    ASSERT_TRUE(server.client_reset(*syn)) << "no RST answered the bad SYN-ACK";
    send_token(client.ctl());
    EXPECT_EQ(client.wait(), 0) << "the client's socket left SYN_SENT before its close";
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    const SockAddr local = client_end(*syn), remote{kFakeServerIp, kPort};
    const auto events = tracer.events_for_port(kPort);
    const nlohmann::json* ev = find_close(events, local, remote);
    ASSERT_TRUE(ev) << "no event for " << local.addr << ":" << local.port;
    EXPECT_EQ((*ev)["states"], nlohmann::json({"SYN_SENT", "CLOSE"}));
    EXPECT_EQ((*ev)["reset"], "sent");
    EXPECT_EQ((*ev)["role"], "client");
    EXPECT_EQ((*ev)["owner"]["pid"], client.pid());
    EXPECT_EQ((*ev)["owner"]["comm"], kClientComm);
    // The RST left from a softirq on top of the test's own sendto(): no task
    // sent it, and the client's close() sent nothing.
    EXPECT_TRUE((*ev)["closer"].is_null()) << ev->dump();
    EXPECT_LT(ms_since(t0), 60000);
    EXPECT_EQ(tracer.summary()["attach_mode"], GetParam());
}

INSTANTIATE_TEST_SUITE_P(Modes, Softirq, ::testing::Values("tp_btf", "tracepoint"));

// connect() refused by a RST that arrives in a softirq, then connect() again
// on the same socket: two lives, two events. Both CLOSE -> SYN_SENT hits
// come from the same task on the same CPU with nothing at task level in
// between, so a guard remembering the last task-level hit per CPU would
// take the second for the first one seen again, and lose the new life.
TEST(Softirq, ReconnectAfterARefusalInSoftirqIsANewLife) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kOpenPort = kPort + 1;
    FakeServer server;
    pin_to_this_cpu();  // the child inherits it: every hit on one CPU
    auto t0 = std::chrono::steady_clock::now();
    TraceRunner tracer({"--port", std::to_string(kPort) + "," + std::to_string(kOpenPort)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    Fd listener = listen_tcp(kRootIp, kOpenPort);

    Child client([&](int ctl) {
        set_thread_comm(kClientComm);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        inet_pton(AF_INET, kFakeServerIp, &to.sin_addr);
        to.sin_port = htons(kPort);
        if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 || errno != ECONNREFUSED) return 2;
        inet_pton(AF_INET, kRootIp, &to.sin_addr);
        to.sin_port = htons(kOpenPort);
        if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return 3;
        write_bytes(fd, 10);
        close(fd);
        recv_token(ctl);
        return 0;
    });
    const auto syn = server.syn(kPort);
    ASSERT_TRUE(syn) << "the client's SYN never reached the namespace";
    usleep(20 * 1000);  // the client is asleep in connect(), its socket unlocked
    ASSERT_TRUE(server.answer_syn(*syn, Answer::Refuse)) << std::strerror(errno);
    Fd conn = accept_tcp(listener.get());
    const SockAddr second_local = peer_of(conn.get());
    read_bytes(conn.get(), 10);
    EXPECT_EQ(read_until_eof(conn.get()), 0u);
    conn.reset();
    send_token(client.ctl());
    EXPECT_EQ(client.wait(), 0) << "the client's connects did not go as planned";
    usleep(50 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    const auto refused = tracer.events_for_port(kPort);
    const nlohmann::json* first = find_close(refused, client_end(*syn), {kFakeServerIp, kPort});
    ASSERT_TRUE(first) << "no event for the refused connect";
    EXPECT_EQ((*first)["states"], nlohmann::json({"SYN_SENT", "CLOSE"}));
    EXPECT_EQ((*first)["reset"], "received");
    EXPECT_EQ((*first)["owner"]["pid"], client.pid());

    const auto open = tracer.events_for_port(kOpenPort);
    const nlohmann::json* second = find_close(open, second_local, {kRootIp, kOpenPort});
    ASSERT_TRUE(second) << "no event for the second life";
    EXPECT_EQ((*second)["states"],
              nlohmann::json({"SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"}));
    EXPECT_EQ((*second)["first_fin"], "local");
    EXPECT_EQ((*second)["owner"]["pid"], client.pid());
    EXPECT_EQ((*second)["closer"]["pid"], client.pid());
    EXPECT_EQ((*first)["cookie"], (*second)["cookie"]);  // one socket, two lives
    EXPECT_LT(ms_since(t0), 60000);
}

}  // namespace
}  // namespace whoclosed::testing
