// The few JSON primitives the sinks need, written so that every output is
// valid JSON whatever bytes the kernel handed us (comm names are arbitrary
// bytes, paths may hold anything).
#pragma once

#include <cstdint>
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

// Writes {"key":value,...} with keys in call order, so that a reader of
// the code sees the output's key order. end() writes the closing brace.
class JsonObjectWriter {
public:
    explicit JsonObjectWriter(std::string& out) : out_(out) { out_ += '{'; }

    // Writes "key": and returns the buffer, for a nested value built by the caller.
    std::string& key(std::string_view name);
    JsonObjectWriter& str(std::string_view name, std::string_view v);
    JsonObjectWriter& opt_str(std::string_view name, const std::optional<std::string>& v);
    JsonObjectWriter& uint(std::string_view name, uint64_t v);
    JsonObjectWriter& opt_uint(std::string_view name, const std::optional<uint64_t>& v);
    JsonObjectWriter& dbl(std::string_view name, double v);
    JsonObjectWriter& opt_dbl(std::string_view name, const std::optional<double>& v);
    JsonObjectWriter& boolean(std::string_view name, bool v);
    JsonObjectWriter& null(std::string_view name);
    JsonObjectWriter& strings(std::string_view name, const std::vector<std::string>& v);
    // A value already rendered as JSON, appended verbatim.
    JsonObjectWriter& raw(std::string_view name, std::string_view json);
    void end() { out_ += '}'; }

private:
    std::string& out_;
    bool first_ = true;
};

// RFC 3339 UTC with nanoseconds: "2026-11-25T10:00:00.123456789Z".
std::string format_rfc3339_ns(uint64_t unix_ns);

}  // namespace whoclosed
