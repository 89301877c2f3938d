// `report` as a library: the hand-written seed-case trace against golden
// files checked by hand, and the reader's and renderers' edge cases.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "report/aggregate.h"
#include "report/render.h"
#include "report/stacks.h"
#include "report/trace_reader.h"

#include "../support/file_text.h"

namespace whoclosed {
namespace {

using ::whoclosed::testing::slurp;
using ::whoclosed::testing::kReportFixture;

const std::string kGolden = std::string(WHOCLOSED_SOURCE_DIR) + "/tests/unit/golden/";

struct Loaded {
    ReportAggregate agg;
    ReadStats stats;
    std::string warnings;
};

void load(std::istream& in, Loaded& out) {
    std::ostringstream warn;
    out.stats = read_trace(in, warn, [&](const TraceRecord& r) { out.agg.add(r); });
    out.warnings = warn.str();
}

void load_text(const std::string& ndjson, Loaded& out) {
    std::istringstream in(ndjson);
    load(in, out);
}

TEST(Report, SeedTraceTextMatchesGolden) {
    std::ifstream in(kReportFixture);
    ASSERT_TRUE(in) << kReportFixture;
    Loaded l;
    load(in, l);
    EXPECT_EQ(l.stats.lines, 15u);
    EXPECT_EQ(l.stats.closes, 12u);
    EXPECT_EQ(l.stats.malformed, 2u);
    EXPECT_EQ(l.warnings,
              "whoclosed: report: line 7: skipped, not valid JSON\n"
              "whoclosed: report: line 13: skipped, key \"lport\" missing or not an unsigned integer <= 65535\n");
    EXPECT_EQ(render_text(l.agg.finish(ReportBy::Closer, l.stats)), slurp(kGolden + "report_seed.txt"));
}

TEST(Report, SeedTraceFoldedMatchesGolden) {
    std::ifstream in(kReportFixture);
    Loaded l;
    load(in, l);
    EXPECT_EQ(render_folded(l.agg.stacks()), slurp(kGolden + "report_seed.folded"));
    EXPECT_EQ(l.agg.stacks().total(), 11u);  // the reset has no closer, hence no stack
}

TEST(Report, ByPicksTheFirstTable) {
    std::ifstream in(kReportFixture);
    Loaded l;
    load(in, l);
    const std::string text = render_text(l.agg.finish(ReportBy::Reason, l.stats));
    const size_t reason = text.find("By reason"), closer = text.find("By closer");
    ASSERT_NE(reason, std::string::npos);
    EXPECT_LT(reason, closer);
    EXPECT_LT(text.find("Verdict"), reason);
}

TEST(Report, JsonHasTheTextNumbers) {
    std::ifstream in(kReportFixture);
    Loaded l;
    load(in, l);
    const auto j = nlohmann::ordered_json::parse(render_json(l.agg.finish(ReportBy::Port, l.stats)));
    EXPECT_EQ(j["by"], "port");
    EXPECT_EQ(j["verdict_port"], 8081);
    EXPECT_EQ(j["input"]["malformed"], 2);
    EXPECT_EQ(j["input"]["lost"], 0);
    EXPECT_EQ(j["time_wait_local"], 6);
    EXPECT_EQ(j["tables"].begin().key(), "port");  // --by first
    EXPECT_EQ(j["tables"]["port"][0]["key"], "8081");
    EXPECT_EQ(j["tables"]["port"][0]["closes"], 8);
    EXPECT_EQ(j["tables"]["closer"].size(), 5u);
    const auto& f = j["first_fin"][2];  // 8080 seen from its server sockets
    EXPECT_EQ(f["port"], 8080);
    EXPECT_EQ(f["server_first"], 1);
    EXPECT_EQ(f["client_first"], 1);
    EXPECT_EQ(f["none"], 1);
    EXPECT_EQ(f["resets"], 1);
    EXPECT_EQ(j["time_wait_holders"][0]["top_user_agent"], "Go-http-client/1.1");
    EXPECT_EQ(j["requests_per_connection"]["buckets"][1]["sockets"], 10);
    EXPECT_EQ(j["requests_per_connection"]["no_http"], 1);
}

TEST(Report, ClientOnlyTraceVerdict) {
    Loaded l;
    load_text(R"({"type":"close","laddr":"10.0.0.5","lport":41000,"raddr":"10.0.0.1","rport":443,"role":"client","first_fin":"remote","reset":"none","time_wait":false,"owner":{"pid":1,"comm":"app"},"closer":null,"http":null,"reason":"unknown"}
)", l);
    ASSERT_EQ(l.stats.closes, 1u) << l.warnings;
    const ReportData d = l.agg.finish(ReportBy::Closer, l.stats);
    EXPECT_EQ(d.verdict_port, 443);
    EXPECT_NE(d.verdict.find("clients on this host (app) connecting to port 443: the server closed "
                             "first in 100.0% of 1 connections"), std::string::npos) << d.verdict;
    EXPECT_NE(d.verdict.find("events lost unknown (no summary line)"), std::string::npos);
}

TEST(Report, EmptyTrace) {
    Loaded l;
    load_text("", l);
    const ReportData d = l.agg.finish(ReportBy::Closer, l.stats);
    EXPECT_EQ(d.verdict, "No close events in this trace.");
    EXPECT_EQ(render_folded(l.agg.stacks()), "");
}

TEST(TraceReader, MalformedLinesAreCountedNotFatal) {
    Loaded l;
    const std::string ok = R"({"type":"close","laddr":"a","lport":1,"raddr":"b","rport":2,"role":"server","first_fin":"local","reset":"none","time_wait":true,"owner":null,"closer":null,"http":null,"reason":"unknown"})";
    load_text("\n[1,2]\n" + ok + "\n{\"type\":\"close\"}\n{\"type\":7}\n" +
                  R"({"type":"hello"})" + "\n" + ok.substr(0, ok.size() - 1) + R"(,"role":"boss"})" +
                  "\n" + ok,  // the last line has no newline
              l);
    EXPECT_EQ(l.stats.lines, 8u);
    EXPECT_EQ(l.stats.closes, 2u);
    EXPECT_EQ(l.stats.other, 1u);
    EXPECT_EQ(l.stats.malformed, 4u) << l.warnings;
    EXPECT_NE(l.warnings.find("line 2: skipped, not a JSON object"), std::string::npos) << l.warnings;
    EXPECT_NE(l.warnings.find("line 4: skipped, key \"time_wait\""), std::string::npos) << l.warnings;
    EXPECT_NE(l.warnings.find("line 5: skipped, key \"type\""), std::string::npos) << l.warnings;
    EXPECT_NE(l.warnings.find("line 7: skipped, key \"role\" missing or not a known value"), std::string::npos);
}

TEST(TraceReader, OverlongLineIsSkipped) {
    Loaded l;
    load_text(std::string(kMaxLineBytes + 10, 'x') + "\n{\"type\":\"other\"}\n", l);
    EXPECT_EQ(l.stats.lines, 2u);
    EXPECT_EQ(l.stats.malformed, 1u);
    EXPECT_EQ(l.stats.other, 1u);
    EXPECT_NE(l.warnings.find("line 1: skipped, longer than"), std::string::npos);
}

TEST(TraceReader, StackFramesMustBeStrings) {
    TraceRecord rec;
    std::optional<TraceSummary> summary;
    std::string why;
    const std::string line = R"({"type":"close","laddr":"a","lport":1,"raddr":"b","rport":2,"role":"server","first_fin":"local","reset":"none","time_wait":true,"owner":null,"closer":{"pid":1,"comm":"x","kernel_stack":[1],"user_stack":[]},"http":null,"reason":"unknown"})";
    EXPECT_EQ(parse_trace_line(line, rec, summary, why), LineKind::Malformed);
    EXPECT_NE(why.find("kernel_stack"), std::string::npos);
}

TEST(Stacks, SanitizeAndClassify) {
    EXPECT_EQ(sanitize_frame("std::function<void (int)>::operator()"), "std::function<void_(int)>::operator()");
    EXPECT_EQ(sanitize_frame("a;b\tc\nd"), "a:b_c_d");
    EXPECT_EQ(sanitize_frame(""), "[unknown]");
    EXPECT_EQ(classify_user_frame("tcp_close"), FrameKind::Kernel);
    EXPECT_EQ(classify_user_frame("__sys_shutdown"), FrameKind::Kernel);
    EXPECT_EQ(classify_user_frame("net/http.(*conn).close"), FrameKind::Go);
    EXPECT_EQ(classify_user_frame("internal/poll.(*FD).Close"), FrameKind::Go);
    EXPECT_EQ(classify_user_frame("syscall.Syscall"), FrameKind::Go);
    EXPECT_EQ(classify_user_frame("__close"), FrameKind::Libc);
    EXPECT_EQ(classify_user_frame("libc.so.6+0x10e2a0"), FrameKind::Libc);
    EXPECT_EQ(classify_user_frame("ngx_close_connection"), FrameKind::User);
    EXPECT_EQ(classify_user_frame("std::thread::join"), FrameKind::User);
}

TEST(Stacks, DistinctStacksAreBounded) {
    StackAggregate agg(2);
    for (int i = 0; i < 5; i++) {
        CloseEvent ev;
        ev.closer = CloserInfo{};
        ev.closer->comm = "c";
        ev.closer->user_stack = {"f" + std::to_string(i)};
        agg.add(ev);
    }
    EXPECT_EQ(agg.total(), 5u);
    EXPECT_EQ(agg.stacks().size(), 3u);
    EXPECT_EQ(render_folded(agg), "[other stacks] 3\nc;f0 1\nc;f1 1\n");
}

TEST(BoundedMapTest, NewKeysPastTheCapGoToOther) {
    BoundedMap<uint64_t> m(2);
    for (const char* k : {"a", "b", "c", "a", "d"}) m.at(k)++;
    const auto rows = m.ranked([](uint64_t n) { return n; });
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0], (std::pair<std::string, uint64_t>{"a", 2}));
    EXPECT_EQ(rows[2], (std::pair<std::string, uint64_t>{kOtherKey, 2}));
}

TEST(PortVerdictTest, DemoLinesFromEvents) {
    std::vector<CloseEvent> events(2);
    events[0].role = Role::Server, events[0].lport = 80, events[0].first_fin = FirstFin::Local;
    events[0].time_wait = true, events[0].owner = OwnerInfo{1, "srv", {}};
    events[1].role = Role::Client, events[1].rport = 80, events[1].first_fin = FirstFin::Remote;
    const auto lines = verdict_lines(port_verdict(events, 80));
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0], "server:80 (srv) closed first 100.0% of 1 connections");
    EXPECT_EQ(lines[2], "TIME_WAIT held here: server side 1, client side 0");
}

}  // namespace
}  // namespace whoclosed
