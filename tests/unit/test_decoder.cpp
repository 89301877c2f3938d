#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "decode/decoder.h"
#include "record_builder.h"

namespace whoclosed {
namespace {

using test_support::make_record;

// Copies the record into a byte buffer at an odd offset: ring-buffer samples
// carry no alignment promise for userspace structs.
std::vector<unsigned char> bytes_at_offset(const close_record& r, size_t offset, size_t size) {
    std::vector<unsigned char> buf(offset + size + 8, 0xAB);
    std::memcpy(buf.data() + offset, &r, std::min(size, sizeof r));
    return buf;
}

TEST(Decoder, AcceptsAValidRecordFromAnUnalignedBuffer) {
    close_record r = make_record({WC_TCP_SYN_SENT, WC_TCP_ESTABLISHED, WC_TCP_CLOSE}, WC_F_SEEN_OPEN);
    r.cookie = 0x1122334455667788ULL;
    r.sport = 8081;
    auto buf = bytes_at_offset(r, 3, sizeof r);
    std::string err = "stale";
    auto rec = decode_close_record(buf.data() + 3, sizeof r, &err);
    ASSERT_TRUE(rec.has_value()) << err;
    EXPECT_TRUE(err.empty());
    EXPECT_EQ(rec->cookie, 0x1122334455667788ULL);
    EXPECT_EQ(rec->sport, 8081);
    EXPECT_EQ(rec->nstates, 3);
    EXPECT_EQ(rec->states[2], WC_TCP_CLOSE);
    EXPECT_EQ(rec->flags, static_cast<unsigned>(WC_F_SEEN_OPEN));
}

TEST(Decoder, RejectsWrongSizes) {
    const close_record r = make_record({WC_TCP_ESTABLISHED, WC_TCP_CLOSE});
    for (size_t size : {size_t{0}, sizeof r - 1, sizeof r + 1, sizeof r / 2}) {
        auto buf = bytes_at_offset(r, 0, size);
        std::string err;
        EXPECT_FALSE(decode_close_record(buf.data(), size, &err).has_value()) << size;
        EXPECT_NE(err.find(std::to_string(size)), std::string::npos) << err;
    }
    EXPECT_FALSE(decode_close_record(nullptr, sizeof r, nullptr).has_value());
}

TEST(Decoder, RejectsUnknownFamilies) {
    for (unsigned short family : {0, 1, 3, 17, 0xFFFF}) {
        close_record r = make_record({WC_TCP_ESTABLISHED, WC_TCP_CLOSE});
        r.family = family;
        std::string err;
        EXPECT_FALSE(decode_close_record(&r, sizeof r, &err).has_value()) << family;
        EXPECT_NE(err.find("family"), std::string::npos);
    }
    close_record v6 = make_record({WC_TCP_ESTABLISHED, WC_TCP_CLOSE});
    v6.family = 10;
    EXPECT_TRUE(decode_close_record(&v6, sizeof v6, nullptr).has_value());
}

TEST(Decoder, RejectsStatesOutsideOneToTwelve) {
    for (unsigned char bad : {0, 13, 255}) {
        close_record r = make_record({WC_TCP_ESTABLISHED, bad, WC_TCP_CLOSE});
        std::string err;
        EXPECT_FALSE(decode_close_record(&r, sizeof r, &err).has_value()) << int(bad);
        EXPECT_NE(err.find("state"), std::string::npos);
    }
}

TEST(Decoder, RejectsTooManyStates) {
    close_record r = make_record({});
    std::memset(r.states, WC_TCP_ESTABLISHED, sizeof r.states);
    r.nstates = WC_MAX_STATES;
    EXPECT_TRUE(decode_close_record(&r, sizeof r, nullptr).has_value());
    r.nstates = WC_MAX_STATES + 1;
    EXPECT_FALSE(decode_close_record(&r, sizeof r, nullptr).has_value());
}

TEST(Decoder, IgnoresBytesPastNstates) {
    close_record r = make_record({WC_TCP_ESTABLISHED, WC_TCP_CLOSE});
    r.states[5] = 200;  // stale slot the kernel never filled
    EXPECT_TRUE(decode_close_record(&r, sizeof r, nullptr).has_value());
}

}  // namespace
}  // namespace whoclosed

namespace whoclosed {
namespace {

using test_support::make_record;

close_record_http http_sample() {
    close_record_http s{};
    s.base = make_record({WC_TCP_SYN_RECV, WC_TCP_ESTABLISHED, WC_TCP_FIN_WAIT1, WC_TCP_FIN_WAIT2, WC_TCP_CLOSE});
    s.base.flags |= WC_F_HAS_HTTP;
    const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    std::memcpy(s.http.req, req, sizeof req - 1);
    s.http.req_len = sizeof req - 1;
    s.http.requests = 1;
    s.http.source = WC_HTTP_SRC_SYSCALL;
    return s;
}

TEST(Decoder, AcceptsARecordWithHttpHeadsAndHandsThemOut) {
    close_record_http s = http_sample();
    std::string err;
    auto rec = decode_close_record(&s, sizeof s, &err);
    ASSERT_TRUE(rec.has_value()) << err;
    auto http = decode_http_part(&s, sizeof s, &err);
    ASSERT_TRUE(http.has_value()) << err;
    EXPECT_EQ(http->requests, 1u);
    EXPECT_EQ(std::string(http->req, http->req_len), "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_FALSE(decode_http_part(&s.base, sizeof s.base, &err).has_value());
}

TEST(Decoder, RejectsHttpFlagThatDisagreesWithSizeAndOverlongHeads) {
    close_record_http s = http_sample();
    std::string err;
    s.base.flags &= ~WC_F_HAS_HTTP;
    EXPECT_FALSE(decode_close_record(&s, sizeof s, &err).has_value());
    close_record plain = http_sample().base;  // flag set, but no HTTP part follows
    EXPECT_FALSE(decode_close_record(&plain, sizeof plain, &err).has_value());
    s = http_sample();
    s.http.resp_len = WC_HTTP_HEAD + 1;
    EXPECT_FALSE(decode_http_part(&s, sizeof s, &err).has_value());
    s = http_sample();
    s.http.source = 9;
    EXPECT_FALSE(decode_http_part(&s, sizeof s, &err).has_value());
}

}  // namespace
}  // namespace whoclosed
