// The Go net/http peers GoPeers.cmake builds for e2e_tests, which alone
// defines WHOCLOSED_GO_*: include this from tests/e2e only.
#pragma once

#include <string>

#include "support/trace_runner.h"

namespace whoclosed::testing {

// Empty paths mean there was no Go toolchain at configure time.
inline bool go_peers_built() { return std::string(WHOCLOSED_GO_SERVER).size() > 0; }

}  // namespace whoclosed::testing

// Skips the test without the Go peers, or fails it under WHOCLOSED_REQUIRE_BPF=1.
#define REQUIRE_GO_PEERS() \
    WHOCLOSED_REQUIRE(::whoclosed::testing::go_peers_built(), "Go peers not built (no Go toolchain at configure time)")
