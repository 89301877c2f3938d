// Everything `report` shows, tallied while the trace streams by: ranked
// tables, the first-FIN matrix per port, TIME_WAIT holders, requests per
// connection and the closing stacks. Memory is bounded by the caps of
// BoundedMap and StackAggregate, not by the length of the trace.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.h"
#include "report/bounded_map.h"
#include "report/port_verdict.h"
#include "report/stacks.h"
#include "report/trace_reader.h"
#include "sink/summary.h"

namespace whoclosed {

inline constexpr size_t kMaxTableKeys = 10000;
inline constexpr size_t kMaxHolders = 1000;

struct GroupStats {
    uint64_t closes = 0;
    uint64_t fin_local = 0;   // this host sent the first FIN
    uint64_t time_wait = 0;   // this host holds the TIME_WAIT
    std::array<uint64_t, kReasonCount> reasons{};
    Reason top_reason() const;
};

struct TableRow {
    std::string key;
    GroupStats stats;
};

struct ReportTable {
    ReportBy by = ReportBy::Closer;
    std::vector<TableRow> rows;  // ranked by closes, "(other)" last
};

// Sockets whose TIME_WAIT this host holds, per service port, side and comm.
struct TimeWaitHolder {
    uint16_t port = 0;
    Role side = Role::Unknown;
    std::string comm;
    uint64_t count = 0;
    Reason top_reason = Reason::Unknown;
    std::string top_user_agent;  // "" when no HTTP was seen
};

struct RequestBucket {
    const char* label;   // "0", "1", "2", "3-5", "6-10", "11-100", ">100"
    uint64_t sockets = 0;
};

struct RequestHistogram {
    uint64_t no_http = 0;        // sockets where no HTTP/1.x was seen
    uint64_t http_sockets = 0;
    std::vector<RequestBucket> buckets;
};

struct ReportData {
    ReportBy primary = ReportBy::Closer;
    ReadStats read;
    uint64_t time_wait_total = 0;
    std::optional<uint16_t> verdict_port;
    std::string verdict;
    std::vector<ReportTable> tables;      // the --by table first, then the others in flag order
    std::vector<PortVerdict> ports;       // most sockets first
    std::vector<TimeWaitHolder> holders;  // largest count first
    RequestHistogram requests;
};

const char* table_title(ReportBy by);     // "closer (comm)", ...

class ReportAggregate {
public:
    void add(const TraceRecord& rec);
    ReportData finish(ReportBy primary, const ReadStats& read) const;
    const StackAggregate& stacks() const { return stacks_; }

private:
    struct HolderStats {
        TimeWaitHolder id;  // port, side, comm
        std::array<uint64_t, kReasonCount> reasons{};
        BoundedMap<uint64_t> agents{16};
    };
    void add_to_tables(const TraceRecord& rec);
    void add_holder(const TraceRecord& rec);
    std::vector<TimeWaitHolder> ranked_holders() const;
    std::string describe(const ReportData& d) const;

    std::array<BoundedMap<GroupStats>, 5> tables_{
        BoundedMap<GroupStats>(kMaxTableKeys), BoundedMap<GroupStats>(kMaxTableKeys),
        BoundedMap<GroupStats>(kMaxTableKeys), BoundedMap<GroupStats>(kMaxTableKeys),
        BoundedMap<GroupStats>(kMaxTableKeys)};
    std::map<uint16_t, PortTally> ports_;
    BoundedMap<HolderStats> holders_{kMaxHolders};
    std::array<uint64_t, 7> request_buckets_{};
    uint64_t no_http_ = 0;
    uint64_t time_wait_ = 0;
    StackAggregate stacks_;
};

}  // namespace whoclosed
