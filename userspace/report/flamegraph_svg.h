// A flame graph of closing stacks, drawn by our own renderer as one
// self-contained SVG: a rectangle per frame, width by count, hover details,
// click to zoom, a search box, colours by frame kind.
#pragma once

#include <string>

#include "report/stacks.h"

namespace whoclosed {

struct FlameGraphOptions {
    int width = 1200;
    std::string title = "Closing stacks";
    bool xml_declaration = true;  // false when inlined into an HTML page
};

std::string render_flamegraph_svg(const StackAggregate& stacks, const FlameGraphOptions& opts);

// The zoom/search/hover script and its styles (flamegraph_js.cpp).
extern const char* const kFlameGraphScript;
extern const char* const kFlameGraphStyle;

}  // namespace whoclosed
