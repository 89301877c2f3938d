#include "support/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace whoclosed::testing {

void must_run(const std::string& cmd) {
    std::string out;
    if (run_capture(cmd, out) != 0) throw std::runtime_error("`" + cmd + "` failed: " + out);
}

namespace {
void best_effort(const std::string& cmd) {
    std::string out;
    run_capture(cmd, out);
}
}  // namespace

uint64_t inode_of(const std::string& path) {
    struct stat st{};
    if (stat(path.c_str(), &st) != 0)
        throw std::runtime_error("stat " + path + ": " + std::strerror(errno));
    return st.st_ino;
}

uint64_t current_netns_inode() { return inode_of("/proc/thread-self/ns/net"); }

NetNs::NetNs(std::string name) : name_(std::move(name)) {
    best_effort("ip netns del " + name_);  // left over by a crashed run
    must_run("ip netns add " + name_);
    must_run("ip -n " + name_ + " link set lo up");
}

NetNs::~NetNs() { best_effort("ip netns del " + name_); }

VethPair::VethPair(const std::string& root_if, const std::string& ns_if, const NetNs& ns,
                   const std::string& root_cidr, const std::string& ns_cidr)
    : root_if_(root_if) {
    best_effort("ip link del " + root_if_);
    must_run("ip link add " + root_if + " type veth peer name " + ns_if);
    try {
        must_run("ip link set " + ns_if + " netns " + ns.name());
        must_run("ip addr add " + root_cidr + " dev " + root_if);
        must_run("ip link set " + root_if + " up");
        must_run("ip -n " + ns.name() + " addr add " + ns_cidr + " dev " + ns_if);
        must_run("ip -n " + ns.name() + " link set " + ns_if + " up");
    } catch (...) {
        best_effort("ip link del " + root_if_);
        throw;
    }
}

VethPair::~VethPair() { best_effort("ip link del " + root_if_); }

RootQdisc::RootQdisc(const std::string& dev, const std::string& spec, const std::string& ns)
    : prefix_(ns.empty() ? "" : "ip netns exec " + ns + " "), dev_(dev) {
    must_run(prefix_ + "tc qdisc add dev " + dev + " root " + spec);
}

RootQdisc::~RootQdisc() { best_effort(prefix_ + "tc qdisc del dev " + dev_ + " root"); }

InNetNs::InNetNs(const std::string& name) : home_(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    if (!home_) throw std::runtime_error("open own netns failed");
    Fd target(open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC));
    if (!target || setns(target.get(), CLONE_NEWNET) != 0)
        throw std::runtime_error("setns " + name + ": " + std::strerror(errno));
}

InNetNs::~InNetNs() { setns(home_.get(), CLONE_NEWNET); }

}  // namespace whoclosed::testing
