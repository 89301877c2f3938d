// `whoclosed report` from a shell: input from a file or stdin, -o, formats,
// exit codes and what goes to stderr. Runs the real binary, no kernel.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "../support/file_text.h"

namespace {

using ::whoclosed::testing::slurp;
using ::whoclosed::testing::kReportFixture;

struct Outcome {
    int code = -1;
    std::string out, err;
};

Outcome run(const std::string& args, const std::string& stdin_from = "/dev/null") {
    // Per process: ctest -j runs these tests side by side.
    const std::string base = ::testing::TempDir() + "report_cli_" + std::to_string(getpid());
    const std::string out = base + "_out";
    const std::string err = base + "_err";
    const std::string cmd = std::string(WHOCLOSED_BINARY) + " report " + args + " <" + stdin_from +
                            " >" + out + " 2>" + err;
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

TEST(ReportCli, TextFromFileMatchesGolden) {
    const Outcome r = run("-i " + kReportFixture);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, slurp(std::string(WHOCLOSED_SOURCE_DIR) + "/tests/unit/golden/report_seed.txt"));
    EXPECT_NE(r.err.find("line 7: skipped"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("line 13: skipped"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("2 malformed lines skipped"), std::string::npos) << r.err;
}

TEST(ReportCli, FoldedFromStdin) {
    const Outcome r = run("--format folded", kReportFixture);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, slurp(std::string(WHOCLOSED_SOURCE_DIR) + "/tests/unit/golden/report_seed.folded"));
    EXPECT_EQ(run("-i - --format folded", kReportFixture).out, r.out);
}

TEST(ReportCli, JsonToFile) {
    const std::string path = ::testing::TempDir() + "report_cli_" + std::to_string(getpid()) + ".json";
    std::remove(path.c_str());
    const Outcome r = run("-i " + kReportFixture + " --format json --by peer -o " + path);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(r.out.empty());
    const auto j = nlohmann::json::parse(slurp(path));
    EXPECT_EQ(j["by"], "peer");
    EXPECT_EQ(j["tables"]["peer"][0]["key"], "127.0.0.1");
}

TEST(ReportCli, SvgAndHtmlFormats) {
    const Outcome svg = run("-i " + kReportFixture + " --format svg");
    EXPECT_EQ(svg.code, 0);
    EXPECT_EQ(svg.out.rfind("<?xml", 0), 0u);
    const Outcome html = run("-i " + kReportFixture + " --format html");
    EXPECT_EQ(html.code, 0);
    EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0u);
}

TEST(ReportCli, UnreadableInputExitsOneNamingTheFile) {
    const Outcome missing = run("-i /nonexistent/trace.ndjson");
    EXPECT_EQ(missing.code, 1);
    EXPECT_TRUE(missing.out.empty());
    EXPECT_NE(missing.err.find("/nonexistent/trace.ndjson: No such file or directory"), std::string::npos)
        << missing.err;
    const Outcome dir = run("-i /tmp");
    EXPECT_EQ(dir.code, 1);
    EXPECT_NE(dir.err.find("/tmp: Is a directory"), std::string::npos) << dir.err;
}

TEST(ReportCli, UnwritableOutputExitsOne) {
    const Outcome r = run("-i " + kReportFixture + " -o /nonexistent/dir/report.txt");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("/nonexistent/dir/report.txt"), std::string::npos) << r.err;
}

TEST(ReportCli, UsageErrorExitsTwo) {
    EXPECT_EQ(run("--format pdf").code, 2);
    EXPECT_EQ(run("--by colour").code, 2);
}

TEST(ReportCli, EmptyStdinIsAnEmptyReport) {
    const Outcome r = run("");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("No close events in this trace."), std::string::npos) << r.out;
}

}  // namespace
