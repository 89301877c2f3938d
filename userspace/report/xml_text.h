// Text and attribute values for SVG and HTML output. Frame names, comms and
// User-Agents are arbitrary bytes from the trace: whatever they hold, the
// result must stay well-formed XML (and HTML).
#pragma once

#include <string>
#include <string_view>

namespace whoclosed {

// Escapes & < > " ' as entities; bytes that are not valid UTF-8, and code
// points XML 1.0 forbids (C0 controls but tab/newline/CR, surrogates,
// U+FFFE/U+FFFF), become U+FFFD.
std::string xml_escape(std::string_view s);

}  // namespace whoclosed
