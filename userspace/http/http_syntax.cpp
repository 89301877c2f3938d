#include "http/http_syntax.h"

#include <array>

namespace whoclosed {

namespace {

constexpr std::array<std::string_view, 9> kMethods = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                      "CONNECT", "OPTIONS", "TRACE", "PATCH"};

bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

unsigned char lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c | 0x20) : c; }

std::string_view first_line(std::string_view buf, bool& complete) {
    const size_t lf = buf.find('\n');
    complete = lf != std::string_view::npos;
    std::string_view line = complete ? buf.substr(0, lf) : buf;
    if (complete && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

bool is_http1_version(std::string_view v) { return v == "HTTP/1.1" || v == "HTTP/1.0"; }

// "METHOD SP target[ SP HTTP/1.x]"; the version is checked once the line is whole.
bool request_start(std::string_view buf) {
    const size_t sp = buf.find(' ');
    if (sp == std::string_view::npos || sp + 1 >= buf.size() || !is_known_method(buf.substr(0, sp))) return false;
    const unsigned char t = static_cast<unsigned char>(buf[sp + 1]);
    if (t != '/' && t != '*' && !is_alpha(t)) return false;
    bool complete = false;
    const std::string_view line = first_line(buf, complete);
    if (!complete) return true;
    const size_t last_sp = line.rfind(' ');
    if (last_sp <= sp) return false;  // no version: HTTP/0.9 or garbage
    for (size_t i = sp + 1; i < last_sp; ++i)
        if (is_ctl(static_cast<unsigned char>(line[i])) || line[i] == ' ') return false;
    return is_http1_version(line.substr(last_sp + 1));
}

bool response_start(std::string_view buf) {
    if (buf.size() < 12 || !is_http1_version(buf.substr(0, 8)) || buf[8] != ' ') return false;
    for (size_t i = 9; i < 12; ++i)
        if (!is_digit(static_cast<unsigned char>(buf[i]))) return false;
    if (buf[9] == '0') return false;  // status codes are 100..599 (we allow up to 999)
    if (buf.size() == 12) return true;
    return buf[12] == ' ' || buf[12] == '\r' || buf[12] == '\n';
}

}  // namespace

bool is_tchar(unsigned char c) {
    if (is_digit(c) || is_alpha(c)) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '.': case '^': case '_': case '`': case '|': case '~': return true;
        default: return false;
    }
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(static_cast<unsigned char>(a[i])) != lower(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

bool is_known_method(std::string_view token) {
    for (std::string_view m : kMethods)
        if (token == m) return true;  // methods are case-sensitive
    return false;
}

HttpStart begins_http_message(std::string_view buf) {
    if (response_start(buf)) return HttpStart::Response;
    if (request_start(buf)) return HttpStart::Request;
    return HttpStart::None;
}

HttpStart begins_http_message(std::span<const unsigned char> buf) {
    return begins_http_message(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
}

bool has_connection_token(std::string_view connection, std::string_view token) {
    while (!connection.empty()) {
        const size_t comma = connection.find(',');
        std::string_view item = connection.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        connection.remove_prefix(comma + 1);
    }
    return false;
}

bool wants_close(const std::optional<std::string>& version, const std::optional<std::string>& connection) {
    if (connection && has_connection_token(*connection, "close")) return true;
    if (version && *version == "HTTP/1.0") return !(connection && has_connection_token(*connection, "keep-alive"));
    return false;
}

}  // namespace whoclosed
