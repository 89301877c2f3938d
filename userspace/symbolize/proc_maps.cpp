#include "symbolize/proc_maps.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace whoclosed {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

std::string_view take_field(std::string_view& line) {
    const size_t start = std::min(line.find_first_not_of(' '), line.size());
    line.remove_prefix(start);
    const size_t end = std::min(line.find(' '), line.size());
    const std::string_view field = line.substr(0, end);
    line.remove_prefix(end);
    return field;
}

bool parse_hex(std::string_view text, uint64_t& out) {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
    return ec == std::errc() && ptr == text.data() + text.size();
}

bool parse_range(std::string_view text, Module& m) {
    const size_t dash = text.find('-');
    return dash != std::string_view::npos && parse_hex(text.substr(0, dash), m.start) &&
           parse_hex(text.substr(dash + 1), m.end) && m.start < m.end;
}

bool parse_dev(std::string_view text, Module& m) {
    const size_t colon = text.find(':');
    uint64_t major = 0, minor = 0;
    if (colon == std::string_view::npos || !parse_hex(text.substr(0, colon), major) ||
        !parse_hex(text.substr(colon + 1), minor)) {
        return false;
    }
    m.dev = makedev(major, minor);
    return true;
}

std::optional<Module> parse_line(std::string_view line) {
    Module m;
    const std::string_view range = take_field(line), perms = take_field(line);
    const std::string_view offset = take_field(line), dev = take_field(line);
    const std::string_view inode = take_field(line);
    const auto [ptr, ec] = std::from_chars(inode.data(), inode.data() + inode.size(), m.inode);
    if (!parse_range(range, m) || perms.size() < 3 || perms[2] != 'x' ||
        !parse_hex(offset, m.offset) || !parse_dev(dev, m) || ec != std::errc()) {
        return std::nullopt;
    }
    line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
    if (line.ends_with(kDeletedSuffix)) {
        line.remove_suffix(kDeletedSuffix.size());
        m.deleted = true;
    }
    m.path = line;
    return m;
}

}  // namespace

std::string Module::display_name() const {
    if (path.empty()) return "[anon]";
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::vector<Module> parse_proc_maps(std::string_view text) {
    std::vector<Module> modules;
    while (!text.empty()) {
        const size_t eol = std::min(text.find('\n'), text.size());
        if (auto m = parse_line(text.substr(0, eol))) modules.push_back(std::move(*m));
        text.remove_prefix(std::min(eol + 1, text.size()));
    }
    std::sort(modules.begin(), modules.end(),
              [](const Module& a, const Module& b) { return a.start < b.start; });
    return modules;
}

std::optional<std::vector<Module>> read_proc_maps(const std::string& proc_root, pid_t pid) {
    std::ifstream in(proc_root + "/" + std::to_string(pid) + "/maps");
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return parse_proc_maps(text.str());
}

const Module* find_module(const std::vector<Module>& modules, uint64_t ip) {
    auto it = std::upper_bound(modules.begin(), modules.end(), ip,
                               [](uint64_t value, const Module& m) { return value < m.start; });
    if (it == modules.begin()) return nullptr;
    const Module& m = *std::prev(it);
    return ip < m.end ? &m : nullptr;
}

}  // namespace whoclosed
