#include "decode/decoder.h"

#include <cstddef>
#include <cstring>

namespace whoclosed {

namespace {

constexpr unsigned short kAfInet = 2;    // AF_INET on every Linux ABI
constexpr unsigned short kAfInet6 = 10;  // AF_INET6

std::optional<close_record> reject(std::string* error, std::string why) {
    if (error) *error = std::move(why);
    return std::nullopt;
}

}  // namespace

std::optional<close_record> decode_close_record(const void* data, size_t size, std::string* error) {
    if (data == nullptr || (size != sizeof(close_record) && size != WC_RECORD_SHORT))
        return reject(error, "close record has " + std::to_string(size) + " bytes, expected " +
                                 std::to_string(sizeof(close_record)) + " or " + std::to_string(WC_RECORD_SHORT) +
                                 " (kernel/user ABI mismatch?)");
    // Ring-buffer samples are only 8-byte aligned and may come from any
    // buffer: copy instead of casting. A short record has no user stack.
    close_record rec;
    std::memcpy(&rec, data, size);
    rec.cookie &= ~WC_COOKIE_TAKEN;  // emitted out of a slot (bpf/whoclosed.h)
    if (size == WC_RECORD_SHORT) {
        std::memset(rec.ustack, 0, sizeof rec.ustack);
        if (rec.ustack_len > 0)
            return reject(error, "close record without its user stack says it has " +
                                     std::to_string(rec.ustack_len) + " frames");
    }

    if (rec.family != kAfInet && rec.family != kAfInet6)
        return reject(error, "close record has address family " + std::to_string(rec.family));
    if (rec.nstates > WC_MAX_STATES)
        return reject(error, "close record has " + std::to_string(rec.nstates) + " states, max " +
                                 std::to_string(WC_MAX_STATES));
    for (unsigned i = 0; i < rec.nstates; ++i) {
        if (rec.states[i] < WC_TCP_ESTABLISHED || rec.states[i] > WC_TCP_NEW_SYN_RECV)
            return reject(error, "close record has invalid TCP state " + std::to_string(rec.states[i]) +
                                     " at index " + std::to_string(i));
    }
    if (error) error->clear();
    return rec;
}

}  // namespace whoclosed
