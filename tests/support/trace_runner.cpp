#include "support/trace_runner.h"

#include "support/sockets.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
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

    std::vector<std::string> argv = {WHOCLOSED_BINARY, "trace", "-o", out_path_};
    argv.insert(argv.end(), args.begin(), args.end());
    tracer_.emplace(std::move(argv), std::move(env));
    // False also when the tracer exited before attaching: stderr says why.
    started_ = tracer_->wait_for_stderr("whoclosed: tracing", std::chrono::seconds(30));
}

int TraceRunner::stop() {
    if (!tracer_->running()) return -1;
    int status = tracer_->stop(SIGINT, std::chrono::seconds(30));

    {
        std::ifstream raw(out_path_, std::ios::binary);
        output_text_.assign(std::istreambuf_iterator<char>(raw), std::istreambuf_iterator<char>());
    }
    std::istringstream in(output_text_);
    std::string line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line);  // a malformed line fails the test loudly
        if (j.at("type") == "close") events_.push_back(j);
        else if (j.at("type") == "summary") summary_ = j;
    }
    unlink(out_path_.c_str());
    return status;
}

TraceRunner::~TraceRunner() {
    tracer_.reset();  // kills a tracer still running before its output goes
    if (!out_path_.empty()) unlink(out_path_.c_str());
}

std::vector<nlohmann::json> TraceRunner::events_for_port(int port) const {
    std::vector<nlohmann::json> out;
    for (const auto& e : events_)
        if (e.at("lport") == port || e.at("rport") == port) out.push_back(e);
    return out;
}

AcceptHooksLoaded accept_hooks_loaded() {
    AcceptHooksLoaded h;
    h.listed = run_capture("bpftool prog show", h.listing) == 0;
    const auto has = [&](const char* name) { return h.listing.find(name) != std::string::npos; };
    h.fexit = has("name fexit_accept");
    h.cgroup = has("name cg_peer_named4") && has("name cg_peer_named6");
    h.syscall = has("name btf_exit_accept4");
    return h;
}

}  // namespace whoclosed::testing
