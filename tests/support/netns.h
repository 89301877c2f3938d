// Network namespaces, veth pairs and qdiscs that a kernel test creates for
// itself and always removes (RAII), even when an assertion fails.
#pragma once

#include <cstdint>
#include <string>

#include "support/sockets.h"

namespace whoclosed::testing {

uint64_t inode_of(const std::string& path);
uint64_t current_netns_inode();  // of the calling thread

// `ip netns add NAME` now, `ip netns del NAME` on destruction.
class NetNs {
public:
    explicit NetNs(std::string name);
    ~NetNs();
    NetNs(const NetNs&) = delete;
    NetNs& operator=(const NetNs&) = delete;

    const std::string& name() const { return name_; }
    std::string path() const { return "/run/netns/" + name_; }
    uint64_t inode() const { return inode_of(path()); }

private:
    std::string name_;
};

// A veth pair: `root_if` stays in the root namespace with root_cidr, `ns_if`
// moves into ns with ns_cidr; both up. Deleted on destruction.
class VethPair {
public:
    VethPair(const std::string& root_if, const std::string& ns_if, const NetNs& ns,
             const std::string& root_cidr, const std::string& ns_cidr);
    ~VethPair();
    VethPair(const VethPair&) = delete;
    VethPair& operator=(const VethPair&) = delete;

private:
    std::string root_if_;
};

// `tc qdisc add dev DEV root SPEC` (inside ns when not empty), removed on destruction.
class RootQdisc {
public:
    RootQdisc(const std::string& dev, const std::string& spec, const std::string& ns = "");
    ~RootQdisc();
    RootQdisc(const RootQdisc&) = delete;
    RootQdisc& operator=(const RootQdisc&) = delete;

private:
    std::string prefix_;
    std::string dev_;
};

// Moves the calling thread into a named netns; back to where it was on destruction.
// Sockets created meanwhile stay in that namespace.
class InNetNs {
public:
    explicit InNetNs(const std::string& name);
    ~InNetNs();
    InNetNs(const InNetNs&) = delete;
    InNetNs& operator=(const InNetNs&) = delete;

private:
    Fd home_;
};

// Runs cmd, throws with its output when it fails.
void must_run(const std::string& cmd);

}  // namespace whoclosed::testing
