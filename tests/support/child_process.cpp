#include "support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace whoclosed::testing {

ChildProcess::ChildProcess(std::vector<std::string> argv, std::vector<std::string> env) {
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        dup2(errpipe[1], STDERR_FILENO);
        for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> cargv;
        for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
        cargv.push_back(nullptr);
        execvp(cargv[0], cargv.data());
        _exit(127);
    }
    close(errpipe[1]);
    err_fd_ = errpipe[0];
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) close(err_fd_);
}

void ChildProcess::drain_stderr(int timeout_ms) {
    if (err_fd_ < 0) return;
    pollfd p{err_fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return;
    char buf[4096];
    ssize_t n = read(err_fd_, buf, sizeof(buf));
    if (n > 0) {
        stderr_.append(buf, static_cast<size_t>(n));
    } else {
        close(err_fd_);  // EOF: the child (and anything it forked) closed stderr
        err_fd_ = -1;
    }
}

bool ChildProcess::reap(bool block, int* status) {
    if (pid_ <= 0) return true;
    if (waitpid(pid_, status, block ? 0 : WNOHANG) == pid_) {
        pid_ = -1;
        return true;
    }
    return false;
}

bool ChildProcess::wait_for_stderr(std::string_view needle, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (stderr_.find(needle) == std::string::npos) {
        if (std::chrono::steady_clock::now() >= deadline || err_fd_ < 0) return false;
        drain_stderr(100);
    }
    return true;
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (!reap(false, &status)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            kill(pid_, SIGKILL);
            reap(true, &status);
            return -1;
        }
        drain_stderr(20);  // also keeps a chatty child from blocking on a full pipe
    }
    // Bounded: a grandchild could still hold stderr open.
    for (int i = 0; i < 10 && err_fd_ >= 0; ++i) drain_stderr(100);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ChildProcess::stop(int sig, std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    return wait(timeout);
}

TempDir::TempDir() {
    char tmpl[] = "/tmp/whoclosed-e2e-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace whoclosed::testing
