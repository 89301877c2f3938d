// Whole-file reads and the recorded trace of the report tests, shared by
// every suite. Header-only: unit_tests does not link tests/support/*.cpp.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace whoclosed::testing {

// Every byte of the file at `path`; "" when it cannot be read.
inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The seed case as `whoclosed trace` recorded it, with two malformed lines:
// the input of `whoclosed report` in the unit and end-to-end tests.
inline const std::string kReportFixture =
    std::string(WHOCLOSED_SOURCE_DIR) + "/tests/support/fixtures/report_seed.ndjson";

}  // namespace whoclosed::testing
