#include "correlate/stale_records.h"

#include <algorithm>

namespace whoclosed {

namespace {

// FNV-1a over the fields hooks write; enough to notice any change.
void mix(uint64_t& h, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (i * 8)) & 0xff;
        h *= 0x100000001b3ull;
    }
}

}  // namespace

uint64_t record_fingerprint(const close_record& rec) {
    uint64_t h = 0xcbf29ce484222325ull;
    mix(h, rec.flags);
    mix(h, rec.nstates);
    for (unsigned i = 0; i < std::min<unsigned>(rec.nstates, WC_MAX_STATES); i++) mix(h, rec.states[i]);
    mix(h, rec.ts_close_ns);
    mix(h, rec.ts_first_fin_ns);
    mix(h, rec.ts_last_payload_ns);
    mix(h, rec.bytes_sent);
    mix(h, rec.bytes_received);
    mix(h, rec.rx_mark);
    mix(h, rec.sport);
    mix(h, rec.dport);
    return h;
}

std::vector<uint64_t> StaleSweep::candidates(const std::vector<std::pair<uint64_t, close_record>>& records,
                                             uint64_t own_netns, bool final_pass) {
    std::vector<uint64_t> out;
    std::unordered_map<uint64_t, uint64_t> next;
    next.reserve(records.size());
    for (const auto& [key, rec] : records) {
        // Keys that are socket addresses (modes without cookies) cannot be
        // matched with sock_diag, nor can sockets of other namespaces.
        if (!(rec.flags & WC_F_HAS_COOKIE) || rec.cookie != key || rec.netns != own_netns) continue;
        const uint64_t fp = record_fingerprint(rec);
        auto prev = seen_.find(key);
        if (final_pass || (prev != seen_.end() && prev->second == fp)) out.push_back(key);
        next.emplace(key, fp);
    }
    seen_ = std::move(next);  // forget keys no longer in the table
    return out;
}

std::vector<uint64_t> StaleSweep::gone(const std::vector<uint64_t>& candidates, const LiveSockets& live) {
    std::vector<uint64_t> out;
    for (uint64_t key : candidates) {
        auto it = live.find(key);  // candidates are keyed by their cookie
        if (it == live.end() || it->second == WC_TCP_TIME_WAIT) {
            out.push_back(key);
            seen_.erase(key);
        }
    }
    return out;
}

void complete_stale_record(close_record& rec, bool time_wait_here, uint64_t now_boot_ns) {
    const unsigned n = std::min<unsigned>(rec.nstates, WC_MAX_STATES);
    if (n == 0 || rec.states[n - 1] != WC_TCP_CLOSE) {
        if (n < WC_MAX_STATES) {
            rec.states[n] = WC_TCP_CLOSE;
            rec.nstates = static_cast<unsigned char>(n + 1);
        } else {
            rec.states[WC_MAX_STATES - 1] = WC_TCP_CLOSE;
            rec.flags |= WC_F_STATES_TRUNCATED;
        }
    }
    rec.flags |= WC_F_RECOVERED;
    if (time_wait_here) rec.flags |= WC_F_TIME_WAIT_SEEN;
    if (!rec.ts_close_ns) rec.ts_close_ns = now_boot_ns;
}

}  // namespace whoclosed
