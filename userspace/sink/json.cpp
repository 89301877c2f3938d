#include "sink/json.h"

#include <array>
#include <charconv>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace whoclosed {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if there is none
// (RFC 3629 table 4: rejects overlongs, surrogates and code points > U+10FFFF).
size_t utf8_sequence_length(std::string_view s, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 < 0x80) return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) len = 2;
    else if (b0 == 0xE0) len = 3, lo = 0xA0;
    else if (b0 == 0xED) len = 3, hi = 0x9F;
    else if (b0 >= 0xE1 && b0 <= 0xEF) len = 3;
    else if (b0 == 0xF0) len = 4, lo = 0x90;
    else if (b0 >= 0xF1 && b0 <= 0xF3) len = 4;
    else if (b0 == 0xF4) len = 4, hi = 0x8F;
    else return 0;
    if (i + len > s.size()) return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (size_t k = 2; k < len; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    return len;
}

void append_u00(std::string& out, unsigned v) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\u00";
    out += kHex[(v >> 4) & 0xF];
    out += kHex[v & 0xF];
}

}  // namespace

namespace {

// Bytes copied as they are: printable ASCII but the quote and the backslash.
constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x7F; ++c) t[static_cast<size_t>(c)] = c != '"' && c != '\\';
    return t;
}();

bool is_plain_ascii(unsigned char c) { return kPlain[c]; }

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (size_t i = 0; i < s.size();) {
        // Hot path (every key and most values): copy a run of plain ASCII at once.
        size_t run = i;
        while (run < s.size() && is_plain_ascii(static_cast<unsigned char>(s[run]))) run++;
        if (run > i) {
            out.append(s.data() + i, run - i);
            i = run;
            continue;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t len = utf8_sequence_length(s, i);
        if (len == 0) {
            out += "\\ufffd";
            i += 1;
        } else if (len == 1) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else {
                append_u00(out, c);  // C0 controls and DEL
            }
            i += 1;
        } else if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
            append_u00(out, static_cast<unsigned char>(s[i + 1]));  // C1 control U+0080..U+009F
            i += 2;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    out += '"';
}

std::string json_string(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

void append_json_double(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char buf[400];  // fixed notation of DBL_MAX has 309 digits
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
    if (ec != std::errc()) {
        out += "null";
        return;
    }
    std::string_view text(buf, static_cast<size_t>(end - buf));
    while (text.back() == '0') text.remove_suffix(1);
    if (text.back() == '.') text.remove_suffix(1);
    if (text == "-0") text = "0";  // e.g. -0.0001 rounded
    out.append(text);
}

void append_json_uint(std::string& out, uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(end - buf));
}

void append_json_opt_uint(std::string& out, const std::optional<uint64_t>& v) {
    if (v) append_json_uint(out, *v);
    else out += "null";
}

void append_json_opt_double(std::string& out, const std::optional<double>& v) {
    if (v) append_json_double(out, *v);
    else out += "null";
}

void append_json_opt_string(std::string& out, const std::optional<std::string>& v) {
    if (v) append_json_string(out, *v);
    else out += "null";
}

void append_json_strings(std::string& out, const std::vector<std::string>& v) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, v[i]);
    }
    out += ']';
}

std::string format_rfc3339_ns(uint64_t unix_ns) {
    // Events arrive in bursts within the same second: format its date and
    // time once (gmtime_r and strftime are a good part of an event's cost).
    thread_local uint64_t cached_secs = UINT64_MAX;
    thread_local std::string cached_prefix;
    const uint64_t secs = unix_ns / 1'000'000'000;
    if (secs != cached_secs) {
        const auto t = static_cast<time_t>(secs);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[64];
        const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.", &tm);
        cached_prefix.assign(buf, n);
        cached_secs = secs;
    }
    std::string out;
    out.reserve(cached_prefix.size() + 10);
    out = cached_prefix;
    char frac[9];
    uint64_t f = unix_ns % 1'000'000'000;
    for (int i = 8; i >= 0; --i, f /= 10) frac[i] = static_cast<char>('0' + f % 10);
    out.append(frac, sizeof frac);
    out += 'Z';
    return out;
}

}  // namespace whoclosed
