// User stack frames -> "function" or "module+0xoffset", for live processes,
// for processes that exited after remember(), and for build-id frames
// (BPF_F_USER_BUILD_ID) with no process at all. Every frame gets a string:
// nothing is dropped. Thread-safe (one mutex); meant for one symbolizer
// thread off the ring reader's hot path, which may call remember().
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "symbolize/binary_cache.h"
#include "symbolize/lru_cache.h"
#include "symbolize/proc_maps.h"

namespace whoclosed {

class ProcessSymbolizer {
public:
    struct Options {
        size_t max_processes = 1024;
        BinaryCache::Limits limits;
        std::string proc_root = "/proc";
        std::string debug_root = "/usr/lib/debug";
        std::vector<std::string> scan_dirs = {"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
                                              "/usr/bin", "/usr/sbin", "/usr/local/bin"};
    };

    ProcessSymbolizer() : ProcessSymbolizer(Options{}) {}
    explicit ProcessSymbolizer(Options options);

    // Snapshots the pid's executable mappings and parses the binaries they
    // map, so its frames resolve after it exits. Call it when a process is
    // first seen and again after exec. False if the process is gone.
    bool remember(pid_t pid);
    // For a process already gone: its executable file mappings as the kernel
    // listed them (struct process_note), with only each file's name and
    // identity. Files are looked for by name in the scan directories and
    // kept when their (dev, inode) match. Replaces what was remembered for
    // the pid (an earlier life of it); an empty list just forgets that.
    void remember_modules(pid_t pid, std::vector<Module> modules);

    // One frame of pid's user stack: "main.closeIt", "nanosleep",
    // "libfoo.so+0x1a2b" (file offset) or "[unknown]+0x7f..." (no mapping known).
    std::string resolve(pid_t pid, uint64_t ip);

    // The return addresses above `regs.ip` (itself first), found with the
    // binaries' .eh_frame rules from the registers at a system call and the
    // stack words captured from regs.sp up; at most max_frames, fewer where
    // the rules or the captured bytes run out.
    std::vector<uint64_t> unwind(pid_t pid, UserRegs regs, std::span<const uint64_t> stack, size_t max_frames);

    // A build-id frame: the binary's function name, else "file+0xoffset",
    // else "[buildid:<first 8 bytes hex>]+0xoffset".
    std::string resolve_build_id(std::span<const uint8_t> build_id, uint64_t file_offset);

private:
    bool remember_locked(pid_t pid);
    // The mapping of pid that holds ip, looking at /proc again when the
    // snapshot has none (not seen yet, or mapped later: dlopen).
    const Module* module_at_locked(pid_t pid, uint64_t ip);
    BinaryPtr binary_for(pid_t pid, const Module& module);
    std::string resolve_in_module(pid_t pid, const Module& module, uint64_t ip);

    // What unwinding needs at one address of one process: the unwind
    // rules of the binary mapped there and the address in the binary's own
    // terms, found once (the mapping search, the binary lookup and the
    // segment search were half of unwinding's cost, per frame of every event).
    struct FrameStep {
        BinaryPtr binary;  // null: no rules here, the walk stops
        uint64_t vaddr = 0;
        std::optional<CallFrameInfo::SimpleRule> simple;  // the rule, where it has the common shape
    };
    struct StepKey {
        pid_t pid;
        uint64_t at;
        bool operator==(const StepKey&) const = default;
    };
    struct StepKeyHash {
        size_t operator()(const StepKey& k) const { return std::hash<uint64_t>()(k.at * 31 + static_cast<uint64_t>(k.pid)); }
    };
    // The step at `at` of pid, or nullptr when no mapping holds it (not
    // cached: a later look at /proc may find one).
    const FrameStep* step_at_locked(pid_t pid, uint64_t at);
    // Mappings changed somewhere (steps found from the old ones may be
    // wrong), or a binary is about to enter the cache (and may push one out,
    // which no step may then hold on to).
    void forget_steps_locked() {
        steps_.clear();
        recent_steps_.fill({});
    }

    Options options_;
    std::mutex mutex_;
    LruCache<pid_t, std::vector<Module>> processes_;
    BinaryCache binaries_;
    std::unordered_map<StepKey, FrameStep, StepKeyHash> steps_;
    static constexpr size_t kMaxSteps = 65536;
    // Direct-mapped in front of steps_ (whose nodes never move while they
    // live): a closing site's few addresses come back with every event,
    // and the hash map's find was half of unwinding's cost.
    struct RecentStep {
        pid_t pid = 0;
        uint64_t at = 0;
        const FrameStep* step = nullptr;
    };
    std::array<RecentStep, 256> recent_steps_{};
};

}  // namespace whoclosed
