#include "support/tcpdump_truth.h"

#include <stdio.h>

#include <signal.h>

#include <memory>
#include <optional>
#include <regex>
#include <thread>

namespace whoclosed::testing {

const char* to_string(Side s) {
    switch (s) {
        case Side::server: return "server";
        case Side::client: return "client";
        case Side::none: break;
    }
    return "none";
}

namespace {

struct Packet {
    int sport = 0;
    int dport = 0;
    std::string flags;            // tcpdump's letters: S F P R . (ack) ...
    std::optional<uint32_t> seq_end;  // last sequence number the packet covers
    std::optional<uint32_t> ack;
};

// "1700000000.123456 IP 127.0.0.1.40000 > 127.0.0.1.19500: Flags [F.], seq 10:20, ack 7, ..."
std::optional<Packet> parse_line(const std::string& line) {
    static const std::regex re(
        R"(^\d+\.\d+ IP \S+\.(\d+) > \S+\.(\d+): Flags \[([^\]]*)\](?:, seq (\d+)(?::(\d+))?)?(?:, ack (\d+))?)");
    std::smatch m;
    if (!std::regex_search(line, m, re)) return std::nullopt;
    Packet p;
    p.sport = std::stoi(m[1]);
    p.dport = std::stoi(m[2]);
    p.flags = m[3];
    if (m[4].matched) p.seq_end = static_cast<uint32_t>(std::stoul(m[m[5].matched ? 5 : 4]));
    if (m[6].matched) p.ack = static_cast<uint32_t>(std::stoul(m[6]));
    return p;
}

std::vector<std::string> tcpdump_read(const std::string& pcap) {
    std::string cmd = "tcpdump -r '" + pcap + "' -nn -tt -S 2>/dev/null";
    std::unique_ptr<FILE, int (*)(FILE*)> in(popen(cmd.c_str(), "r"), pclose);
    std::vector<std::string> lines;
    if (!in) return lines;
    char buf[4096];
    while (fgets(buf, sizeof(buf), in.get())) lines.emplace_back(buf);
    return lines;
}

void record_fin(ConnectionTruth& c, Side from, const Packet& p) {
    (from == Side::server ? c.fins_from_server : c.fins_from_client)++;
    if (c.first_fin == Side::none) {
        c.first_fin = from;
        c.first_fin_seq = p.seq_end.value_or(0);
    } else if (c.second_fin == Side::none && from != c.first_fin) {
        c.second_fin = from;
        // The FIN occupies one sequence number; an ack that does not cover
        // it means this side sent its FIN before it had the other one.
        uint32_t wanted = c.first_fin_seq + 1;
        c.fins_crossed = !p.ack || static_cast<int32_t>(*p.ack - wanted) < 0;
    }
}

}  // namespace

std::map<int, ConnectionTruth> read_connections(const std::string& pcap, int server_port) {
    std::map<int, ConnectionTruth> conns;
    for (const std::string& line : tcpdump_read(pcap)) {
        auto p = parse_line(line);
        if (!p || (p->sport != server_port && p->dport != server_port)) continue;
        Side from = p->sport == server_port ? Side::server : Side::client;
        int client_port = from == Side::server ? p->dport : p->sport;
        ConnectionTruth& c = conns[client_port];
        c.client_port = client_port;
        bool syn = p->flags.find('S') != std::string::npos;
        if (syn && from == Side::client) c.syns++;
        if (p->flags.find('R') != std::string::npos) {
            if (!c.reset) c.reset_from = from;
            c.reset = true;
        }
        if (p->flags.find('F') != std::string::npos) record_fin(c, from, *p);
    }
    return conns;
}

bool wait_for_closed_connections(const std::string& pcap, int server_port, size_t connections,
                                 std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto conns = read_connections(pcap, server_port);
        bool all_closed = conns.size() >= connections;
        for (const auto& [port, c] : conns)
            all_closed = all_closed && c.fins_from_server > 0 && c.fins_from_client > 0;
        if (all_closed) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

bool wait_for_ended_connections(const std::string& pcap, int server_port, size_t connections,
                                std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto conns = read_connections(pcap, server_port);
        bool all_ended = conns.size() >= connections;
        for (const auto& [port, c] : conns)
            all_ended = all_ended && (c.reset || (c.fins_from_server > 0 && c.fins_from_client > 0));
        if (all_ended) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

LoopbackCapture::LoopbackCapture(std::string pcap, int port)
    : tcpdump_({"tcpdump", "-i", "lo", "-nn", "-U", "-w", pcap, "tcp port " + std::to_string(port)}) {
    // tcpdump prints this once the capture is open and filtering.
    capturing_ = tcpdump_.wait_for_stderr("listening on", std::chrono::seconds(10));
}

int LoopbackCapture::stop() { return tcpdump_.stop(SIGINT, std::chrono::seconds(5)); }

}  // namespace whoclosed::testing
