// Turns one validated close_record into the user-facing CloseEvent: wall
// clock, printable addresses, verdict, owner/closer with cgroup paths, and
// the inferred reason. Pure apart from the injected CgroupResolver.
#pragma once

#include <cstdint>
#include <string>

#include "correlate/cgroup_resolver.h"
#include "correlate/close_event.h"
#include "correlate/http_heads.h"
#include "whoclosed.h"

namespace whoclosed {

// CLOCK_REALTIME - CLOCK_BOOTTIME now, in ns: add it to a BPF timestamp
// (bpf_ktime_get_boot_ns) to get Unix time. Sample it once at startup.
int64_t boot_to_unix_offset_ns();

// Printable form of a NUL-padded kernel comm that may lack the terminator.
std::string comm_from_kernel(const char (&comm)[WC_COMM_LEN]);

// inet_ntop of the first 4 (AF_INET) or 16 (AF_INET6) bytes.
std::string format_address(const unsigned char (&addr)[16], unsigned short family);

class Correlator {
public:
    Correlator(int64_t boot_to_unix_ns, CgroupResolver& cgroups)
        : boot_to_unix_ns_(boot_to_unix_ns), cgroups_(cgroups) {}

    // `http`: the heads the kernel kept for this socket, if it carried HTTP.
    CloseEvent build(const close_record& rec, const http_record* http = nullptr);

private:
    int64_t boot_to_unix_ns_;
    CgroupResolver& cgroups_;
    HttpHeadsParser http_parser_;
};

}  // namespace whoclosed
