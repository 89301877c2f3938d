// Loads the BPF programs in the best attach mode this kernel supports and
// exposes the ring of close records. The only place that touches the skeleton.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <linux/bpf.h>

#include "correlate/stale_records.h"
#include "whoclosed.h"

struct whoclosed_bpf;   // the generated skeleton
struct ring_buffer;
struct bpf_link;

namespace whoclosed {

class GoProbes;

enum class AttachMode { TpBtf, Tracepoint, Fentry, Kprobe };
// How the process that accepted a socket is learned, best first: fexit on
// inet_csk_accept() (BPF trampolines), the cgroup getpeername hooks that
// accept() runs for a caller asking for the peer's address (cgroup v2), or
// the accept()/accept4() exit tracepoints (slow: every system call on the
// host then takes the kernel's traced path).
enum class AcceptHook { Fexit, CgroupPeer, SyscallTracepoint };
const char* to_string(AcceptHook h);
const char* to_string(AttachMode m);
std::optional<AttachMode> attach_mode_from_string(const std::string& s);

struct TracerConfig {
    uint32_t filter_pid = 0;
    std::string filter_comm;
    uint64_t filter_cgroup = 0;
    uint64_t filter_netns = 0;
    std::vector<uint16_t> filter_ports;
    bool http_syscall = false;  // read HTTP heads from the buffers of socket syscalls
    bool capture_stacks = true; // closer's kernel and user stacks (--no-stacks clears it)
    bool http_tls = false;      // TLS plaintext through OpenSSL uprobes
    bool http_uprobe = false;   // plaintext through libc and Go net uprobes (--http uprobe)
    uint32_t max_sockets = 65536;
    // Slots of the socket table's direct-mapped part (BTF modes; a power of
    // two, 0 = max_sockets rounded up). Tests shrink it to force collisions
    // (env WHOCLOSED_SLOTS).
    uint32_t slots = 0;
    // Slots of the kernel's HTTP heads table (BTF modes with HTTP capture;
    // a power of two, 0 = max_sockets / 8). Env WHOCLOSED_HEAD_SLOTS.
    uint32_t head_slots = 0;
    uint32_t ring_bytes = 8u << 20;
    // Tries only this mode (tests of the fallbacks; env WHOCLOSED_ATTACH_MODE).
    std::optional<AttachMode> only_mode;
    // Every program returns at once: scripts/bench.sh's `hooks` config
    // measures what attaching the hooks costs (env WHOCLOSED_EMPTY_PROGRAMS=1).
    bool empty_programs = false;
};

struct ModeAttempt {
    AttachMode mode;
    std::string error;  // empty when the mode attached
};

struct DropCounters {
    uint64_t ring_full = 0;
    uint64_t map_full = 0;
    uint64_t emitted = 0;
    uint64_t wakeups = 0;
    uint64_t filtered = 0;
    uint64_t stacks_lost = 0;  // closing stacks the stack maps could not store
    uint64_t http_lost = 0;    // HTTP heads the ring could not take
    uint64_t covered = 0;      // skipped hook runs a backup copy handled
    // Diagnostics (WHOCLOSED_DEBUG): sockets destroyed with no record
    // (listeners, sockets older than the trace) and records begun mid-life.
    uint64_t untracked_destroys = 0;
    uint64_t late_records = 0;
    // Remembered kernel paths that unwound differently (then never used).
    uint64_t kstack_varied = 0;
    // Hook runs the kernel skipped (recursion guard) that no backup covered:
    // a state change or close that was never seen.
    uint64_t recursion_lost = 0;
    uint64_t lost() const { return ring_full + map_full + recursion_lost; }
};

// A failure to load or attach: what went wrong, and whether it is a missing
// privilege or kernel feature (exit code 3) rather than a runtime error.
struct LoadError {
    std::string message;
    bool missing_feature = false;
};

class Tracer {
public:
    using RecordFn = std::function<void(const void* data, size_t size)>;

