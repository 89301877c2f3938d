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

template <typename T>
T field_at(const void* data, size_t offset) {
    T v;
    std::memcpy(&v, static_cast<const char*>(data) + offset, sizeof v);
    return v;
}

std::optional<close_record> decode_plain(const void* data, size_t size, std::string* error) {
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

}  // namespace

std::optional<close_record> decode_close_record(const void* data, size_t size, std::string* error,
                                                http_record* heads) {
    if (data != nullptr && size >= WC_RECORD_SHORT &&
        (field_at<unsigned int>(data, offsetof(close_record, flags)) & WC_F_HEADS_FOLLOW)) {
        // record, fixed part of the heads, request head, response head
        const size_t rec_size = WC_RECORD_LEN(field_at<int>(data, offsetof(close_record, ustack_len)));
        if (!heads) return reject(error, "close record with HTTP heads where none are expected");
        if (size < rec_size + WC_HEADS_FIXED)
            return reject(error, "close record with HTTP heads has " + std::to_string(size) +
                                     " bytes, fewer than its fixed part");
        std::memcpy(heads, static_cast<const char*>(data) + rec_size, WC_HEADS_FIXED);
        if (heads->source == WC_HTTP_SRC_NONE || heads->source > WC_HTTP_SRC_LIBC)
            return reject(error, "close record with HTTP heads from unknown source " + std::to_string(heads->source));
        if (heads->req_len >= WC_HTTP_HEAD || heads->resp_len >= WC_HTTP_HEAD ||
            size != rec_size + WC_HEADS_FIXED + heads->req_len + heads->resp_len)
            return reject(error, "close record with HTTP heads has " + std::to_string(size) +
                                     " bytes, which its head lengths " + std::to_string(heads->req_len) + " and " +
                                     std::to_string(heads->resp_len) + " do not add up to");
        const char* p = static_cast<const char*>(data) + rec_size + WC_HEADS_FIXED;
        std::memcpy(heads->req, p, heads->req_len);
        std::memcpy(heads->resp, p + heads->req_len, heads->resp_len);
        auto rec = decode_plain(data, rec_size, error);
        if (rec) rec->flags &= ~WC_F_HEADS_FOLLOW;
        return rec;
    }
    return decode_plain(data, size, error);
}

std::vector<char> encode_record_with_heads(close_record rec, const http_record& heads) {
    rec.flags |= WC_F_HEADS_FOLLOW;
    const size_t rec_size = WC_RECORD_LEN(rec.ustack_len);
    const size_t req = heads.req_len < WC_HTTP_HEAD ? heads.req_len : 0;
    const size_t resp = heads.resp_len < WC_HTTP_HEAD ? heads.resp_len : 0;
    std::vector<char> out(rec_size + WC_HEADS_FIXED + req + resp);
    std::memcpy(out.data(), &rec, rec_size);
    http_record fixed = heads;
    fixed.req_len = static_cast<unsigned short>(req);
    fixed.resp_len = static_cast<unsigned short>(resp);
    std::memcpy(out.data() + rec_size, &fixed, WC_HEADS_FIXED);
    std::memcpy(out.data() + rec_size + WC_HEADS_FIXED, heads.req, req);
    std::memcpy(out.data() + rec_size + WC_HEADS_FIXED + req, heads.resp, resp);
    return out;
}

}  // namespace whoclosed
