// `whoclosed report --format html` opened in a real browser: headless
// Chromium loads the page from disk (no network) and we check the DOM it
// built: the verdict, the tables and the flame graph's frames, then that
// clicking a frame zooms and the search box marks matches.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "support/child_process.h"
#include "support/file_text.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

bool have_chromium() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

// Runs headless Chromium on a local file with `mode` (--dump-dom,
// --screenshot=...); returns its stdout, or "" when it failed.
std::string chromium(const TempDir& dir, const std::string& file, const std::string& mode) {
    const std::string out = dir.path() + "/chromium.out", profile = dir.path() + "/profile";
    const std::string cmd =
        "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
        "--disable-background-networking --disable-component-update --disable-sync "
        "--window-size=1280,1400 --user-data-dir=" + profile + " " + mode + " file://" + file +
        " >" + out + " 2>" + dir.path() + "/chromium.err";
    return std::system(cmd.c_str()) == 0 ? slurp(out) : "";
}

std::string write_report(const TempDir& dir) {
    const std::string html = dir.path() + "/report.html";
    const std::string cmd = std::string(WHOCLOSED_BINARY) + " report --format html -i " + kReportFixture +
                            " -o " + html + " 2>/dev/null";
    return std::system(cmd.c_str()) == 0 ? html : "";
}

TEST(ReportHtml, ChromiumShowsVerdictTablesAndFlameGraph) {
    WHOCLOSED_REQUIRE(have_chromium(), "chromium not installed");
    TempDir dir;
    const std::string html = write_report(dir);
    ASSERT_FALSE(html.empty());
    const std::string dom = chromium(dir, html, "--dump-dom");
    ASSERT_FALSE(dom.empty()) << slurp(dir.path() + "/chromium.err");
    std::smatch verdict;
    ASSERT_TRUE(std::regex_search(dom, verdict, std::regex(R"(<section id="verdict">[\s\S]*?</section>)")));
    EXPECT_NE(verdict.str().find("server:8081 (server) closed first in 100.0% of 4 connections"),
              std::string::npos) << verdict.str();
    EXPECT_NE(dom.find("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"flamegraph\""), std::string::npos);
    for (const char* frame : {"tcp_close", "inet_release", "__sock_release", "syscall.Syscall",
                              "internal/poll.(*FD).Close", "net.(*conn).Close", "net/http.(*conn).close"})
        EXPECT_NE(dom.find(std::string("data-n=\"") + frame + "\""), std::string::npos) << frame;
    EXPECT_NE(dom.find("<div id=\"tables\">"), std::string::npos);
    EXPECT_NE(dom.find("<section id=\"by-closer\">"), std::string::npos);

    const std::string shot = dir.path() + "/report.png";
    chromium(dir, html, "--screenshot=" + shot);
    EXPECT_GT(std::filesystem::exists(shot) ? std::filesystem::file_size(shot) : 0, 10000u);
}

// A copy of the page with a script that clicks the Go server's closing
// frame and types into the search box, as a user would.
TEST(ReportHtml, ClickZoomsAndSearchMarks) {
    WHOCLOSED_REQUIRE(have_chromium(), "chromium not installed");
    TempDir dir;
    const std::string html = write_report(dir);
    ASSERT_FALSE(html.empty());
    std::string page = slurp(html);
    const std::string probe = R"(<script>
var target = [].slice.call(document.querySelectorAll('#flamegraph g.f')).filter(function (g) {
  return g.getAttribute('data-n') === 'net/http.(*conn).close'; })[0];
target.dispatchEvent(new MouseEvent('click', {bubbles: true}));
var box = document.getElementById('fg-search');
box.value = 'Curl_'; box.dispatchEvent(new Event('input'));
</script></body>)";
    page.replace(page.rfind("</body>"), 7, probe);
    const std::string probed = dir.path() + "/probe.html";
    std::ofstream(probed) << page;
    const std::string dom = chromium(dir, probed, "--dump-dom");
    ASSERT_FALSE(dom.empty()) << slurp(dir.path() + "/chromium.err");
    // Zoomed: the client's and curl's frames are hidden, the server's ancestors dimmed.
    EXPECT_NE(dom.find("data-n=\"client\" style=\"display: none;\""), std::string::npos);
    EXPECT_NE(dom.find("<g class=\"f parent\" data-x=\"0.636364\" data-w=\"0.363636\" data-d=\"1\" "
                       "data-k=\"comm\" data-n=\"server\""), std::string::npos);
    // Searched: curl's two Curl_ frames are marked, 1 of 11 closes matched.
    EXPECT_NE(dom.find("class=\"f match\" data-x=\"0.363636\" data-w=\"0.0909091\" data-d=\"4\" "
                       "data-k=\"user\" data-n=\"Curl_conn_close\""), std::string::npos);
    EXPECT_NE(dom.find(">Matched: 9.1%<"), std::string::npos);
}

}  // namespace
}  // namespace whoclosed::testing
