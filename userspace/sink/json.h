// The few JSON primitives the sinks need, written so that every output is
// valid JSON whatever bytes the kernel handed us (comm names are arbitrary
// bytes, paths may hold anything).
#pragma once

#include <cstddef>
#include <cstdint>
#include <array>
#include <charconv>
#include <memory>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace whoclosed {

// A growable byte buffer whose appends are inline: a line sink formats
// every event into one, and std::string's appends are out-of-line calls
// with their own checks (about a third of the tracer's time was spent in
// them). Holds what the JSON primitives below need of an output.
class ByteBuffer {
public:
    ByteBuffer& append(const char* p, size_t n) {
        if (n == 0) return *this;  // (memcpy wants a valid pointer even for 0 bytes)
        if (n > cap_ - size_) grow(n);
        char* d = data_.get() + size_;
        if (n <= 16) copy_small(d, p, n);
        else std::memcpy(d, p, n);
        size_ += n;
        return *this;
    }
    ByteBuffer& append(std::string_view s) { return append(s.data(), s.size()); }
    // Room for n more bytes, which the caller writes at the returned address.
    char* extend(size_t n) {
        if (n > cap_ - size_) grow(n);
        char* at = data_.get() + size_;
        size_ += n;
        return at;
    }
    ByteBuffer& operator+=(std::string_view s) { return append(s.data(), s.size()); }
    ByteBuffer& operator+=(char c) {
        if (size_ == cap_) grow(1);
        data_[size_++] = c;
        return *this;
    }
    const char* data() const { return data_.get(); }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    void clear() { size_ = 0; }  // keeps the memory: the next batch reuses it
    std::string str() const { return std::string(data(), size_); }

private:
    // Most pieces of a line are short (values, quotes, separators): two
    // overlapping fixed-size moves instead of a call to memcpy, which was a
    // sixth of the tracer's time.
    static void copy_small(char* d, const char* s, size_t n) {
        if (n >= 8) {
            uint64_t head, tail;
            std::memcpy(&head, s, 8);
            std::memcpy(&tail, s + n - 8, 8);
            std::memcpy(d, &head, 8);
            std::memcpy(d + n - 8, &tail, 8);
        } else if (n >= 4) {
            uint32_t head, tail;
            std::memcpy(&head, s, 4);
            std::memcpy(&tail, s + n - 4, 4);
            std::memcpy(d, &head, 4);
            std::memcpy(d + n - 4, &tail, 4);
        } else {
            d[0] = s[0];
            d[n / 2] = s[n / 2];
            d[n - 1] = s[n - 1];
        }
    }
    void grow(size_t need);
    std::unique_ptr<char[]> data_;
    size_t size_ = 0, cap_ = 0;
};

namespace json_detail {

size_t utf8_sequence_length(std::string_view s, size_t i);
extern const std::array<bool, 256> kPlain;  // printable ASCII but '"' and '\\'

// Whether the 8 bytes at p are all plain (kPlain): none below 0x20, none
// from 0x7F up, no '"' and no '\\'. Each test is the classic word-at-a-time
// one: a byte below n sets its high bit in (w - n * 0x01..) & ~w, and a
// zero byte (x ^ c for a byte equal to c) the same in (x - 0x01..) & ~x; a
// borrow can mark more bytes only above one that is marked already, so
// "any byte" is exact.
inline bool plain_word(const char* p) {
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
    uint64_t w;
    std::memcpy(&w, p, 8);
    const auto below = [](uint64_t x, uint64_t n) { return (x - kOnes * n) & ~x & kHigh; };
    const uint64_t bad = (w & kHigh) | below(w, 0x20) | below(w ^ (kOnes * 0x7F), 1) |
                         below(w ^ (kOnes * '"'), 1) | below(w ^ (kOnes * '\\'), 1);
    return bad == 0;
}

template <class Out>
void append_u00(Out& out, unsigned v) {
    static constexpr char kHex[] = "0123456789abcdef";
    const char esc[6] = {'\\', 'u', '0', '0', kHex[(v >> 4) & 0xF], kHex[v & 0xF]};
    out.append(esc, sizeof esc);
}

// The shortest text of v with up to 3 decimals, or empty for null.
std::string_view double_text(double v, char (&buf)[400]);
// round(v * 1000) where doubles decide it for certain, else nullopt (the
// fast path of double_text).
std::optional<uint64_t> certain_thousandths(double v);

}  // namespace json_detail