    // Probes modes in order tp_btf, tracepoint, fentry, kprobe; the first that
    // loads and attaches wins. `attempts` receives every try, in order.
    static std::unique_ptr<Tracer> open(const TracerConfig& cfg, std::vector<ModeAttempt>& attempts,
                                        LoadError& error);
    ~Tracer();
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    AttachMode mode() const { return mode_; }
    // How accepting processes are seen.
    AcceptHook accept_hook() const { return accept_hook_; }
    // Whether HTTP heads are read from socket syscalls (needs the I/O hooks).
    bool http_syscall() const;
    // Whether OpenSSL uprobes are attached (TLS plaintext); why not, if not.
    bool http_tls() const { return !ssl_links_.empty(); }
    const std::string& tls_note() const { return tls_note_; }
    // Whether libc uprobes are attached (plaintext, --http uprobe); why not, if not.
    bool http_uprobe() const { return !libc_links_.empty(); }
    const std::string& libc_note() const { return libc_note_; }
    // Go crypto/tls probes (with http_tls), or nullptr.
    const GoProbes* go_probes() const { return go_probes_.get(); }

    // Waits up to timeout_ms, then drains the ring whether or not a wake-up
    // came (records are submitted without wake-ups). Returns records read, or -errno.
    int poll(int timeout_ms, const RecordFn& fn);

    DropCounters counters() const;
    // " prog=N ..." for every program the kernel skipped N times (debugging).
    std::string recursion_report() const;

    // Frames of a stack id from a close_record, innermost first; empty if gone.
    std::vector<uint64_t> kernel_stack(int id) const;

    // Records of sockets that reached CLOSE but whose file is still open, so
    // tcp_destroy_sock has not fired yet: handed out once, at the end of a trace.
    void drain_closed(const RecordFn& fn);

    // Completes records whose socket the kernel no longer has (see
    // correlate/stale_records.h) and hands them to `fn`, with their HTTP
    // heads. Periodic sweeps complete only records unchanged since the
    // previous sweep; `final_pass` (end of trace) takes every gone socket.
    // Returns how many were completed; -1 when sock_diag failed (`error`).
    int sweep_stale(const RecordFn& fn, bool final_pass, std::string& error);
    // Records sweep_stale completed so far.
    uint64_t recovered() const { return recovered_; }
    // Records still in the socket table of sockets in other network
    // namespaces that `wanted` accepts. The stale sweep cannot judge them
    // (sock_diag sees only ours): at the end of a trace these are sockets
    // still open or closed without our hooks running, unreported either way.
    uint64_t other_netns_records(const std::function<bool(const close_record&)>& wanted) const;

private:
    Tracer(struct whoclosed_bpf* skel, AttachMode mode);
    static int on_ring_record(void* ctx, void* data, size_t size);
    bool map_slots();
    bool map_heads();
    // Every (key, record) of the socket table: slots, then the hash map.
    std::vector<std::pair<uint64_t, close_record>> read_table() const;
    // Takes socket `key`'s record out of the table into `rec`; false when
    // it is gone (its destroy hook emitted it meanwhile).
    bool take_record(uint64_t key, close_record& rec);
    // Takes socket `key`'s HTTP heads out of the kernel's heads table (the
    // caller took its record first); false when it held no heads slot.
    bool take_heads(uint64_t key, http_record& heads);
    // Hands a record taken out of the table to `fn`, with its heads if the
    // kernel kept them (one sample laid out like the ring's, WC_F_HEADS_FOLLOW).
    void hand_over(uint64_t key, const close_record& rec, const RecordFn& fn);
    void attach_tls(const TracerConfig& cfg);
    void attach_go(const TracerConfig& cfg);
    void attach_libc(const TracerConfig& cfg);

    struct whoclosed_bpf* skel_;
    AcceptHook accept_hook_ = AcceptHook::SyscallTracepoint;
    struct ring_buffer* ring_ = nullptr;
    AttachMode mode_;
    std::vector<int> critical_fds_;  // programs whose skipped runs lose events
    std::vector<bpf_link*> ssl_links_;
    std::string tls_note_;
    std::vector<bpf_link*> libc_links_;
    std::string libc_note_;
    std::unique_ptr<GoProbes> go_probes_;
    StaleSweep stale_;
    uint64_t recovered_ = 0;
    // The memory-mapped `slots` array (see bpf/track.bpf.h), or nullptr.
    unsigned char* slots_ = nullptr;
    size_t slots_len_ = 0;    // bytes mapped
    size_t slot_count_ = 0;
    // The memory-mapped `http_slots` array, or nullptr.
    unsigned char* heads_ = nullptr;
    size_t heads_len_ = 0;
    size_t head_count_ = 0;
    uint64_t own_netns_ = 0;
    const RecordFn* current_fn_ = nullptr;
    int current_count_ = 0;
};

}  // namespace whoclosed
