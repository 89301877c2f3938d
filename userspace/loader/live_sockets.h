// The TCP sockets the kernel holds in this process's network namespace, by
// socket cookie, read with sock_diag (NETLINK_SOCK_DIAG): full sockets,
// request sockets and timewait sockets, IPv4 and IPv6.
#pragma once

#include <optional>
#include <string>

#include "correlate/stale_records.h"

namespace whoclosed {

// nullopt (with `error` saying why) when the dump failed part-way: a partial
// answer would make live sockets look gone.
std::optional<LiveSockets> dump_live_tcp_sockets(std::string& error);

// Inode of this process's network namespace (the netns value of records), or 0.
uint64_t own_netns_inode();

}  // namespace whoclosed
