// Entry points of the subcommands; main.cpp parses the command line (CLI11)
// and dispatches here. Each returns the process exit code (see exit_codes.h).
#pragma once

#include "cli/options.h"

namespace whoclosed {

int run_trace(const TraceOptions& opts);
int run_check(const CheckOptions& opts);
int run_demo(const DemoOptions& opts);
int run_report(const ReportOptions& opts);

}  // namespace whoclosed