// The primitives below append to any Out with append(const char*, size_t)
// and += char: std::string (reports) or ByteBuffer (the trace's sinks).

// Appends s as a quoted JSON string. Valid UTF-8 passes through; '"', '\\',
// C0 controls, DEL and C1 controls (U+0080..U+009F) become \u00XX (C1 and DEL
// would otherwise drive terminals that show the output). Each byte that is
// not part of a valid UTF-8 sequence (stray continuation, overlong form,
// surrogate, > U+10FFFF, truncated sequence) becomes U+FFFD, written as
// \ufffd: lossy, as jq and Python's errors="replace" do, but always valid.
template <class Out>
void append_json_string(Out& out, std::string_view s) {
    using json_detail::kPlain;
    out += '"';
    for (size_t i = 0; i < s.size();) {
        // Hot path (every key and most values): copy a run of plain ASCII at
        // once, found 8 bytes at a time while they last.
        size_t run = i;
        while (s.size() - run >= 8 && json_detail::plain_word(s.data() + run)) run += 8;
        while (run < s.size() && kPlain[static_cast<unsigned char>(s[run])]) run++;
        if (run > i) {
            out.append(s.data() + i, run - i);
            i = run;
            continue;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t len = json_detail::utf8_sequence_length(s, i);
        if (len == 0) {
            out.append("\\ufffd", 6);
            i += 1;
        } else if (len == 1) {
            if (c == '"' || c == '\\') {
                const char esc[2] = {'\\', static_cast<char>(c)};
                out.append(esc, 2);
            } else {
                json_detail::append_u00(out, c);  // C0 controls and DEL
            }
            i += 1;
        } else if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
            json_detail::append_u00(out, static_cast<unsigned char>(s[i + 1]));  // C1 control U+0080..U+009F
            i += 2;
        } else {
            out.append(s.data() + i, len);
            i += len;
        }
    }
    out += '"';
}

std::string json_string(std::string_view s);

// Up to 3 decimals, trailing zeros trimmed ("3.41", "2", "0.08"), never an
// exponent; NaN and infinities (never meaningful here) become null.
template <class Out>
void append_json_double(Out& out, double v) {
    char buf[400];
    const std::string_view text = json_detail::double_text(v, buf);
    if (text.empty()) out.append("null", 4);
    else out.append(text.data(), text.size());
}

template <class Out>
void append_json_uint(Out& out, uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(end - buf));
}

template <class Out>
void append_json_opt_uint(Out& out, const std::optional<uint64_t>& v) {
    if (v) append_json_uint(out, *v);
    else out.append("null", 4);
}

template <class Out>
void append_json_opt_double(Out& out, const std::optional<double>& v) {
    if (v) append_json_double(out, *v);
    else out.append("null", 4);
}

template <class Out>
void append_json_opt_string(Out& out, const std::optional<std::string>& v) {
    if (v) append_json_string(out, *v);
    else out.append("null", 4);
}

// ["a","b"]
template <class Out>
void append_json_strings(Out& out, const std::vector<std::string>& v) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, v[i]);
    }
    out += ']';
}

// Writes {"key":value,...} with keys in call order, so that a reader of
// the code sees the output's key order. end() writes the closing brace.
template <class Out>
class BasicJsonObjectWriter {
public:
    explicit BasicJsonObjectWriter(Out& out) : out_(out) { out_ += '{'; }

