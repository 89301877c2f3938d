// Builds close_record values for tests, the way the kernel side fills them.
#pragma once

#include <arpa/inet.h>

#include <cstring>
#include <initializer_list>
#include <string_view>

#include "whoclosed.h"

namespace test_support {

inline close_record make_record(std::initializer_list<unsigned char> states, unsigned flags = 0) {
    close_record r;
    std::memset(&r, 0, sizeof r);
    r.family = AF_INET;
    r.flags = flags;
    for (unsigned char s : states) r.states[r.nstates++] = s;
    return r;
}

// family: AF_INET or AF_INET6; addresses in inet_pton form.
inline void set_addrs(close_record& r, int family, const char* local, unsigned short lport, const char* remote,
                      unsigned short rport) {
    r.family = static_cast<unsigned short>(family);
    inet_pton(family, local, r.saddr);
    inet_pton(family, remote, r.daddr);
    r.sport = lport;
    r.dport = rport;
}

// Copies exactly the bytes given (up to 16, no terminator added if 16).
inline void set_comm(char (&dst)[WC_COMM_LEN], std::string_view bytes) {
    std::memset(dst, 0, WC_COMM_LEN);
    std::memcpy(dst, bytes.data(), bytes.size() < WC_COMM_LEN ? bytes.size() : WC_COMM_LEN);
}

}  // namespace test_support
