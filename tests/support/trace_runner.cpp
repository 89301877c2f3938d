#include "support/trace_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace whoclosed::testing {

bool may_skip_kernel_tests() {
    const char* v = std::getenv("WHOCLOSED_REQUIRE_BPF");
    return !(v && std::string(v) == "1");
}

int run_shell(const std::string& cmd) {
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TraceRunner::TraceRunner(std::vector<std::string> args, std::vector<std::string> env) {
    char tmpl[] = "/tmp/whoclosed-test-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
    out_path_ = tmpl;
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");

    std::vector<std::string> argv = {WHOCLOSED_BINARY, "trace", "-o", out_path_};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ == 0) {
        dup2(errpipe[1], STDERR_FILENO);
        for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> cargv;
        for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
        cargv.push_back(nullptr);
        execv(cargv[0], cargv.data());
        _exit(127);
    }
    close(errpipe[1]);
    err_fd_ = errpipe[0];

    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{err_fd_, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) continue;
        ssize_t n = read(err_fd_, buf, sizeof(buf));
        if (n <= 0) break;  // the tracer exited before attaching
        stderr_.append(buf, static_cast<size_t>(n));
        if (stderr_.find("whoclosed: tracing") != std::string::npos) {
            started_ = true;
            return;
        }
    }
}

int TraceRunner::stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGINT);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    char buf[4096];
    ssize_t n;
    while ((n = read(err_fd_, buf, sizeof(buf))) > 0) stderr_.append(buf, static_cast<size_t>(n));
    close(err_fd_);
    err_fd_ = -1;

    std::ifstream in(out_path_);
    std::string line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line);  // a malformed line fails the test loudly
        if (j.at("type") == "close") events_.push_back(j);
        else if (j.at("type") == "summary") summary_ = j;
    }
    unlink(out_path_.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TraceRunner::~TraceRunner() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) close(err_fd_);
    if (!out_path_.empty()) unlink(out_path_.c_str());
}

std::vector<nlohmann::json> TraceRunner::events_for_port(int port) const {
    std::vector<nlohmann::json> out;
    for (const auto& e : events_)
        if (e.at("lport") == port || e.at("rport") == port) out.push_back(e);
    return out;
}

}  // namespace whoclosed::testing
