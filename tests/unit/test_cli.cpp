#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "cli/options.h"

namespace whoclosed {
namespace {

ParseOutcome parse(std::vector<const char*> args) {
    args.insert(args.begin(), "whoclosed");
    return parse_command_line(static_cast<int>(args.size()), args.data());
}

// A usage error: exit 2, nothing on stdout, one line on stderr that names
// the offending flag (or text) and points to --help.
void expect_usage_error(const ParseOutcome& out, const std::string& mentions) {
    EXPECT_FALSE(out.command.has_value());
    EXPECT_EQ(out.exit_code, kExitUsage);
    EXPECT_TRUE(out.out_text.empty());
    EXPECT_NE(out.err_text.find(mentions), std::string::npos) << out.err_text;
    EXPECT_NE(out.err_text.find("--help"), std::string::npos) << out.err_text;
    ASSERT_FALSE(out.err_text.empty());
    EXPECT_EQ(out.err_text.find('\n'), out.err_text.size() - 1) << "not one line: " << out.err_text;
}

TEST(Cli, TraceDefaults) {
    auto out = parse({"trace"});
    ASSERT_EQ(out.command, Command::Trace);
    const TraceOptions& t = out.trace();
    EXPECT_FALSE(t.pid);
    EXPECT_FALSE(t.comm);
    EXPECT_TRUE(t.ports.empty());
    EXPECT_FALSE(t.cgroup);
    EXPECT_FALSE(t.netns);
    EXPECT_FALSE(t.output);
    EXPECT_FALSE(t.duration);
    EXPECT_FALSE(t.count);
    EXPECT_EQ(t.http, HttpMode::Auto);
    EXPECT_FALSE(t.no_stacks);
    EXPECT_FALSE(t.text);
    EXPECT_TRUE(out.err_text.empty());
}

TEST(Cli, TraceAllFlags) {
    auto out = parse({"trace", "--pid", "4242", "--comm", "nginx", "--port", "80", "--port", "443,8080",
                      "--cgroup", "/system.slice/web.service", "--netns", "4026531840", "-o", "out.ndjson",
                      "--duration", "2.5", "--count", "10", "--http", "uprobe", "--no-stacks", "--text"});
    ASSERT_EQ(out.command, Command::Trace) << out.err_text;
    const TraceOptions& t = out.trace();
    EXPECT_EQ(t.pid, 4242u);
    EXPECT_EQ(t.comm, "nginx");
    EXPECT_EQ(t.ports, (std::vector<uint16_t>{80, 443, 8080}));
    EXPECT_EQ(t.cgroup, "/system.slice/web.service");
    EXPECT_EQ(t.netns, 4026531840u);
    EXPECT_EQ(t.output, "out.ndjson");
    EXPECT_EQ(t.duration, 2.5);
    EXPECT_EQ(t.count, 10u);
    EXPECT_EQ(t.http, HttpMode::Uprobe);
    EXPECT_TRUE(t.no_stacks);
    EXPECT_TRUE(t.text);
}

TEST(Cli, PortBounds) {
    EXPECT_EQ(parse({"trace", "--port", "1"}).trace().ports, std::vector<uint16_t>{1});
    EXPECT_EQ(parse({"trace", "--port", "65535"}).trace().ports, std::vector<uint16_t>{65535});
    for (const char* bad : {"0", "70000", "65536", "abc", "-1", "80x", "", " 80"})
        expect_usage_error(parse({"trace", "--port", bad}), "--port");
}

TEST(Cli, AtMostSixteenPorts) {
    std::vector<const char*> args = {"trace"};
    const char* ports[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17"};
    for (int i = 0; i < 16; ++i) args.insert(args.end(), {"--port", ports[i]});
    EXPECT_EQ(parse(args).trace().ports.size(), 16u);
    args.insert(args.end(), {"--port", ports[16]});
    expect_usage_error(parse(args), "--port");
}

TEST(Cli, Netns) {
    EXPECT_FALSE(parse({"trace", "--netns", "all"}).trace().netns.has_value());
    EXPECT_EQ(parse({"trace", "--netns", "123"}).trace().netns, 123u);
    expect_usage_error(parse({"trace", "--netns", "none"}), "--netns");
    expect_usage_error(parse({"trace", "--netns", "0"}), "--netns");
}

TEST(Cli, CommAtMostFifteenBytes) {
    EXPECT_EQ(parse({"trace", "--comm", "abcdefghijklmno"}).trace().comm, "abcdefghijklmno");
    expect_usage_error(parse({"trace", "--comm", "abcdefghijklmnop"}), "--comm");
    expect_usage_error(parse({"trace", "--comm", ""}), "--comm");
}

TEST(Cli, DurationAndCount) {
    for (const char* bad : {"-1", "0", "nan", "inf", "1s", "x"})
        expect_usage_error(parse({"trace", "--duration", bad}), "--duration");
    EXPECT_EQ(parse({"trace", "--duration", "0.25"}).trace().duration, 0.25);
    for (const char* bad : {"0", "-3", "1.5", "many"})
        expect_usage_error(parse({"trace", "--count", bad}), "--count");
    EXPECT_EQ(parse({"trace", "--count", "1"}).trace().count, 1u);
}

TEST(Cli, PidAndHttpMode) {
    expect_usage_error(parse({"trace", "--pid", "0"}), "--pid");
    expect_usage_error(parse({"trace", "--pid", "4294967296"}), "--pid");
    expect_usage_error(parse({"trace", "--pid", "me"}), "--pid");
    expect_usage_error(parse({"trace", "--http", "maybe"}), "--http");
    EXPECT_EQ(parse({"trace", "--http", "off"}).trace().http, HttpMode::Off);
    EXPECT_EQ(parse({"trace", "--http", "syscall"}).trace().http, HttpMode::Syscall);
}

TEST(Cli, UnknownFlagIsUsageError) {
    expect_usage_error(parse({"trace", "--bogus"}), "--bogus");
    expect_usage_error(parse({"--bogus"}), "--bogus");
    expect_usage_error(parse({"check", "--port", "80"}), "--port");
}

TEST(Cli, MissingValueIsUsageError) { expect_usage_error(parse({"trace", "--port"}), "--port"); }

TEST(Cli, SubcommandIsRequired) {
    auto out = parse({});
    expect_usage_error(out, "trace");
    for (const char* sub : {"report", "check", "demo"}) EXPECT_NE(out.err_text.find(sub), std::string::npos);
    expect_usage_error(parse({"frobnicate"}), "frobnicate");
}

TEST(Cli, HelpGoesToStdoutWithExitZero) {
    auto top = parse({"--help"});
    EXPECT_FALSE(top.command);
    EXPECT_EQ(top.exit_code, kExitOk);
    EXPECT_TRUE(top.err_text.empty());
    for (const char* sub : {"trace", "report", "check", "demo"}) EXPECT_NE(top.out_text.find(sub), std::string::npos);

    auto trace = parse({"trace", "--help"});
    EXPECT_FALSE(trace.command);
    EXPECT_EQ(trace.exit_code, kExitOk);
    EXPECT_NE(trace.out_text.find("--port"), std::string::npos);
    EXPECT_NE(trace.out_text.find("--duration"), std::string::npos);
}

TEST(Cli, Version) {
    auto out = parse({"--version"});
    EXPECT_FALSE(out.command);
    EXPECT_EQ(out.exit_code, kExitOk);
    EXPECT_EQ(out.out_text.rfind("whoclosed ", 0), 0u);
}

TEST(Cli, Report) {
    auto def = parse({"report"});
    ASSERT_EQ(def.command, Command::Report);
    EXPECT_EQ(def.report().input, "-");
    EXPECT_FALSE(def.report().output);

    auto out = parse({"report", "-i", "trace.ndjson", "--by", "peer", "--format", "svg", "-o", "x.svg"});
    ASSERT_EQ(out.command, Command::Report) << out.err_text;
    EXPECT_EQ(out.report().input, "trace.ndjson");
    EXPECT_EQ(out.report().by, ReportBy::Peer);
    EXPECT_EQ(out.report().format, ReportFormat::Svg);
    EXPECT_EQ(out.report().output, "x.svg");
    expect_usage_error(parse({"report", "--by", "color"}), "--by");
    expect_usage_error(parse({"report", "--format", "pdf"}), "--format");
}

TEST(Cli, CheckAndDemo) {
    EXPECT_EQ(parse({"check"}).command, Command::Check);
    auto demo = parse({"demo"});
    ASSERT_EQ(demo.command, Command::Demo);
    EXPECT_FALSE(demo.demo().text);
    EXPECT_TRUE(parse({"demo", "--text"}).demo().text);
    expect_usage_error(parse({"check", "extra"}), "extra");
}

}  // namespace
}  // namespace whoclosed
