// nginx as a peer of the end-to-end suites: in the foreground, under a
// prefix of the test's own temp dir (config, pid file, logs), one worker,
// never the system's configuration.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace whoclosed::testing {

// True once /proc/net/tcp shows a listener on 127.0.0.1:`port`. Waiting
// this way, not by connecting, adds no connection of its own to a trace.
bool wait_for_listener(int port, std::chrono::milliseconds timeout);

struct NginxOptions {
    std::string keepalive_timeout = "1s";
    // Both set: `listen 127.0.0.1:port ssl` with this certificate and key (PEM files).
    std::string ssl_certificate;
    std::string ssl_certificate_key;
};

// nginx in the foreground on 127.0.0.1:port with its own prefix, config,
// pid file and logs in `dir`: one worker, no access log, keepalive_timeout
// 1s unless told, "ok\n" with status 200 for every path. Stopped with
// SIGTERM (the master stops its worker), then any process left is killed
// by its PID.
class Nginx {
public:
    Nginx(const std::string& dir, int port, const NginxOptions& options = {});
    ~Nginx();
    Nginx(const Nginx&) = delete;
    Nginx& operator=(const Nginx&) = delete;

    bool ready() const { return ready_; }
    std::string why_not_ready() const;  // nginx's stderr and error log
    pid_t master_pid() const { return master_->pid(); }
    const std::vector<pid_t>& workers() const { return workers_; }

private:
    std::string prefix_;
    std::optional<ChildProcess> master_;
    std::vector<pid_t> workers_;
    bool ready_ = false;
};

}  // namespace whoclosed::testing
