// Runs the real `whoclosed trace` binary as a child process for the kernel
// and end-to-end suites: waits for its "whoclosed: tracing" line, stops it
// with SIGINT and parses every NDJSON line it wrote.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "support/child_process.h"

namespace whoclosed::testing {

// True when the suite may skip for lack of root/BPF; false under
// WHOCLOSED_REQUIRE_BPF=1, where a would-be skip must fail instead.
bool may_skip_kernel_tests();

// GTEST_SKIP or FAIL, as may_skip_kernel_tests() decides, when not root.
#define WHOCLOSED_REQUIRE_ROOT()                                                        \
    do {                                                                                \
        if (geteuid() != 0) {                                                           \
            if (::whoclosed::testing::may_skip_kernel_tests())                          \
                GTEST_SKIP() << "needs root (CAP_BPF, CAP_PERFMON)";                     \
            FAIL() << "needs root, and WHOCLOSED_REQUIRE_BPF=1 forbids skipping";       \
        }                                                                               \
    } while (0)

// GTEST_SKIP or FAIL, as may_skip_kernel_tests() decides, when something the
// test needs (a peer program, a browser) is not `available`; `why` says what.
#define WHOCLOSED_REQUIRE(available, why)                                               \
    do {                                                                                \
        if (!(available)) {                                                             \
            if (::whoclosed::testing::may_skip_kernel_tests()) GTEST_SKIP() << (why);   \
            FAIL() << (why) << ", and WHOCLOSED_REQUIRE_BPF=1 forbids skipping";        \
        }                                                                               \
    } while (0)

class TraceRunner {
public:
    // Starts `whoclosed trace -o <tmpfile> ARGS...`; returns once it printed
    // "whoclosed: tracing" (or died: then started() is false and stderr() says why).
    explicit TraceRunner(std::vector<std::string> args, std::vector<std::string> env = {});
    ~TraceRunner();
    TraceRunner(const TraceRunner&) = delete;
    TraceRunner& operator=(const TraceRunner&) = delete;

    bool started() const { return started_; }
    pid_t pid() const { return tracer_->pid(); }
    // Waits until the tracer's stderr contains `needle` (e.g. a probe it reports).
    bool wait_for_stderr(std::string_view needle, std::chrono::milliseconds timeout) {
        return tracer_->wait_for_stderr(needle, timeout);
    }
    // SIGINT, wait for exit, parse the output. Returns the exit status.
    int stop();
    const std::vector<nlohmann::json>& events() const { return events_; }  // type "close"
    const nlohmann::json& summary() const { return summary_; }             // type "summary"
    // Every byte the tracer wrote to its output file, as stop() found it.
    const std::string& output_text() const { return output_text_; }
    // The file the tracer writes to (gone after stop()).
    const std::string& output_path() const { return out_path_; }
    const std::string& stderr_text() const { return tracer_->stderr_text(); }
    // Close events whose lport or rport is `port`.
    std::vector<nlohmann::json> events_for_port(int port) const;

private:
    std::optional<ChildProcess> tracer_;  // always engaged after the constructor
    bool started_ = false;
    std::string out_path_;
    std::vector<nlohmann::json> events_;
    nlohmann::json summary_;
    std::string output_text_;
};

// Runs a command line through /bin/sh; returns its exit status.
int run_shell(const std::string& cmd);

// The accept hooks among the BPF programs the kernel lists now (`bpftool prog
// show`): how a running tracer learns acceptors, independent of what
// whoclosed says about itself. `listing` is bpftool's output, for messages.
struct AcceptHooksLoaded {
    bool listed = false;  // bpftool ran
    bool fexit = false, cgroup = false, syscall = false;
    std::string listing;
    int count() const { return int(fexit) + int(cgroup) + int(syscall); }
};
AcceptHooksLoaded accept_hooks_loaded();

}  // namespace whoclosed::testing
