#include "sink/summary.h"

namespace whoclosed {

const std::array<Reason, kReasonCount> kAllReasons = {
    Reason::RequestConnectionClose, Reason::ResponseConnectionClose, Reason::ClientClose,
    Reason::IdleTimeout, Reason::ProcessExit, Reason::Reset, Reason::Simultaneous, Reason::Unknown};
const std::array<FirstFin, kFirstFinCount> kAllFirstFins = {
    FirstFin::Local, FirstFin::Remote, FirstFin::Simultaneous, FirstFin::None};

void SummaryAccumulator::add(const CloseEvent& ev) {
    ++counts_.events;
    ++counts_.by_reason[static_cast<size_t>(ev.reason)];
    ++counts_.by_first_fin[static_cast<size_t>(ev.first_fin)];
    if (ev.time_wait) ++counts_.time_wait_local;
}

Summary SummaryAccumulator::finish(double duration_s, uint64_t lost, std::string attach_mode,
                                   std::string http_mode) const {
    Summary s = counts_;
    s.duration_s = duration_s;
    s.lost = lost;
    s.attach_mode = std::move(attach_mode);
    s.http_mode = std::move(http_mode);
    return s;
}

}  // namespace whoclosed
