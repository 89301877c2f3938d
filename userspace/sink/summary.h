// Counts over one trace, printed as the last line (CONTRACT.md, "summary").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "correlate/close_event.h"

namespace whoclosed {

inline constexpr size_t kReasonCount = static_cast<size_t>(Reason::Unknown) + 1;
inline constexpr size_t kFirstFinCount = static_cast<size_t>(FirstFin::None) + 1;

// Every enum value in print order (= declaration order, as in the contract's table).
extern const std::array<Reason, kReasonCount> kAllReasons;
extern const std::array<FirstFin, kFirstFinCount> kAllFirstFins;

struct Summary {
    double duration_s = 0;
    uint64_t events = 0;
    uint64_t lost = 0;                                // kernel drops: ring full + map full
    std::array<uint64_t, kReasonCount> by_reason{};   // indexed by Reason
    std::array<uint64_t, kFirstFinCount> by_first_fin{};  // indexed by FirstFin
    uint64_t time_wait_local = 0;                     // events with time_wait == true
    std::string attach_mode;                          // e.g. "tp_btf"
    std::string http_mode;                            // e.g. "auto"
};

// Feed every event that was printed; finish() adds what only the caller knows.
class SummaryAccumulator {
public:
    void add(const CloseEvent& ev);
    uint64_t events() const { return counts_.events; }
    Summary finish(double duration_s, uint64_t lost, std::string attach_mode, std::string http_mode) const;

private:
    Summary counts_;
};

}  // namespace whoclosed
