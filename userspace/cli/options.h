// The whole command line as plain structs, parsed by a pure function so that
// every flag and exit code is unit-testable without a kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#ifndef WHOCLOSED_VERSION
#define WHOCLOSED_VERSION "0.1.0"
#endif

namespace whoclosed {

enum class HttpMode { Auto, Syscall, Uprobe, Off };
enum class ReportBy { Closer, Owner, Port, Peer, Reason };
enum class ReportFormat { Text, Json, Folded, Svg, Html };

const char* to_string(HttpMode m);
const char* to_string(ReportBy b);
const char* to_string(ReportFormat f);

struct TraceOptions {
    std::optional<uint32_t> pid;         // owner or closer
    std::optional<std::string> comm;     // at most 15 bytes, like the kernel's comm
    std::vector<uint16_t> ports;         // local or remote; at most WC_MAX_PORT_FILTERS
    std::optional<std::string> cgroup;   // path, as given
    std::optional<uint64_t> netns;       // inode; nullopt = all namespaces
    std::optional<std::string> output;   // -o FILE; nullopt = stdout
    std::optional<double> duration;      // seconds, > 0
    std::optional<uint64_t> count;       // stop after N close events, >= 1
    HttpMode http = HttpMode::Auto;
    bool no_stacks = false;
    bool text = false;
    std::optional<std::string> report_html;  // --report FILE: HTML report when tracing ends
};

struct ReportOptions {
    std::string input = "-";             // "-" = stdin
    ReportBy by = ReportBy::Closer;
    ReportFormat format = ReportFormat::Text;
    std::optional<std::string> output;   // nullopt = stdout
};

struct CheckOptions {};

struct DemoOptions {
    bool text = false;
};

enum class Command { Trace, Report, Check, Demo };

// Either a command to run (command set, options holds the matching struct) or
// a finished parse (help, version, usage error): print out_text to stdout,
// err_text to stderr and exit with exit_code.
struct ParseOutcome {
    std::optional<Command> command;
    std::variant<std::monostate, TraceOptions, ReportOptions, CheckOptions, DemoOptions> options;
    int exit_code = 0;
    std::string out_text;
    std::string err_text;

    const TraceOptions& trace() const { return std::get<TraceOptions>(options); }
    const ReportOptions& report() const { return std::get<ReportOptions>(options); }
    const CheckOptions& check() const { return std::get<CheckOptions>(options); }
    const DemoOptions& demo() const { return std::get<DemoOptions>(options); }
};

ParseOutcome parse_command_line(int argc, const char* const* argv);

}  // namespace whoclosed
