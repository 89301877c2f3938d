#include "app/trace_session.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>

#include "cli/exit_codes.h"
#include "correlate/verdict.h"
#include "decode/decoder.h"
#include "loader/features.h"

namespace whoclosed {

namespace {

// The ring is drained on this timer; the kernel wakes the reader early only
// past a quarter of the ring, and each such wake-up is an IPI per submit
// until the reader catches up. At 15k connections/s with HTTP heads
// (~3 KiB of samples each, ~46 MB/s) 100 ms filled more than that quarter
// every time (~600 forced wake-ups/s); 50 ms stays below it up to ~80 MB/s.
constexpr int kPollIntervalMs = 50;
// How often the socket table is compared with the kernel's sockets. A record
// is completed after two sweeps without change, so within 20 s of its end.
constexpr auto kSweepInterval = std::chrono::seconds(10);

bool comm_equals(const char (&comm)[WC_COMM_LEN], const std::string& want) {
    return comm_from_kernel(comm) == want;
}

std::optional<TracerConfig> build_config(const TraceOptions& opts, int& exit_code) {
    TracerConfig cfg;
    cfg.filter_pid = opts.pid.value_or(0);
    cfg.filter_comm = opts.comm.value_or("");
    cfg.filter_ports = opts.ports;
    cfg.filter_netns = opts.netns.value_or(0);
    // ~2 s of records with their HTTP heads at 15,000 HTTP connections/s
    // (~2 KB each, both ends): a reader held up half a second (descheduled,
    // a slow disk write) dropped events with the former 16 MiB. (8 MiB,
    // which the L3 cache could hold, measured no cheaper here.)
    cfg.ring_bytes = 64u << 20;
    cfg.http_syscall = opts.http == HttpMode::Auto || opts.http == HttpMode::Syscall;
    cfg.capture_stacks = !opts.no_stacks;
    cfg.http_tls = opts.http == HttpMode::Auto || opts.http == HttpMode::Uprobe;
    cfg.http_uprobe = opts.http == HttpMode::Uprobe;
    if (opts.cgroup) {
        std::string error;
        auto id = resolve_cgroup_id(*opts.cgroup, error);
        if (!id) {
            std::cerr << "whoclosed: error: --cgroup " << *opts.cgroup << ": " << error << '\n';
            exit_code = kExitUsage;
            return std::nullopt;
        }
        cfg.filter_cgroup = *id;
    }
    if (const char* m = std::getenv("WHOCLOSED_ATTACH_MODE")) {
        cfg.only_mode = attach_mode_from_string(m);
        if (!cfg.only_mode) {
            std::cerr << "whoclosed: error: WHOCLOSED_ATTACH_MODE=" << m
                      << " is not one of tp_btf, tracepoint, fentry, kprobe\n";
            exit_code = kExitUsage;
            return std::nullopt;
        }
    }
    // Tests: force slot collisions in the socket table and the heads table.
    for (auto [name, dst] : {std::pair{"WHOCLOSED_SLOTS", &cfg.slots}, std::pair{"WHOCLOSED_HEAD_SLOTS", &cfg.head_slots}}) {
        const char* e = std::getenv(name);
        if (!e) continue;
        char* end = nullptr;
        const unsigned long n = std::strtoul(e, &end, 10);
        if (!*e || *end || n == 0 || n > cfg.max_sockets || (n & (n - 1))) {
            std::cerr << "whoclosed: error: " << name << "=" << e << " is not a power of two between 1 and "
                      << cfg.max_sockets << " (a test setting: fewer slots than sockets)\n";
            exit_code = kExitUsage;
            return std::nullopt;
        }
        *dst = static_cast<uint32_t>(n);
    }
    if (const char* e = std::getenv("WHOCLOSED_EMPTY_PROGRAMS")) {
        cfg.empty_programs = std::string_view(e) == "1";
        if (cfg.empty_programs)
            std::cerr << "whoclosed: WHOCLOSED_EMPTY_PROGRAMS=1: the programs attach but do nothing "
                         "(benchmark calibration); no event will be reported\n";
    }
    return cfg;
}

}  // namespace

std::optional<uint64_t> resolve_cgroup_id(const std::string& path, std::string& error) {
    const std::string root = find_cgroup2_mount();
    std::string full = path.rfind(root, 0) == 0 ? path : root + (path.empty() || path[0] != '/' ? "/" : "") + path;
    struct stat st {};
    if (stat(full.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        error = "no such cgroup (" + full + "): give a path below " + root +
                ", e.g. /system.slice/nginx.service";
        return std::nullopt;
    }
    return static_cast<uint64_t>(st.st_ino);
}

bool record_passes_filters(const close_record& rec, const TracerConfig& cfg) {
    if (cfg.filter_pid && rec.owner_pid != cfg.filter_pid && rec.closer_pid != cfg.filter_pid)
        return false;
    if (!cfg.filter_comm.empty() && !comm_equals(rec.owner_comm, cfg.filter_comm) &&
        !comm_equals(rec.closer_comm, cfg.filter_comm))
        return false;
    if (cfg.filter_cgroup && rec.owner_cgroup != cfg.filter_cgroup &&
        rec.closer_cgroup != cfg.filter_cgroup)
        return false;
    if (cfg.filter_netns && rec.netns != cfg.filter_netns) return false;
    if (cfg.filter_ports.empty()) return true;
    for (uint16_t p : cfg.filter_ports)
        if (p == rec.sport || p == rec.dport) return true;
    return false;
}

std::unique_ptr<TraceSession> TraceSession::start(const TraceOptions& opts, int& exit_code) {
    Privileges priv = current_privileges();
    if (!priv.sufficient()) {
        std::cerr << "whoclosed: error: " << privilege_error(priv) << '\n';
        exit_code = kExitUnsupported;
        return nullptr;
    }
    auto cfg = build_config(opts, exit_code);
    if (!cfg) return nullptr;
    std::vector<ModeAttempt> attempts;
    LoadError error;
    auto tracer = Tracer::open(*cfg, attempts, error);
    if (!tracer) {
        std::cerr << "whoclosed: error: " << error.message << '\n';
        for (const auto& a : attempts)
            std::cerr << "whoclosed:   " << to_string(a.mode) << ": " << a.error << '\n';
        exit_code = error.missing_feature ? kExitUnsupported : kExitFailure;
        return nullptr;
    }
    exit_code = kExitOk;
    return std::unique_ptr<TraceSession>(new TraceSession(opts, *cfg, std::move(tracer)));
}

TraceSession::TraceSession(const TraceOptions& opts, TracerConfig cfg, std::unique_ptr<Tracer> tracer)
    : opts_(opts),
      cfg_(std::move(cfg)),
      tracer_(std::move(tracer)),
      correlator_(boot_to_unix_offset_ns(), cgroups_),
      stacks_(*tracer_),
      started_(std::chrono::steady_clock::now()) {
    if (const char* e = std::getenv("WHOCLOSED_DISCARD_RECORDS"); e && std::string_view(e) == "1") {
        discard_records_ = true;
        std::cerr << "whoclosed: WHOCLOSED_DISCARD_RECORDS=1: every ring record is read and dropped "
                     "unprocessed (benchmark calibration); no event will be reported\n";
    }
}

static_assert(sizeof(process_note) != sizeof(close_record) && sizeof(http_note) != sizeof(close_record) &&
                  sizeof(process_note) != sizeof(http_note) && sizeof(process_note) != WC_RECORD_SHORT &&
                  sizeof(http_note) != WC_RECORD_SHORT,
              "ring samples are told apart by their size (close records with heads by WC_F_HEADS_FOLLOW)");

void TraceSession::handle(const void* data, size_t size, EventSink& sink) {
    if (discard_records_) {
        ++records_discarded_;
        return;
    }
    if (size == sizeof(process_note)) {
        auto note = std::make_unique<process_note>();
        std::memcpy(note.get(), data, sizeof *note);
        if (note->magic == WC_PROCESS_NOTE_MAGIC) {
            stacks_.remember(*note);
            return;
        }
    }
    if (size == sizeof(http_note)) {
        if (auto note = decode_http_note(data, size)) {
            http_notes_.add(*note, static_cast<const char*>(data) + offsetof(http_note, head));
            return;
        }
    }
    if (limit_reached()) return;
    std::string error;
    // The kernel may have sent the socket's heads with it (WC_F_HEADS_FOLLOW).
    kept_heads_.requests = kept_heads_.responses = 0;
    kept_heads_.source = WC_HTTP_SRC_NONE;
    auto rec = decode_close_record(data, size, &error, &kept_heads_);
    if (!rec) {
        if (decode_errors_++ == 0)
            std::cerr << "whoclosed: warning: dropping undecodable record: " << error << '\n';
        return;
    }
    const uint64_t cookie = (rec->flags & WC_F_HAS_COOKIE) ? rec->cookie : 0;
    if (rec->flags & WC_F_FILTERED_OUT) {  // sent only so that its heads are forgotten
        http_notes_.forget(cookie);
        return;
    }
    const http_record* http = cookie ? http_notes_.find(cookie) : nullptr;
    if (kept_heads_.source != WC_HTTP_SRC_NONE) {
        if (http) merge_heads(kept_heads_, *http);  // some went ahead as notes
        http = &kept_heads_;
    }
    CloseEvent ev = correlator_.build(*rec, http);
    if (cookie) http_notes_.forget(cookie);
    if (ev.closer && (rec->flags & WC_F_STACKS)) {
        ev.closer->kernel_stack = stacks_.kernel(rec->kstack_id);
        ev.closer->user_stack = stacks_.user(*rec);
    }
    sink.write(ev);
    summary_.add(ev);
    if (time_wait_dropped(*rec)) ++time_waits_dropped_;
}

bool TraceSession::limit_reached() const {
    return opts_.count && summary_.events() >= *opts_.count;
}

void TraceSession::handle_filtered(const void* data, size_t size, EventSink& sink) {
    // Records read from the socket table never passed the kernel's filters.
    // A record, maybe with its heads behind it (see Tracer::hand_over).
    if (size < WC_RECORD_SHORT) return;
    std::vector<char> copy(static_cast<const char*>(data), static_cast<const char*>(data) + size);
    close_record rec{};
    std::memcpy(&rec, copy.data(), std::min(size, sizeof rec));
    if (!record_passes_filters(rec, cfg_)) {
        rec.flags |= WC_F_FILTERED_OUT;
        std::memcpy(copy.data() + offsetof(close_record, flags), &rec.flags, sizeof rec.flags);
    }
    handle(copy.data(), copy.size(), sink);
}

void TraceSession::sweep(EventSink& sink, bool final_pass) {
    std::string error;
    int n = tracer_->sweep_stale([&](const void* d, size_t size) { handle_filtered(d, size, sink); },
                                 final_pass, error);
    if (n < 0 && !sweep_warned_) {
        sweep_warned_ = true;
        std::cerr << "whoclosed: warning: cannot compare the socket table with the kernel's sockets ("
                  << error << "); a socket whose last hook runs never arrive stays unreported\n";
    }
    if (n > 0) sink.flush();
}

void TraceSession::run(EventSink& sink, const std::function<bool()>& stop) {
    Tracer::RecordFn fn = [&](const void* d, size_t n) { handle(d, n, sink); };
    auto last_sweep = std::chrono::steady_clock::now();
    while (!stop() && !limit_reached() && sink.good()) {
        if (std::chrono::steady_clock::now() - last_sweep >= kSweepInterval) {
            sweep(sink, false);
            last_sweep = std::chrono::steady_clock::now();
        }
        if (opts_.duration) {
            std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
            if (elapsed.count() >= *opts_.duration) break;
        }
        int rc = tracer_->poll(kPollIntervalMs, fn);
        if (rc > 0) sink.flush();
        if (rc < 0 && rc != -EINTR) {
            std::cerr << "whoclosed: error: reading the ring buffer: " << std::strerror(-rc) << '\n';
            break;
        }
    }
}

Summary TraceSession::finish(EventSink& sink) {
    Tracer::RecordFn fn = [&](const void* d, size_t n) { handle(d, n, sink); };
    tracer_->poll(0, fn);
    tracer_->drain_closed([&](const void* d, size_t n) { handle_filtered(d, n, sink); });
    sweep(sink, true);
    other_netns_left_ = tracer_->other_netns_records([&](const close_record& r) { return record_passes_filters(r, cfg_); });
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started_;
    DropCounters drops = tracer_->counters();
    Summary s = summary_.finish(elapsed.count(), drops.lost() + decode_errors_,
                                to_string(tracer_->mode()), http_mode());
    sink.write_summary(s);
    if (discard_records_)
        std::cerr << "whoclosed: " << records_discarded_ << " records read and dropped unprocessed\n";
    return s;
}

}  // namespace whoclosed
