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
std::optional<close_record> decode_close_record(const void* data, size_t size, std::string* error);

}  // namespace whoclosed
