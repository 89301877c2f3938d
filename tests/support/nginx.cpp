#include "support/nginx.h"

#include <signal.h>
#include <stdio.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace whoclosed::testing {

using namespace std::chrono_literals;

bool wait_for_listener(int port, std::chrono::milliseconds timeout) {
    char want[32];
    snprintf(want, sizeof(want), "0100007F:%04X", port);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream tcp("/proc/net/tcp");
        std::string line;
        std::getline(tcp, line);  // header
        while (std::getline(tcp, line)) {
            std::istringstream f(line);
            std::string sl, local, remote, state;
            f >> sl >> local >> remote >> state;
            if (local == want && state == "0A") return true;
        }
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

namespace {

std::vector<pid_t> children_of(pid_t pid) {
    std::vector<pid_t> out;
    std::ifstream f("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    pid_t child;
    while (f >> child) out.push_back(child);
    return out;
}

bool is_nginx(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/comm");
    std::string comm;
    std::getline(f, comm);
    return comm == "nginx";
}

}  // namespace

Nginx::Nginx(const std::string& dir, int port, const NginxOptions& options) : prefix_(dir + "/nginx") {
    const bool tls = !options.ssl_certificate.empty() && !options.ssl_certificate_key.empty();
    std::filesystem::create_directories(prefix_ + "/logs");
    std::ofstream conf(prefix_ + "/nginx.conf");
    conf << "worker_processes 1;\n"
            "daemon off;\n"
            "pid " << prefix_ << "/nginx.pid;\n"
            "error_log " << prefix_ << "/logs/error.log;\n"
            "events { worker_connections 64; }\n"
            "http {\n"
            "  access_log off;\n"
            "  client_body_temp_path " << prefix_ << "/body;\n"
            "  proxy_temp_path " << prefix_ << "/proxy;\n"
            "  fastcgi_temp_path " << prefix_ << "/fastcgi;\n"
            "  uwsgi_temp_path " << prefix_ << "/uwsgi;\n"
            "  scgi_temp_path " << prefix_ << "/scgi;\n"
            "  keepalive_timeout " << options.keepalive_timeout << ";\n"
            "  server {\n"
            "    listen 127.0.0.1:" << port << (tls ? " ssl" : "") << ";\n";
    if (tls) {
        conf << "    ssl_certificate " << options.ssl_certificate << ";\n"
                "    ssl_certificate_key " << options.ssl_certificate_key << ";\n";
    }
    conf << "    location / { return 200 \"ok\\n\"; }\n"
            "  }\n"
            "}\n";
    conf.close();
    master_.emplace(std::vector<std::string>{"nginx", "-p", prefix_ + "/", "-e", prefix_ + "/logs/error.log", "-c",
                                             prefix_ + "/nginx.conf"});
    ready_ = wait_for_listener(port, 10s);
    workers_ = children_of(master_->pid());
}

Nginx::~Nginx() {
    master_->stop(SIGTERM, 5s);
    for (pid_t w : workers_)
        if (kill(w, 0) == 0 && is_nginx(w)) kill(w, SIGKILL);
}

std::string Nginx::why_not_ready() const {
    std::ifstream log(prefix_ + "/logs/error.log");
    std::stringstream s;
    s << master_->stderr_text() << log.rdbuf();
    return s.str();
}

}  // namespace whoclosed::testing
