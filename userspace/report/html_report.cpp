// `report --format html`: one self-contained page (inline CSS and script,
// no network) with the verdict, the flame graph inline and the tables.
// Stable ids for tools and tests: verdict, flamegraph, tables.
#include <algorithm>

#include "report/flamegraph_svg.h"
#include "report/render.h"
#include "report/xml_text.h"

namespace whoclosed {

namespace {

constexpr size_t kHtmlRows = 50;

constexpr const char* kPageStyle = R"CSS(
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1240px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 22px 0 8px; }
#verdict p { font-size: 16px; line-height: 1.5; background: #fff6e0; border-left: 4px solid #e08a00; padding: 10px 14px; margin: 0; }
#flamegraph { max-width: 100%; height: auto; border: 1px solid #ddd; }
#tables { display: flex; flex-wrap: wrap; gap: 8px 32px; }
#tables section { flex: 0 1 auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; white-space: nowrap; }
th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bar { color: #c06000; font-family: monospace; }
p.note { font-size: 13px; color: #555; margin: 4px 0; }
)CSS";

std::string table_html(const TableView& v) {
    std::string out = "<section id=\"" + v.id + "\"><h2>" + xml_escape(v.title) + "</h2><table>";
    if (std::any_of(v.header.begin(), v.header.end(), [](const auto& h) { return !h.empty(); })) {
        out += "<tr>";
        for (const std::string& h : v.header) out += "<th>" + xml_escape(h) + "</th>";
        out += "</tr>";
    }
    for (const auto& row : v.rows) {
        out += "<tr>";
        for (size_t i = 0; i < row.size(); i++) {
            const bool left = std::find(v.left.begin(), v.left.end(), i) != v.left.end();
            const bool bar = !row[i].empty() && row[i].find_first_not_of('#') == std::string::npos;
            out += std::string(bar ? "<td class=\"bar\">" : left ? "<td>" : "<td class=\"num\">") +
                   xml_escape(row[i]) + "</td>";
        }
        out += "</tr>";
    }
    out += "</table>";
    if (!v.note.empty()) out += "<p class=\"note\">" + xml_escape(v.note) + "</p>";
    return out + "</section>\n";
}

}  // namespace

std::string render_html(const ReportData& d, const StackAggregate& stacks) {
    std::string out =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>whoclosed report</title>\n<style>" + std::string(kPageStyle) + "</style>\n</head>\n<body>\n"
        "<h1>whoclosed report</h1>\n";
    out += "<section id=\"verdict\"><h2>Verdict</h2><p>" + xml_escape(d.verdict) + "</p></section>\n";
    out += "<section id=\"stacks\"><h2>Closing stacks</h2>\n";
    FlameGraphOptions fg;
    fg.xml_declaration = false;
    out += render_flamegraph_svg(stacks, fg);
    out += "<p class=\"note\">Hover a frame for details, click to zoom, click the bottom frame or "
           "&ldquo;Reset zoom&rdquo; to zoom out; the search box takes a regular expression.</p>\n"
           "</section>\n";
    out += "<div id=\"tables\">\n";
    for (const TableView& v : table_views(d, kHtmlRows)) out += table_html(v);
    out += "</div>\n</body>\n</html>\n";
    return out;
}

}  // namespace whoclosed
