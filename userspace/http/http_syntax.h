// HTTP/1.x syntax shared by the stream parser, the tracker and reason
// inference: the bounds, the cheap "does this buffer begin a message" test
// (userspace's double check of the kernel's prefix test) and RFC 9112 §9.3
// persistence rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace whoclosed {

inline constexpr size_t kHttpCaptureBytes = 512;  // what the kernel copies of one read/write
inline constexpr size_t kHttpMaxValue = 256;      // header values and paths are cut to this
inline constexpr size_t kHttpMaxName = 32;        // longer header names are none we keep

enum class HttpStart : uint8_t { None, Request, Response };

// Whether buf begins an HTTP/1.x request ("GET /x HTTP/1.1", a known method,
// SP, then '/', '*' or a scheme/authority) or response ("HTTP/1.0 " or
// "HTTP/1.1 ", three digits, then SP, CR or LF). If the first line ends
// inside buf, the whole line must be valid too. Too few bytes to tell: None.
HttpStart begins_http_message(std::span<const unsigned char> buf);
HttpStart begins_http_message(std::string_view buf);

// The methods accepted at a message start (RFC 9110 §9 and PATCH).
bool is_known_method(std::string_view token);

// Connection is a comma-separated list of case-insensitive tokens.
bool has_connection_token(std::string_view connection, std::string_view token);

// RFC 9112 §9.3: a message asks to close the connection after it if its
// Connection lists "close", or if it is HTTP/1.0 without "keep-alive".
// An unknown version with no Connection "close" does not ask.
bool wants_close(const std::optional<std::string>& version, const std::optional<std::string>& connection);

// Character classes (RFC 9110 §5.6.2).
bool is_tchar(unsigned char c);
inline bool is_ctl(unsigned char c) { return c < 0x20 || c == 0x7F; }
bool iequals(std::string_view a, std::string_view b);

}  // namespace whoclosed
