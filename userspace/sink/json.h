// The few JSON primitives the sinks need, written so that every output is
// valid JSON whatever bytes the kernel handed us (comm names are arbitrary
// bytes, paths may hold anything).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace whoclosed {

// Appends s as a quoted JSON string. Valid UTF-8 passes through; '"', '\\',
// C0 controls, DEL and C1 controls (U+0080..U+009F) become \u00XX (C1 and DEL
// would otherwise drive terminals that show the output). Each byte that is
// not part of a valid UTF-8 sequence (stray continuation, overlong form,
// surrogate, > U+10FFFF, truncated sequence) becomes U+FFFD, written as
// \ufffd: lossy, as jq and Python's errors="replace" do, but always valid.
void append_json_string(std::string& out, std::string_view s);
std::string json_string(std::string_view s);

// Up to 3 decimals, trailing zeros trimmed ("3.41", "2", "0.08"), never an
// exponent; NaN and infinities (never meaningful here) become null.
void append_json_double(std::string& out, double v);

void append_json_uint(std::string& out, uint64_t v);
void append_json_opt_uint(std::string& out, const std::optional<uint64_t>& v);
void append_json_opt_double(std::string& out, const std::optional<double>& v);
void append_json_opt_string(std::string& out, const std::optional<std::string>& v);
// ["a","b"]
void append_json_strings(std::string& out, const std::vector<std::string>& v);

// Writes {"key":value,...} with keys in call order, so that a reader of
// the code sees the output's key order. end() writes the closing brace.
class JsonObjectWriter {
public:
    explicit JsonObjectWriter(std::string& out) : out_(out) { out_ += '{'; }

    // Keys are the program's own literals (plain ASCII, see the contract):
    // no escaping pass, and their length is known at compile time, so
    // `,"name":` is assembled with fixed-size copies and appended at once
    // (a copy of run-time length under a known bound compiled to `rep movs`,
    // which cost a fifth of the tracer's time).
    // Writes "key": and returns the buffer, for a nested value built by the caller.
    template <size_t N>
    std::string& key(const char (&name)[N]) {
        char buf[N + 3];
        buf[0] = ',';
        buf[1] = '"';
        std::memcpy(buf + 2, name, N - 1);
        buf[N + 1] = '"';
        buf[N + 2] = ':';
        const bool first = first_;
        first_ = false;
        return first ? out_.append(buf + 1, N + 2) : out_.append(buf, N + 3);
    }
    // A key known only at run time (report tables): same output, slower.
    std::string& dynamic_key(std::string_view name) {
        out_.append(first_ ? "\"" : ",\"");
        first_ = false;
        return out_.append(name).append("\":");
    }
    template <size_t N>
    JsonObjectWriter& str(const char (&name)[N], std::string_view v) {
        append_json_string(key(name), v);
        return *this;
    }
    template <size_t N>
    JsonObjectWriter& opt_str(const char (&name)[N], const std::optional<std::string>& v) {
        append_json_opt_string(key(name), v);
        return *this;
    }
    template <size_t N>
    JsonObjectWriter& uint(const char (&name)[N], uint64_t v) {
        append_json_uint(key(name), v);
        return *this;
    }
    template <size_t N>
    JsonObjectWriter& opt_uint(const char (&name)[N], const std::optional<uint64_t>& v) {
        append_json_opt_uint(key(name), v);
        return *this;
    }
    template <size_t N>
    JsonObjectWriter& dbl(const char (&name)[N], double v) {
        append_json_double(key(name), v);
        return *this;
    }
    template <size_t N>
    JsonObjectWriter& opt_dbl(const char (&name)[N], const std::optional<double>& v) {
        append_json_opt_double(key(name), v);
        return *this;
    }
    template <size_t N>
    JsonObjectWriter& boolean(const char (&name)[N], bool v) {
        key(name) += v ? "true" : "false";
        return *this;
    }
    template <size_t N>
    JsonObjectWriter& null(const char (&name)[N]) {
        key(name) += "null";
        return *this;
    }
    template <size_t N>
    JsonObjectWriter& strings(const char (&name)[N], const std::vector<std::string>& v) {
        append_json_strings(key(name), v);
        return *this;
    }
    // A value already rendered as JSON, appended verbatim.
    template <size_t N>
    JsonObjectWriter& raw(const char (&name)[N], std::string_view json) {
        key(name).append(json);
        return *this;
    }
    void end() { out_ += '}'; }

private:
    std::string& out_;
    bool first_ = true;
};

// RFC 3339 UTC with nanoseconds: "2026-11-25T10:00:00.123456789Z".
std::string format_rfc3339_ns(uint64_t unix_ns);

}  // namespace whoclosed
