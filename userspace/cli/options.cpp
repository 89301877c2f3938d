#include "cli/options.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string_view>

#include <CLI/CLI.hpp>

#include "cli/exit_codes.h"
#include "whoclosed.h"

namespace whoclosed {

const char* to_string(HttpMode m) {
    switch (m) {
        case HttpMode::Auto: return "auto";
        case HttpMode::Syscall: return "syscall";
        case HttpMode::Uprobe: return "uprobe";
        case HttpMode::Off: return "off";
    }
    return "auto";
}

const char* to_string(ReportBy b) {
    switch (b) {
        case ReportBy::Closer: return "closer";
        case ReportBy::Owner: return "owner";
        case ReportBy::Port: return "port";
        case ReportBy::Peer: return "peer";
        case ReportBy::Reason: return "reason";
    }
    return "closer";
}

const char* to_string(ReportFormat f) {
    switch (f) {
        case ReportFormat::Text: return "text";
        case ReportFormat::Json: return "json";
        case ReportFormat::Folded: return "folded";
        case ReportFormat::Svg: return "svg";
        case ReportFormat::Html: return "html";
    }
    return "text";
}

namespace {

// Our own validation failures; CLI11's are CLI::ParseError. Both become exit 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void bad_value(std::string_view flag, std::string_view value, std::string_view want) {
    throw UsageError(std::string(flag) + ": '" + std::string(value) + "' is not " + std::string(want));
}

// Strict decimal: no sign, no spaces, no trailing junk, no overflow.
uint64_t parse_uint(std::string_view flag, std::string_view s, uint64_t lo, uint64_t hi,
                    std::string_view want) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
        bad_value(flag, s, want);
    return v;
}

double parse_positive_seconds(std::string_view flag, std::string_view s) {
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v <= 0)
        bad_value(flag, s, "a positive number of seconds");
    return v;
}

// Maps a word to an enum from a fixed table; the error lists the choices.
template <typename E, size_t N>
E parse_choice(std::string_view flag, std::string_view s, const std::pair<const char*, E> (&table)[N]) {
    std::string choices;
    for (const auto& [name, value] : table) {
        if (s == name) return value;
        choices += choices.empty() ? "" : "|";
        choices += name;
    }
    bad_value(flag, s, "one of " + choices);
}

constexpr std::pair<const char*, HttpMode> kHttpModes[] = {
    {"auto", HttpMode::Auto}, {"syscall", HttpMode::Syscall},
    {"uprobe", HttpMode::Uprobe}, {"off", HttpMode::Off}};
constexpr std::pair<const char*, ReportBy> kReportBy[] = {
    {"closer", ReportBy::Closer}, {"owner", ReportBy::Owner}, {"port", ReportBy::Port},
    {"peer", ReportBy::Peer}, {"reason", ReportBy::Reason}};
constexpr std::pair<const char*, ReportFormat> kReportFormats[] = {
    {"text", ReportFormat::Text}, {"json", ReportFormat::Json}, {"folded", ReportFormat::Folded},
    {"svg", ReportFormat::Svg}, {"html", ReportFormat::Html}};

// CLI11 only collects strings; the typed checks above give messages that name
// the flag and say what was expected, which CLI11's conversion errors do not.
struct TraceArgs {
    std::string pid, comm, cgroup, netns, output, duration, count, http, report;
    std::vector<std::string> ports;
    bool no_stacks = false, text = false;
    CLI::Option *o_pid{}, *o_comm{}, *o_cgroup{}, *o_netns{}, *o_output{}, *o_duration{}, *o_count{},
        *o_http{}, *o_report{};

    void attach(CLI::App& sub) {
        o_pid = sub.add_option("--pid", pid, "only sockets owned or closed by this PID")
                    ->type_name("PID");
        o_comm = sub.add_option("--comm", comm, "only sockets owned or closed by this command name (max 15 chars)")
                     ->type_name("NAME");
        sub.add_option("--port", ports, "local or remote port; repeatable, or comma-separated (max 16)")
            ->type_name("PORT")
            ->delimiter(',')
            ->allow_extra_args(false);
        o_cgroup = sub.add_option("--cgroup", cgroup, "only sockets of tasks in this cgroup (path)")
                       ->type_name("PATH");
        o_netns = sub.add_option("--netns", netns, "network namespace inode, or 'all' (default: all)")
                      ->type_name("INODE|all");
        o_output = sub.add_option("-o,--output", output, "write events to FILE instead of stdout")
                       ->type_name("FILE");
        o_duration = sub.add_option("--duration", duration, "stop after S seconds")->type_name("S");
        o_count = sub.add_option("--count", count, "stop after N close events")->type_name("N");
        o_http = sub.add_option("--http", http, "HTTP capture: auto|syscall|uprobe|off (default: auto)")
                     ->type_name("MODE");
        sub.add_flag("--no-stacks", no_stacks, "do not capture kernel/user stacks of the closer");
        sub.add_flag("--text", text, "one human-readable line per close instead of NDJSON");
        o_report = sub.add_option("--report", report, "when tracing ends, write the HTML report to FILE")
                       ->type_name("FILE.html");
    }

