// Bytes from the ring buffer -> a validated close_record. The kernel side is
// trusted to be well-meaning, not to be right: a size or enum mismatch (e.g. a
// stale BPF object) must be reported, not printed as garbage.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "whoclosed.h"

namespace whoclosed {

// Returns the record, or nullopt and (if error is non-null) why it was rejected.
// A sample whose record says WC_F_HEADS_FOLLOW also carries its socket's
// HTTP heads: they go to `heads` (which must then be given; else rejected).
std::optional<close_record> decode_close_record(const void* data, size_t size, std::string* error,
                                                http_record* heads = nullptr);

// The ring sample of a record followed by its socket's heads, laid out as
// the kernel does it (see WC_F_HEADS_FOLLOW): for the records the reader
// takes out of the socket table itself, and for tests.
std::vector<char> encode_record_with_heads(close_record rec, const http_record& heads);

}  // namespace whoclosed
