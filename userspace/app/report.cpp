// `whoclosed report`: tables and flame graphs from a trace. Rendering lands
// with the report issue; until then the command says so and fails cleanly.
#include <iostream>

#include "app/commands.h"
#include "cli/exit_codes.h"

namespace whoclosed {

int run_report(const ReportOptions&) {
    std::cerr << "whoclosed: error: `report` is not available in this build yet; "
                 "use `jq` on the NDJSON from `trace` meanwhile\n";
    return kExitFailure;
}

}  // namespace whoclosed
