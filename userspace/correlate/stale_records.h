// Records whose socket is gone but whose end never reached whoclosed.
//
// Each socket's record is emitted by the tcp_destroy_sock hook. Rarely the
// kernel runs a socket's last state changes and its destroy without our
// programs (seen here under heavy load, in softirqs served on behalf of an
// unrelated task), and the record would sit in the socket table for ever:
// an event never written and a slot never freed. A sweep compares the table
// with the sockets the kernel still has (sock_diag, by cookie: full,
// request and timewait sockets; a timewait socket keeps its cookie) and
// completes what is gone. Pure logic here; the loader does the I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "whoclosed.h"

namespace whoclosed {

// What sock_diag says of one cookie: a TCP state (WC_TCP_*).
using LiveSockets = std::unordered_map<uint64_t, uint8_t>;

class StaleSweep {
public:
    // Remembers the fingerprint of every record of `records` (key, record)
    // that sock_diag can judge: of this network namespace (it sees no other)
    // and keyed by a real cookie. Returns those that did not change since the
    // previous sweep (a record still changing has a live socket behind it);
    // `final_pass` drops that rule: the trace is ending and no later sweep
    // will come. Empty means the sock_diag dump (costly with many timewait
    // sockets) can be skipped.
    std::vector<uint64_t> candidates(const std::vector<std::pair<uint64_t, close_record>>& records,
                                     uint64_t own_netns, bool final_pass);

    // Of `candidates`, the keys to complete now: the kernel no longer has
    // their cookie as a full or request socket (a timewait socket with it
    // means the full socket is gone). Forgets them.
    std::vector<uint64_t> gone(const std::vector<uint64_t>& candidates, const LiveSockets& live);

    // candidates() then gone(), for a caller that already holds `live`.
    std::vector<uint64_t> select(const std::vector<std::pair<uint64_t, close_record>>& records,
                                 const LiveSockets& live, uint64_t own_netns, bool final_pass) {
        return gone(candidates(records, own_netns, final_pass), live);
    }

    // Records whose fingerprint the next sweep compares against.
    size_t remembered() const { return seen_.size(); }

private:
    std::unordered_map<uint64_t, uint64_t> seen_;  // key -> fingerprint at the last sweep
};

// A stable digest of everything a hook can change in a record.
uint64_t record_fingerprint(const close_record& rec);

// Completes a record the sweep found gone: the socket certainly reached
// CLOSE (the kernel frees TCP sockets only there), so CLOSE ends its states;
// `time_wait_here` says a timewait socket with its cookie exists. The close
// time is unknown (only bounded by the sweep), so the record carries
// WC_F_RECOVERED and no duration is derived from it.
void complete_stale_record(close_record& rec, bool time_wait_here, uint64_t now_boot_ns);

}  // namespace whoclosed
