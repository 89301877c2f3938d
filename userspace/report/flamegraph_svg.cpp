#include "report/flamegraph_svg.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>

#include "report/port_verdict.h"
#include "report/xml_text.h"

namespace whoclosed {

namespace {

constexpr double kFrameHeight = 16, kRowPitch = 17, kMargin = 10, kTop = 64, kBottom = 34;
constexpr double kCharWidth = 7;     // monospace 12px, for cutting labels
constexpr double kMinFrameWidth = 0.5;

struct Node {
    std::string name;
    FrameKind kind = FrameKind::Root;
    uint64_t count = 0;
    std::map<std::pair<std::string, FrameKind>, std::unique_ptr<Node>> children;  // sorted like flamegraph.pl
};

Node build_tree(const StackAggregate& stacks) {
    Node root{"all", FrameKind::Root, 0, {}};
    for (const auto& [stack, n] : stacks.stacks()) {
        root.count += n;
        Node* at = &root;
        for (size_t i = 0; i < stack.frames.size(); i++) {
            auto& child = at->children[{stack.frames[i], stack.kind(i)}];
            if (!child) child = std::make_unique<Node>(Node{stack.frames[i], stack.kind(i), 0, {}});
            child->count += n;
            at = child.get();
        }
    }
    return root;
}

size_t depth_of(const Node& n) {
    size_t d = 0;
    for (const auto& [key, child] : n.children) d = std::max(d, depth_of(*child));
    return d + 1;
}

// A stable colour per name within the palette of its kind.
std::string colour(const Node& n) {
    const double v = static_cast<double>(std::hash<std::string>{}(n.name) % 1000) / 1000.0;
    int r = 0, g = 0, b = 0;
    switch (n.kind) {
        case FrameKind::Kernel: r = 235, g = 120 + int(50 * v), b = 40 + int(30 * v); break;
        case FrameKind::Go: r = 60 + int(40 * v), g = 175 + int(40 * v), b = 205 + int(30 * v); break;
        case FrameKind::Libc: r = 220, g = 200 + int(35 * v), b = 60 + int(50 * v); break;
        case FrameKind::User: r = 215 + int(30 * v), g = 80 + int(60 * v), b = 80 + int(30 * v); break;
        case FrameKind::Root: r = g = b = 190 + int(30 * v); break;
    }
    char buf[8];
    std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", r, g, b);
    return buf;
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    return buf;
}

std::string label(const std::string& name, double width_px) {
    const auto fits = static_cast<size_t>(std::max(0.0, (width_px - 6) / kCharWidth));
    if (fits < 3) return "";
    return name.size() <= fits ? name : name.substr(0, fits - 2) + "..";
}

class SvgWriter {
public:
    SvgWriter(std::string& out, double width, size_t depth, uint64_t total)
        : out_(out), graph_w_(width - 2 * kMargin), depth_(depth), total_(total) {}

    // x and w are fractions of the whole graph width.
    void frame(const Node& n, double x, size_t d) {
        const double w = total_ ? static_cast<double>(n.count) / total_ : 0;
        if (w * graph_w_ < kMinFrameWidth) return;
        const double px = kMargin + x * graph_w_, py = kTop + (depth_ - 1 - d) * kRowPitch;
        const std::string name = xml_escape(n.name);
        out_ += "<g class=\"f\" data-x=\"" + num(x) + "\" data-w=\"" + num(w) + "\" data-d=\"" +
                std::to_string(d) + "\" data-k=\"" + to_string(n.kind) + "\" data-n=\"" + name + "\">";
        out_ += "<title>" + name + " (" + to_string(n.kind) + "): " + std::to_string(n.count) +
                (n.count == 1 ? " close, " : " closes, ") + percent(n.count, total_) + "</title>";
        out_ += "<rect x=\"" + num(px) + "\" y=\"" + num(py) + "\" width=\"" + num(w * graph_w_) +
                "\" height=\"" + num(kFrameHeight) + "\" rx=\"2\" fill=\"" + colour(n) + "\"/>";
        out_ += "<text x=\"" + num(px + 3) + "\" y=\"" + num(py + 12) + "\">" +
                xml_escape(label(n.name, w * graph_w_)) + "</text></g>\n";
        double child_x = x;
        for (const auto& [key, child] : n.children) {
            frame(*child, child_x, d + 1);
            child_x += total_ ? static_cast<double>(child->count) / total_ : 0;
        }
    }

private:
    std::string& out_;
    double graph_w_;
    size_t depth_;
    uint64_t total_;
};

void header(std::string& out, const FlameGraphOptions& o, double height, uint64_t total) {
    const std::string w = std::to_string(o.width), h = num(height);
    if (o.xml_declaration) out += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"flamegraph\" version=\"1.1\" width=\"" + w +
           "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " + h + "\" data-width=\"" + w +
           "\" data-margin=\"" + num(kMargin) + "\" data-total=\"" + std::to_string(total) + "\">\n";
    out += "<style>" + std::string(kFlameGraphStyle) + "</style>\n";
    out += "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"" + w + "\" height=\"" + h + "\"/>\n";
    out += "<text class=\"title\" x=\"" + num(o.width / 2.0) + "\" y=\"22\">" + xml_escape(o.title) +
           " (" + std::to_string(total) + (total == 1 ? " close" : " closes") + ")</text>\n";
    out += "<text class=\"button\" id=\"fg-unzoom\" x=\"10\" y=\"22\">Reset zoom</text>\n";
    out += "<foreignObject x=\"" + num(o.width - 330.0) + "\" y=\"6\" width=\"320\" height=\"26\">"
           "<input xmlns=\"http://www.w3.org/1999/xhtml\" id=\"fg-search\" type=\"search\" "
           "placeholder=\"search frames (regex)\" style=\"width:300px\"/></foreignObject>\n";
    double x = 10;
    for (FrameKind k : {FrameKind::Kernel, FrameKind::User, FrameKind::Go, FrameKind::Libc, FrameKind::Root}) {
        out += "<rect x=\"" + num(x) + "\" y=\"38\" width=\"12\" height=\"12\" fill=\"" +
               colour(Node{"", k, 0, {}}) + "\"/><text class=\"legend\" x=\"" + num(x + 16) +
               "\" y=\"48\">" + to_string(k) + "</text>\n";
        x += 80;
    }
    out += "<text class=\"legend\" id=\"fg-matched\" x=\"" + num(o.width - 10.0) + "\" y=\"48\"></text>\n";
}

}  // namespace

std::string render_flamegraph_svg(const StackAggregate& stacks, const FlameGraphOptions& opts) {
    const Node root = build_tree(stacks);
    const size_t depth = depth_of(root);
    const double height = kTop + depth * kRowPitch + kBottom;
    std::string out;
    header(out, opts, height, root.count);
    if (root.count == 0)
        out += "<text class=\"legend\" x=\"10\" y=\"" + num(kTop + 12) +
               "\">no closing stacks in this trace (events without a closer, or traced with --no-stacks)</text>\n";
    out += "<g id=\"fg-frames\">\n";
    SvgWriter(out, opts.width, depth, root.count).frame(root, 0, 0);
    out += "</g>\n<text class=\"legend\" id=\"fg-details\" x=\"10\" y=\"" + num(height - 12) + "\"> </text>\n";
    out += "<script type=\"text/ecmascript\"><![CDATA[" + std::string(kFlameGraphScript) + "]]></script>\n";
    return out + "</svg>\n";
}

}  // namespace whoclosed
