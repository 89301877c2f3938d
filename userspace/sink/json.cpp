#include "sink/json.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace whoclosed {

void ByteBuffer::grow(size_t need) {
    size_t cap = cap_ ? cap_ : 4096;
    while (cap - size_ < need) cap *= 2;
    auto bigger = std::make_unique<char[]>(cap);
    if (size_) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    cap_ = cap;
}

namespace json_detail {

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

const std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x7F; ++c) t[static_cast<size_t>(c)] = c != '"' && c != '\\';
    return t;
}();

// Thousandths of v, rounded to nearest, when v * 1000 in doubles decides
// it: rounding is monotonic and every k + 0.5 below 2^52 is a double, so the
// computed product lies on the same side of a tie as the exact one, or
// exactly on it. Only that case (and values that are negative, large or not
// finite) is left to the exact conversion: nullopt.
std::optional<uint64_t> certain_thousandths(double v) {
    if (!(v >= 0.0 && v < 1e6)) return std::nullopt;
    const double scaled = v * 1000.0;
    const double whole = std::floor(scaled);
    const double frac = scaled - whole;  // exact: both below 2^52
    if (frac == 0.5) return std::nullopt;
    return static_cast<uint64_t>(whole) + (frac > 0.5 ? 1 : 0);
}

std::string_view double_text(double v, char (&buf)[400]) {
    // Durations in milliseconds, twice per event: integer digits instead of
    // to_chars' exact fixed-precision conversion (6% of the tracer's time).
    if (const auto milli = certain_thousandths(v)) {
        char* end = std::to_chars(buf, buf + 32, *milli / 1000).ptr;
        if (unsigned frac = static_cast<unsigned>(*milli % 1000)) {
            *end++ = '.';
            *end++ = static_cast<char>('0' + frac / 100);
            frac %= 100;
            if (frac) {
                *end++ = static_cast<char>('0' + frac / 10);
                frac %= 10;
                if (frac) *end++ = static_cast<char>('0' + frac);
            }
        }
        return {buf, static_cast<size_t>(end - buf)};
    }
    if (!std::isfinite(v)) return {};
    // fixed notation of DBL_MAX has 309 digits
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
    if (ec != std::errc()) return {};
    std::string_view text(buf, static_cast<size_t>(end - buf));
    while (text.back() == '0') text.remove_suffix(1);
    if (text.back() == '.') text.remove_suffix(1);
    if (text == "-0") text = "0";  // e.g. -0.0001 rounded
    return text;
}

}  // namespace json_detail

std::string json_string(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

std::string_view format_rfc3339_ns(uint64_t unix_ns, char (&buf)[32]) {
    // Events arrive in bursts within the same second: format its date and
    // time once (gmtime_r and strftime are a good part of an event's cost).
    thread_local uint64_t cached_secs = UINT64_MAX;
    thread_local char cached_prefix[32];
    thread_local size_t cached_len = 0;
    const uint64_t secs = unix_ns / 1'000'000'000;
    if (secs != cached_secs) {
        const auto t = static_cast<time_t>(secs);
        std::tm tm{};
        gmtime_r(&t, &tm);
        cached_len = std::strftime(cached_prefix, sizeof cached_prefix, "%Y-%m-%dT%H:%M:%S.", &tm);
        cached_secs = secs;
    }
    std::memcpy(buf, cached_prefix, cached_len);
    uint64_t f = unix_ns % 1'000'000'000;
    for (int i = 8; i >= 0; --i, f /= 10) buf[cached_len + static_cast<size_t>(i)] = static_cast<char>('0' + f % 10);
    buf[cached_len + 9] = 'Z';
    return std::string_view(buf, cached_len + 10);
}

std::string format_rfc3339_ns(uint64_t unix_ns) {
    char buf[32];
    return std::string(format_rfc3339_ns(unix_ns, buf));
}

}  // namespace whoclosed
