// `whoclosed report`: reads a trace's NDJSON (file or stdin), aggregates it
// as it streams, and renders tables, folded stacks or a flame graph.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/commands.h"
#include "cli/exit_codes.h"
#include "report/aggregate.h"
#include "report/flamegraph_svg.h"
#include "report/render.h"
#include "report/trace_reader.h"

namespace whoclosed {

namespace {

int fail(const std::string& what, const std::string& path, const std::string& reason) {
    std::cerr << "whoclosed: error: cannot " << what << ' ' << path << ": " << reason << '\n';
    return kExitFailure;
}

std::string render(const ReportOptions& opts, const ReportAggregate& agg, const ReadStats& st) {
    switch (opts.format) {
        case ReportFormat::Folded: return render_folded(agg.stacks());
        case ReportFormat::Svg: return render_flamegraph_svg(agg.stacks(), FlameGraphOptions{});
        case ReportFormat::Json: return render_json(agg.finish(opts.by, st));
        case ReportFormat::Html: return render_html(agg.finish(opts.by, st), agg.stacks());
        case ReportFormat::Text: break;
    }
    return render_text(agg.finish(opts.by, st));
}

int write_output(const ReportOptions& opts, const std::string& doc) {
    if (!opts.output) {
        std::cout << doc << std::flush;
        return std::cout ? kExitOk : fail("write", "stdout", std::strerror(errno));
    }
    std::ofstream out(*opts.output, std::ios::binary | std::ios::trunc);
    if (!out) return fail("write", *opts.output, std::strerror(errno));
    out << doc;
    out.close();
    return out ? kExitOk : fail("write", *opts.output, std::strerror(errno));
}

}  // namespace

int run_report(const ReportOptions& opts) {
    std::ios::sync_with_stdio(false);
    std::ifstream file;
    const bool from_stdin = opts.input == "-";
    if (!from_stdin) {
        std::error_code ec;
        if (std::filesystem::is_directory(opts.input, ec))
            return fail("read", opts.input, std::strerror(EISDIR));
        file.open(opts.input, std::ios::binary);
        if (!file) return fail("read", opts.input, std::strerror(errno));
    }
    std::istream& in = from_stdin ? std::cin : file;
    ReportAggregate agg;
    const ReadStats st = read_trace(in, std::cerr, [&](const TraceRecord& rec) { agg.add(rec); });
    if (st.read_error) return fail("read", from_stdin ? "stdin" : opts.input, std::strerror(errno));
    if (st.malformed)
        std::cerr << "whoclosed: report: " << st.malformed << " malformed line"
                  << (st.malformed == 1 ? "" : "s") << " skipped\n";
    return write_output(opts, render(opts, agg, st));
}

}  // namespace whoclosed
