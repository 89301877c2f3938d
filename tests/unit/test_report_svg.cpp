// The flame graph SVG and the HTML page: well-formed XML whatever the frame
// names hold (checked by libxml2's xmllint), every frame present.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "report/aggregate.h"
#include "report/flamegraph_svg.h"
#include "report/render.h"
#include "report/xml_text.h"

#include "../support/file_text.h"

namespace whoclosed {
namespace {

using ::whoclosed::testing::kReportFixture;

// xmllint's verdict on `doc`, or nullopt when xmllint is not installed.
std::optional<bool> xmllint_accepts(const std::string& doc, const std::string& name) {
    if (std::system("command -v xmllint >/dev/null 2>&1") != 0) return std::nullopt;
    const std::string path = ::testing::TempDir() + name;
    std::ofstream(path, std::ios::binary) << doc;
    const std::string cmd = "xmllint --noout " + path;
    return std::system(cmd.c_str()) == 0;
}

void expect_well_formed(const std::string& doc, const std::string& name) {
    const auto ok = xmllint_accepts(doc, name);
    if (!ok) {
        if (const char* req = std::getenv("WHOCLOSED_REQUIRE_BPF"); req && std::string(req) == "1")
            FAIL() << "xmllint is missing (scripts/setup.sh installs libxml2-utils)";
        GTEST_SKIP() << "xmllint not installed (libxml2-utils)";
    }
    EXPECT_TRUE(*ok) << name << " is not well-formed XML";
}

ReportAggregate seed_aggregate(ReadStats& st) {
    ReportAggregate agg;
    std::ifstream in(kReportFixture);
    std::ostringstream warn;
    st = read_trace(in, warn, [&](const TraceRecord& r) { agg.add(r); });
    return agg;
}

TEST(FlameGraph, SeedTraceIsWellFormedWithEveryFrame) {
    ReadStats st;
    const ReportAggregate agg = seed_aggregate(st);
    const std::string svg = render_flamegraph_svg(agg.stacks(), FlameGraphOptions{});
    expect_well_formed(svg, "seed.svg");
    for (const char* frame : {"tcp_close", "inet_release", "__sock_release", "syscall.Syscall",
                              "internal/poll.(*FD).Close", "net/http.(*conn).close", "Curl_conn_close"})
        EXPECT_NE(svg.find(std::string("data-n=\"") + frame + "\""), std::string::npos) << frame;
    EXPECT_NE(svg.find("data-k=\"go\" data-n=\"net/http.(*conn).close\""), std::string::npos);
    EXPECT_NE(svg.find("data-k=\"kernel\" data-n=\"tcp_close\""), std::string::npos);
    EXPECT_NE(svg.find("data-k=\"libc\" data-n=\"__close\""), std::string::npos);
    EXPECT_NE(svg.find("<title>all (comm): 11 closes, 100.0%</title>"), std::string::npos);
    EXPECT_NE(svg.find("id=\"fg-search\""), std::string::npos);
    EXPECT_EQ(std::string(kFlameGraphScript).find("]]>"), std::string::npos);
}

TEST(FlameGraph, HostileNamesStayWellFormed) {
    StackAggregate stacks;
    CloseEvent ev;
    ev.closer = CloserInfo{};
    ev.closer->comm = "a<b>&\"c'";
    ev.closer->user_stack = {"]]><script>alert(1)</script>", "bad\xff\xfeutf8", "ctl\x01\x7f", "\xed\xa0\x80"};
    ev.closer->kernel_stack = {"tcp_close"};
    stacks.add(ev);
    const std::string svg = render_flamegraph_svg(stacks, FlameGraphOptions{});
    expect_well_formed(svg, "hostile.svg");
    EXPECT_EQ(svg.find("<script>alert"), std::string::npos);
}

TEST(FlameGraph, NoStacksSaysSo) {
    const std::string svg = render_flamegraph_svg(StackAggregate{}, FlameGraphOptions{});
    expect_well_formed(svg, "empty.svg");
    EXPECT_NE(svg.find("no closing stacks"), std::string::npos);
}

TEST(XmlText, EscapesAndReplaces) {
    EXPECT_EQ(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    EXPECT_EQ(xml_escape("caf\xc3\xa9"), "caf\xc3\xa9");
    EXPECT_EQ(xml_escape("\x01"), "\xEF\xBF\xBD");
    EXPECT_EQ(xml_escape("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
    EXPECT_EQ(xml_escape("\xef\xbf\xbe"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // U+FFFE
}

TEST(HtmlReport, OnePageWithStableIds) {
    ReadStats st;
    const ReportAggregate agg = seed_aggregate(st);
    const std::string html = render_html(agg.finish(ReportBy::Closer, st), agg.stacks());
    for (const char* id : {"id=\"verdict\"", "id=\"flamegraph\"", "id=\"tables\""})
        EXPECT_NE(html.find(id), std::string::npos) << id;
    EXPECT_EQ(html.find("<?xml"), std::string::npos);  // the SVG is inlined, not a document
    EXPECT_EQ(html.find("http://") , html.find("http://www.w3.org"));  // namespaces only
    EXPECT_EQ(html.find("https://"), std::string::npos);
    EXPECT_EQ(html.find("src="), std::string::npos);
}

}  // namespace
}  // namespace whoclosed
