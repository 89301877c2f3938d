// A running trace: the loaded tracer plus decoding, correlation and
// counting. Shared by `trace` and `demo`.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "cli/options.h"
#include "correlate/cgroup_resolver.h"
#include "correlate/correlator.h"
#include "correlate/http_notes.h"
#include "app/stack_resolver.h"
#include "loader/tracer.h"
#include "sink/event_sink.h"
#include "sink/summary.h"

namespace whoclosed {

class TraceSession {
public:
    // Checks privileges, resolves filters and loads the BPF programs. On
    // failure prints the reason to stderr and returns nullptr with exit_code set.
    static std::unique_ptr<TraceSession> start(const TraceOptions& opts, int& exit_code);

    AttachMode mode() const { return tracer_->mode(); }
    // What HTTP capture actually runs: "auto" (syscalls + OpenSSL uprobes),
    // "syscall", "uprobe" (libc, OpenSSL and Go uprobes), or "off".
    const char* http_mode() const {
        if (tracer_->http_uprobe()) return "uprobe";
        if (!tracer_->http_syscall()) return "off";
        return tracer_->http_tls() ? "auto" : "syscall";
    }
    const Tracer& tracer() const { return *tracer_; }

    // Drains the ring every poll interval into `sink` until `stop()` returns
    // true, the --count limit is reached or --duration expires.
    void run(EventSink& sink, const std::function<bool()>& stop);

    // Final drain (including closed sockets whose file is still open), then
    // the summary line. Returns the summary that was written.
    Summary finish(EventSink& sink);

    uint64_t events() const { return summary_.events(); }
    uint64_t decode_errors() const { return decode_errors_; }
    uint64_t http_heads_dropped() const { return http_notes_.dropped(); }
    // Events whose TIME_WAIT the kernel dropped (see time_wait_dropped).
    uint64_t time_waits_dropped() const { return time_waits_dropped_; }
    // Set by finish(): see Tracer::other_netns_records (filters applied).
    uint64_t other_netns_left() const { return other_netns_left_; }

private:
    TraceSession(const TraceOptions& opts, TracerConfig cfg, std::unique_ptr<Tracer> tracer);
    void handle(const void* data, size_t size, EventSink& sink);
    // handle() for records read from the socket table: applies the filters
    // the kernel applies at emit.
    void handle_filtered(const void* data, size_t size, EventSink& sink);
    bool limit_reached() const;
    // Completes records whose socket is gone without its last hook runs
    // (see Tracer::sweep_stale), through the same filters and sink.
    void sweep(EventSink& sink, bool final_pass);

    TraceOptions opts_;
    TracerConfig cfg_;
    std::unique_ptr<Tracer> tracer_;
    SysfsCgroupResolver cgroups_;
    Correlator correlator_;
    HttpNotes http_notes_;
    http_record kept_heads_{};  // the heads of the record being handled, if it brought them
    StackResolver stacks_;
    SummaryAccumulator summary_;
    std::chrono::steady_clock::time_point started_;
    uint64_t decode_errors_ = 0;
    uint64_t time_waits_dropped_ = 0;
    uint64_t other_netns_left_ = 0;
    // Benchmark calibration WHOCLOSED_DISCARD_RECORDS=1 (scripts/bench.sh,
    // config `kernel`): every record is counted and dropped unprocessed.
    bool discard_records_ = false;
    uint64_t records_discarded_ = 0;
    bool sweep_warned_ = false;
};

// Resolves `--cgroup PATH` (relative to the cgroup2 mount, or absolute under
// it) to the cgroup id the kernel reports. nullopt with `error` set if absent.
std::optional<uint64_t> resolve_cgroup_id(const std::string& path, std::string& error);

// Userspace twin of the kernel's filter, for records handed out by the final
// sweep rather than by the kernel's emit path.
bool record_passes_filters(const close_record& rec, const TracerConfig& cfg);

}  // namespace whoclosed