    TraceOptions validate() const {
        TraceOptions t;
        if (o_pid->count()) t.pid = static_cast<uint32_t>(parse_uint("--pid", pid, 1, UINT32_MAX, "a PID"));
        if (o_comm->count()) {
            if (comm.empty() || comm.size() >= WC_COMM_LEN)
                bad_value("--comm", comm, "a command name of 1 to 15 bytes");
            t.comm = comm;
        }
        if (ports.size() > WC_MAX_PORT_FILTERS)
            throw UsageError("--port: at most " + std::to_string(WC_MAX_PORT_FILTERS) + " ports");
        for (const auto& p : ports)
            t.ports.push_back(static_cast<uint16_t>(parse_uint("--port", p, 1, 65535, "a port (1-65535)")));
        if (o_cgroup->count()) {
            if (cgroup.empty()) bad_value("--cgroup", cgroup, "a cgroup path");
            t.cgroup = cgroup;
        }
        if (o_netns->count() && netns != "all")
            t.netns = parse_uint("--netns", netns, 1, UINT64_MAX, "a namespace inode or 'all'");
        if (o_output->count()) t.output = output;
        if (o_duration->count()) t.duration = parse_positive_seconds("--duration", duration);
        if (o_count->count()) t.count = parse_uint("--count", count, 1, UINT64_MAX, "a count >= 1");
        if (o_http->count()) t.http = parse_choice("--http", http, kHttpModes);
        if (o_report->count()) {
            if (report.empty()) bad_value("--report", report, "a file name");
            t.report_html = report;
        }
        t.no_stacks = no_stacks;
        t.text = text;
        return t;
    }
};

struct ReportArgs {
    std::string input = "-", by, format, output;
    CLI::Option *o_by{}, *o_format{}, *o_output{};

    void attach(CLI::App& sub) {
        sub.add_option("-i,--input", input, "NDJSON from 'whoclosed trace', or - for stdin (default: -)")
            ->type_name("FILE|-");
        o_by = sub.add_option("--by", by, "group by closer|owner|port|peer|reason (default: closer)")
                   ->type_name("KEY");
        o_format = sub.add_option("--format", format, "text|json|folded|svg|html (default: text)")
                       ->type_name("FORMAT");
        o_output = sub.add_option("-o,--output", output, "write the report to FILE instead of stdout")
                       ->type_name("FILE");
    }

    ReportOptions validate() const {
        ReportOptions r;
        if (input.empty()) bad_value("--input", input, "a file name or -");
        r.input = input;
        if (o_by->count()) r.by = parse_choice("--by", by, kReportBy);
        if (o_format->count()) r.format = parse_choice("--format", format, kReportFormats);
        if (o_output->count()) r.output = output;
        return r;
    }
};

ParseOutcome usage_error(const std::string& message, const std::string& sub) {
    ParseOutcome out;
    out.exit_code = kExitUsage;
    const std::string help = sub.empty() ? "whoclosed --help" : "whoclosed " + sub + " --help";
    out.err_text = "whoclosed: error: " + message + " (try '" + help + "')\n";
    return out;
}

// The CLI11 app and the strings it fills; CLI11 keeps pointers into this
// object, so it is built in place and never moved.
struct CommandLine {
    CLI::App app{"whoclosed: who closed this TCP connection? One NDJSON event per closed TCP socket.",
                 "whoclosed"};
    bool version = false;
    TraceArgs trace_args;
    ReportArgs report_args;
    DemoOptions demo;
    CLI::App* trace = app.add_subcommand("trace", "trace TCP closes and print one JSON object per closed socket");
    CLI::App* report =
        app.add_subcommand("report", "summarize NDJSON from 'trace': tables, folded stacks, flame graphs");
    CLI::App* check = app.add_subcommand("check", "probe the kernel and say whether and how 'trace' can run");
    CLI::App* demo_cmd = app.add_subcommand("demo", "trace a loopback HTTP keep-alive close and explain it");

    CommandLine() {
        app.add_flag("--version", version, "print the version and exit");
        app.require_subcommand(0, 1);  // a missing command is reported by outcome(), with the list
        trace_args.attach(*trace);
        report_args.attach(*report);
        demo_cmd->add_flag("--text", demo.text, "print human-readable lines instead of NDJSON");
    }
    CommandLine(const CommandLine&) = delete;
    CommandLine& operator=(const CommandLine&) = delete;

    std::string selected() const {
        for (const CLI::App* sub : {trace, report, check, demo_cmd})
            if (sub->parsed()) return sub->get_name();
        return {};
    }

    // After a successful CLI11 parse: the typed options, or our own usage error.
    ParseOutcome outcome() const {
        ParseOutcome out;
        if (version) {
            out.out_text = "whoclosed " WHOCLOSED_VERSION "\n";
        } else if (trace->parsed()) {
            out.options = trace_args.validate();
            out.command = Command::Trace;
        } else if (report->parsed()) {
            out.options = report_args.validate();
            out.command = Command::Report;
        } else if (check->parsed()) {
            out.options = CheckOptions{};
            out.command = Command::Check;
        } else if (demo_cmd->parsed()) {
            out.options = demo;
            out.command = Command::Demo;
        } else {
            return usage_error("a command is required: trace, report, check or demo", "");
        }
        return out;
    }
};

}  // namespace

ParseOutcome parse_command_line(int argc, const char* const* argv) {
    CommandLine cl;
    try {
        cl.app.parse(argc, argv);
        return cl.outcome();
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {  // --help: CLI11 signals it as an "error" with code 0
            ParseOutcome out;
            out.out_text = cl.app.help();  // the selected subcommand's help, if any
            return out;
        }
        return usage_error(e.what(), cl.selected());
    } catch (const UsageError& e) {
        return usage_error(e.what(), cl.selected());
    }
}

}  // namespace whoclosed
