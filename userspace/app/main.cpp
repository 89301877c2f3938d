// Entry point: parse the command line, dispatch to one subcommand. Inside,
// errors are values; this is the one edge where an escaped exception becomes
// a message and exit code 1.
#include <exception>
#include <iostream>

#include "app/commands.h"
#include "cli/exit_codes.h"
#include "cli/options.h"

namespace {

int dispatch(const whoclosed::ParseOutcome& parsed) {
    using whoclosed::Command;
    switch (*parsed.command) {
        case Command::Trace: return whoclosed::run_trace(parsed.trace());
        case Command::Report: return whoclosed::run_report(parsed.report());
        case Command::Check: return whoclosed::run_check(parsed.check());
        case Command::Demo: return whoclosed::run_demo(parsed.demo());
    }
    return whoclosed::kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const whoclosed::ParseOutcome parsed = whoclosed::parse_command_line(argc, argv);
        std::cout << parsed.out_text << std::flush;
        std::cerr << parsed.err_text << std::flush;
        if (!parsed.command) return parsed.exit_code;
        return dispatch(parsed);
    } catch (const std::exception& e) {
        std::cerr << "whoclosed: error: " << e.what() << '\n';
    } catch (...) {
        std::cerr << "whoclosed: error: unexpected exception\n";
    }
    return whoclosed::kExitFailure;
}
