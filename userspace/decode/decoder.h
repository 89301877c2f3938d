// Bytes from the ring buffer -> a validated close_record. The kernel side is
// trusted to be well-meaning, not to be right: a size or enum mismatch (e.g. a
// stale BPF object) must be reported, not printed as garbage.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "whoclosed.h"

namespace whoclosed {

// Returns the record, or nullopt and (if error is non-null) why it was rejected.
// A sample is a close_record, or a close_record_http when WC_F_HAS_HTTP is set.
std::optional<close_record> decode_close_record(const void* data, size_t size, std::string* error);

// The HTTP heads of a close_record_http sample (bounds checked), else nullopt.
std::optional<http_record> decode_http_part(const void* data, size_t size, std::string* error);

}  // namespace whoclosed
