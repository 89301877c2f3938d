// A child process owned by a test: started with execvp, stdout discarded,
// stderr captured, and always reaped. The destructor SIGKILLs it if it is
// still running, so an early ASSERT never leaves a peer or tcpdump behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace whoclosed::testing {

class ChildProcess {
public:
    // argv[0] is looked up in PATH; env entries ("K=V") are added to ours.
    explicit ChildProcess(std::vector<std::string> argv, std::vector<std::string> env = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }
    // Reads stderr until it contains `needle`; false on timeout or exit.
    bool wait_for_stderr(std::string_view needle, std::chrono::milliseconds timeout);
    // Waits for the exit; SIGKILLs it past `timeout`. Returns the exit code,
    // 128+signal if a signal ended it, or -1 if it had to be killed.
    int wait(std::chrono::milliseconds timeout);
    // Sends `sig`, then wait(timeout).
    int stop(int sig, std::chrono::milliseconds timeout);
    const std::string& stderr_text() const { return stderr_; }

private:
    void drain_stderr(int timeout_ms);
    bool reap(bool block, int* status);

    pid_t pid_ = -1;
    int err_fd_ = -1;
    std::string stderr_;
};

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace whoclosed::testing
