// Uprobes on the crypto/tls of Go executables (TLS plaintext, see
// bpf/go_tls.bpf.h) and, with --http uprobe, on their net.(*conn) reads and
// writes (plaintext, bpf/go_net.bpf.h). Go links statically, so each executable file gets its
// own probes: the files of processes running when tracing starts, then the
// file of every process exec'd later (the kernel's "execs" ring). Each file
// is inspected once, by (dev, inode), so the probes cover every process
// that runs it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "symbolize/binary_cache.h"
#include "symbolize/lru_cache.h"

struct whoclosed_bpf;
struct bpf_link;

namespace whoclosed {

// File offsets of the probes on one Write/Read pair of a Go executable.
struct GoPairOffsets {
    uint64_t write_entry = 0;
    uint64_t read_entry = 0;
    std::vector<uint64_t> rets;  // every RET instruction of both
};

struct GoOffsets {
    std::optional<GoPairOffsets> tls;  // crypto/tls.(*Conn).Write/Read
    std::optional<GoPairOffsets> net;  // net.(*conn).Write/Read (asked for only)
};

// Where the probes go in `path` (the net pair only with `plaintext`);
// nullopt (with `why`) for files that are not Go executables of a supported
// version or that link none of the functions.
std::optional<GoOffsets> find_go_offsets(const std::string& path, bool plaintext, std::string* why);

// Marks the Go programs for loading (the net ones with `plaintext`);
// `watch_execs` adds the exec hook (a tp_btf program: only where the tp_btf
// mode loads).
void enable_go_programs(struct whoclosed_bpf* skel, bool plaintext, bool watch_execs);

class GoProbes {
public:
    // `only_pid` (non-zero) limits the probes to that process's executable;
    // `plaintext` adds the net.(*conn) probes.
    GoProbes(struct whoclosed_bpf* skel, uint32_t only_pid, bool plaintext);
    ~GoProbes();
    GoProbes(const GoProbes&) = delete;
    GoProbes& operator=(const GoProbes&) = delete;

    // Inspects the executables of running processes (bounded).
    void scan_running();
    // Inspects the executable of one process, if not seen before.
    void inspect(uint32_t pid);
    // ring_buffer callback for the kernel's "execs" ring (one u32 tgid each).
    static int on_exec(void* ctx, void* data, size_t size);

    size_t files_attached() const { return attached_.size(); }
    // Why the last Go executable could not be probed; empty if none failed.
    const std::string& note() const { return note_; }

private:
    bool attach(const std::string& path, const GoOffsets& offsets);

    struct whoclosed_bpf* skel_;
    uint32_t only_pid_;
    bool plaintext_;
    LruCache<FileId, bool, FileIdHash> seen_{65536};  // files inspected, Go or not
    std::unordered_set<FileId, FileIdHash> attached_;
    std::vector<bpf_link*> links_;
    std::string note_;
};

}  // namespace whoclosed
