// The renderings of a finished report. Each returns the whole document;
// `report` writes it to stdout or -o FILE.
#pragma once

#include <string>
#include <vector>

#include "report/aggregate.h"
#include "report/stacks.h"

namespace whoclosed {

// Plain text for a terminal: the verdict, then every table (--by first).
std::string render_text(const ReportData& d);

// The same content as one JSON document.
std::string render_json(const ReportData& d);

// One self-contained HTML page: verdict, tables and the flame graph inline.
std::string render_html(const ReportData& d, const StackAggregate& stacks);

// The server-first / client-first split of one side of a port, whichever
// side's sockets saw it: {server first, client first, simultaneous, none}.
struct FinSplit {
    uint64_t server_first, client_first, simultaneous, none;
};
FinSplit fin_split(const SideTally& t, bool server_side);

// One table of a report as cells, shared by the text and HTML renderings.
struct TableView {
    std::string id;                       // stable, e.g. "by-closer", "first-fin"
    std::string title;
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::vector<size_t> left;             // left-aligned columns (the others are numbers)
    std::string note;                     // a line under the table, "" for none
};

// Every table in display order (the --by table first), at most `max_rows`
// rows each (a note says how many were left out).
std::vector<TableView> table_views(const ReportData& d, size_t max_rows);

// Words of `text` on lines of at most `width` columns, each line prefixed.
std::string word_wrap(const std::string& text, size_t width, const std::string& prefix);

}  // namespace whoclosed