    // Keys are the program's own literals (plain ASCII, see the contract):
    // no escaping pass, and their length is known at compile time, so
    // `,"name":` is written with fixed-size copies (a copy of run-time
    // length under a known bound compiled to `rep movs`, which cost a fifth
    // of the tracer's time), straight into the output where it allows that
    // (assembled on the stack first, its bytes were stored one way and
    // loaded back another, a stall per key).
    // Writes "key": and returns the buffer, for a nested value built by the caller.
    template <size_t N>
    Out& key(const char (&name)[N]) {
        const bool first = first_;
        first_ = false;
        if constexpr (requires { out_.extend(size_t{}); }) {
            char* p = out_.extend(first ? N + 2 : N + 3);
            if (!first) *p++ = ',';
            p[0] = '"';
            std::memcpy(p + 1, name, N - 1);
            p[N] = '"';
            p[N + 1] = ':';
        } else {
            char buf[N + 3];
            buf[0] = ',';
            buf[1] = '"';
            std::memcpy(buf + 2, name, N - 1);
            buf[N + 1] = '"';
            buf[N + 2] = ':';
            if (first) out_.append(buf + 1, N + 2);
            else out_.append(buf, N + 3);
        }
        return out_;
    }
    // A key known only at run time (report tables): same output, slower.
    Out& dynamic_key(std::string_view name) {
        if (!first_) out_ += ',';
        first_ = false;
        out_ += '"';
        out_.append(name.data(), name.size());
        out_.append("\":", 2);
        return out_;
    }
    template <size_t N>
    BasicJsonObjectWriter& str(const char (&name)[N], std::string_view v) {
        append_json_string(key(name), v);
        return *this;
    }
    // A value that is one of the program's own names (enum values such as
    // "close", "server", "request_connection_close": plain ASCII, see the
    // contract), written without the escaping pass.
    template <size_t N>
    BasicJsonObjectWriter& literal(const char (&key_name)[N], std::string_view v) {
        Out& o = key(key_name);
        o += '"';
        o.append(v.data(), v.size());
        o += '"';
        return *this;
    }
    template <size_t N>
    BasicJsonObjectWriter& opt_str(const char (&name)[N], const std::optional<std::string>& v) {
        append_json_opt_string(key(name), v);
        return *this;
    }
    template <size_t N>
    BasicJsonObjectWriter& uint(const char (&name)[N], uint64_t v) {
        append_json_uint(key(name), v);
        return *this;
    }
    template <size_t N>
    BasicJsonObjectWriter& opt_uint(const char (&name)[N], const std::optional<uint64_t>& v) {
        append_json_opt_uint(key(name), v);
        return *this;
    }
    template <size_t N>
    BasicJsonObjectWriter& dbl(const char (&name)[N], double v) {
        append_json_double(key(name), v);
        return *this;
    }
    template <size_t N>
    BasicJsonObjectWriter& opt_dbl(const char (&name)[N], const std::optional<double>& v) {
        append_json_opt_double(key(name), v);
        return *this;
    }
    template <size_t N>
    BasicJsonObjectWriter& boolean(const char (&name)[N], bool v) {
        if (v) key(name).append("true", 4);
        else key(name).append("false", 5);
        return *this;
    }
    template <size_t N>
    BasicJsonObjectWriter& null(const char (&name)[N]) {
        key(name).append("null", 4);
        return *this;
    }
    template <size_t N>
    BasicJsonObjectWriter& strings(const char (&name)[N], const std::vector<std::string>& v) {
        append_json_strings(key(name), v);
        return *this;
    }
    // A value already rendered as JSON, appended verbatim.
    template <size_t N>
    BasicJsonObjectWriter& raw(const char (&name)[N], std::string_view json) {
        key(name).append(json.data(), json.size());
        return *this;
    }
    void end() { out_ += '}'; }

private:
    Out& out_;
    bool first_ = true;
};

using JsonObjectWriter = BasicJsonObjectWriter<std::string>;

// RFC 3339 UTC with nanoseconds: "2026-11-25T10:00:00.123456789Z".
std::string format_rfc3339_ns(uint64_t unix_ns);
// The same into buf (30 bytes), without an allocation; returns the text.
std::string_view format_rfc3339_ns(uint64_t unix_ns, char (&buf)[32]);

}  // namespace whoclosed
