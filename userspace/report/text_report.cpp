// `report --format text`: the verdict, then every table, for a terminal.
#include <algorithm>
#include <sstream>

#include "report/render.h"

namespace whoclosed {

namespace {

constexpr size_t kTextRows = 10;  // rows per table; json has them all
constexpr size_t kCellWidth = 40; // longer cells are cut with "..."

std::string cut(const std::string& s) {
    return s.size() <= kCellWidth ? s : s.substr(0, kCellWidth - 3) + "...";
}

// Columns padded to their widest cell: text columns left-aligned, numbers
// right-aligned; a header of empty cells is not printed.
std::string render_view(const TableView& v) {
    std::vector<std::vector<std::string>> rows;
    if (std::any_of(v.header.begin(), v.header.end(), [](const auto& h) { return !h.empty(); }))
        rows.push_back(v.header);
    for (const auto& r : v.rows) {
        rows.emplace_back();
        for (const std::string& cell : r) rows.back().push_back(cut(cell));
    }
    std::vector<size_t> width(v.header.size(), 0);
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); i++) width[i] = std::max(width[i], r[i].size());
    std::string out = v.title + '\n';
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); i++) {
            const bool left = std::find(v.left.begin(), v.left.end(), i) != v.left.end();
            const std::string pad(width[i] - r[i].size(), ' ');
            line += "  " + (left ? r[i] + pad : pad + r[i]);
        }
        line.erase(line.find_last_not_of(' ') + 1);
        out += line + '\n';
    }
    if (!v.note.empty()) out += "  " + v.note + '\n';
    return out;
}

}  // namespace

std::string word_wrap(const std::string& text, size_t width, const std::string& prefix) {
    std::istringstream words(text);
    std::string word, line, out;
    while (words >> word) {
        if (!line.empty() && prefix.size() + line.size() + 1 + word.size() > width) {
            out += prefix + line + '\n';
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) out += prefix + line + '\n';
    return out;
}

std::string render_text(const ReportData& d) {
    std::string out = "Verdict\n" + word_wrap(d.verdict, 78, "  ");
    for (const TableView& v : table_views(d, kTextRows)) out += '\n' + render_view(v);
    return out;
}

}  // namespace whoclosed
