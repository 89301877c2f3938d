#include "correlate/correlator.h"

#include <arpa/inet.h>
#include <time.h>

#include <cstring>

#include "correlate/http_heads.h"
#include "correlate/verdict.h"

namespace whoclosed {

namespace {

constexpr double kNsPerMs = 1e6;

int64_t clock_ns(clockid_t id) {
    timespec ts{};
    clock_gettime(id, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::optional<double> duration_ms(const close_record& rec) {
    // A recovered record's close time is only bounded by the sweep that found it.
    if (!(rec.flags & WC_F_SEEN_OPEN) || (rec.flags & WC_F_RECOVERED) ||
        rec.ts_close_ns < rec.ts_open_ns)
        return std::nullopt;
    return static_cast<double>(rec.ts_close_ns - rec.ts_open_ns) / kNsPerMs;
}

// 0 means "never happened" for both timestamps; a FIN before the last payload
// is possible (data after our FIN, or half-close) and has no idle gap.
std::optional<double> idle_ms(const close_record& rec) {
    if (!(rec.flags & WC_F_IO_TRACKED) || rec.ts_first_fin_ns == 0 || rec.ts_last_payload_ns == 0 ||
        rec.ts_first_fin_ns < rec.ts_last_payload_ns)
        return std::nullopt;
    return static_cast<double>(rec.ts_first_fin_ns - rec.ts_last_payload_ns) / kNsPerMs;
}

void fill_owner_and_closer(const close_record& rec, CgroupResolver& cgroups, CloseEvent& ev) {
    if (rec.flags & WC_F_HAS_OWNER)
        ev.owner = OwnerInfo{rec.owner_pid, comm_from_kernel(rec.owner_comm), cgroups.path_for(rec.owner_cgroup)};
    if (rec.flags & WC_F_HAS_CLOSER) {
        CloserInfo c;
        c.pid = rec.closer_pid;
        c.tid = rec.closer_tid;
        c.comm = comm_from_kernel(rec.closer_comm);
        c.cgroup = cgroups.path_for(rec.closer_cgroup);
        c.exiting = (rec.flags & WC_F_CLOSER_EXITING) != 0;
        ev.closer = std::move(c);
    }
}

}  // namespace

int64_t boot_to_unix_offset_ns() {
    // Bracket the realtime read to cancel the time between the two calls.
    const int64_t boot1 = clock_ns(CLOCK_BOOTTIME);
    const int64_t real = clock_ns(CLOCK_REALTIME);
    const int64_t boot2 = clock_ns(CLOCK_BOOTTIME);
    return real - (boot1 + (boot2 - boot1) / 2);
}

std::string comm_from_kernel(const char (&comm)[WC_COMM_LEN]) {
    return std::string(comm, strnlen(comm, WC_COMM_LEN));
}

std::string format_address(const unsigned char (&addr)[16], unsigned short family) {
    if (family != AF_INET6) {  // the common case, without inet_ntop's sprintf per octet
        char out[16];  // "255.255.255.255": fits the string's own buffer, no allocation
        size_t n = 0;
        for (int i = 0; i < 4; ++i) {
            if (i) out[n++] = '.';
            const unsigned v = addr[i];
            if (v >= 100) out[n++] = static_cast<char>('0' + v / 100);
            if (v >= 10) out[n++] = static_cast<char>('0' + v / 10 % 10);
            out[n++] = static_cast<char>('0' + v % 10);
        }
        return std::string(out, n);
    }
    char buf[INET6_ADDRSTRLEN] = {};
    const int af = family == AF_INET6 ? AF_INET6 : AF_INET;
    if (!inet_ntop(af, addr, buf, sizeof buf)) return {};
    return buf;
}

CloseEvent Correlator::build(const close_record& rec, const http_record* http) {
    CloseEvent ev;
    const int64_t unix_ns = static_cast<int64_t>(rec.ts_close_ns) + boot_to_unix_ns_;
    ev.ts_unix_ns = unix_ns > 0 ? static_cast<uint64_t>(unix_ns) : 0;
    if (rec.flags & WC_F_HAS_COOKIE) ev.cookie = rec.cookie;
    ev.netns = rec.netns;
    ev.ipv6 = rec.family == AF_INET6;
    ev.laddr = format_address(rec.saddr, rec.family);
    ev.raddr = format_address(rec.daddr, rec.family);
    ev.lport = rec.sport;
    ev.rport = rec.dport;

    CloseVerdict v = derive_verdict(rec);
    ev.idle_ms = idle_ms(rec);
    if (http) ev.http = http_parser_.parse(*http, v.role);
    const bool exiting = (rec.flags & WC_F_HAS_CLOSER) && (rec.flags & WC_F_CLOSER_EXITING);
    ev.reason = infer_tcp_reason(v, exiting, ev.idle_ms, ev.http);
    ev.role = v.role;
    ev.first_fin = v.first_fin;
    ev.reset = v.reset;
    ev.time_wait = v.time_wait;
    ev.states = std::move(v.states);
    fill_owner_and_closer(rec, cgroups_, ev);

    ev.duration_ms = duration_ms(rec);
    if (rec.flags & WC_F_IO_TRACKED) {
        ev.bytes_sent = rec.bytes_sent;
        ev.bytes_received = rec.bytes_received;
    }
    return ev;
}

}  // namespace whoclosed
