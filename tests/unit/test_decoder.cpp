#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/http_notes.h"
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

// A record the destroy hook takes out of a slot carries the slot's taken
// bit in its cookie word (bpf/whoclosed.h): the cookie is the one below it.
TEST(Decoder, ClearsTheSlotTakenBitFromTheCookie) {
    close_record r = make_record({WC_TCP_SYN_SENT, WC_TCP_ESTABLISHED, WC_TCP_CLOSE}, WC_F_SEEN_OPEN);
    r.cookie = 0x1234ULL | WC_COOKIE_TAKEN;
    auto rec = decode_close_record(&r, sizeof r, nullptr);
    ASSERT_TRUE(rec.has_value());
    EXPECT_EQ(rec->cookie, 0x1234ULL);
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

// A record without a user stack travels without ustack[] (WC_RECORD_SHORT
// bytes): the bytes after it in the ring belong to someone else and must not
// become frames.
TEST(Decoder, ShortRecordHasNoUserStack) {
    close_record r = make_record({WC_TCP_FIN_WAIT1, WC_TCP_CLOSE});
    r.cookie = 42;
    r.ustack_len = -1;
    auto buf = bytes_at_offset(r, 5, WC_RECORD_SHORT);  // 0xAB after it
    std::string err;
    auto rec = decode_close_record(buf.data() + 5, WC_RECORD_SHORT, &err);
    ASSERT_TRUE(rec.has_value()) << err;
    EXPECT_EQ(rec->cookie, 42u);
    EXPECT_EQ(rec->ustack_len, -1);
    for (unsigned long long frame : rec->ustack) EXPECT_EQ(frame, 0u);

    r.ustack_len = 3;  // says it has frames it did not carry
    buf = bytes_at_offset(r, 0, WC_RECORD_SHORT);
    EXPECT_FALSE(decode_close_record(buf.data(), WC_RECORD_SHORT, &err).has_value());
    EXPECT_NE(err.find("3 frames"), std::string::npos) << err;
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

http_note note_of(uint64_t cookie, unsigned char kind, const std::string& head, bool outbound) {
    http_note n{};
    n.cookie = cookie;
    n.magic = WC_HTTP_NOTE_MAGIC;
    n.kind = kind;
    n.outbound = outbound;
    n.source = WC_HTTP_SRC_SYSCALL;
    n.len = static_cast<unsigned short>(head.size());
    std::memcpy(n.head, head.data(), head.size());
    return n;
}

TEST(HttpNotes, DecodesOnlyWellFormedNotes) {
    http_note n = note_of(7, WC_HTTP_REQUEST, "GET / HTTP/1.1\r\n\r\n", true);
    ASSERT_TRUE(decode_http_note(&n, sizeof n).has_value());
    EXPECT_FALSE(decode_http_note(&n, sizeof n - 1).has_value());
    http_note bad = n;
    bad.magic = 0;
    EXPECT_FALSE(decode_http_note(&bad, sizeof bad).has_value());
    bad = n;
    bad.len = WC_HTTP_HEAD;
    EXPECT_FALSE(decode_http_note(&bad, sizeof bad).has_value());
    bad = n;
    bad.kind = 3;
    EXPECT_FALSE(decode_http_note(&bad, sizeof bad).has_value());
    bad = n;
    bad.source = 9;
    EXPECT_FALSE(decode_http_note(&bad, sizeof bad).has_value());
    close_record rec = make_record({WC_TCP_SYN_SENT, WC_TCP_CLOSE});
    EXPECT_FALSE(decode_http_note(&rec, sizeof rec).has_value());
}

TEST(HttpNotes, KeepsTheLastRequestAndResponsePerCookieAndCountsThem) {
    HttpNotes notes;
    notes.add(note_of(7, WC_HTTP_REQUEST, "GET /a HTTP/1.1\r\n\r\n", false));
    notes.add(note_of(8, WC_HTTP_REQUEST, "GET /other HTTP/1.1\r\n\r\n", true));
    notes.add(note_of(7, WC_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\n\r\n", true));
    notes.add(note_of(7, WC_HTTP_REQUEST, "GET /b HTTP/1.1\r\n\r\n", false));
    const http_record* h = notes.find(7);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->requests, 2u);
    EXPECT_EQ(h->responses, 1u);
    EXPECT_EQ(std::string(h->req, h->req_len), "GET /b HTTP/1.1\r\n\r\n");
    EXPECT_EQ(std::string(h->resp, h->resp_len), "HTTP/1.1 200 OK\r\n\r\n");
    EXPECT_EQ(h->req_outbound, 0);
    EXPECT_EQ(h->source, WC_HTTP_SRC_SYSCALL);
    notes.forget(7);
    EXPECT_EQ(notes.find(7), nullptr);
    EXPECT_EQ(notes.sockets(), 1u);
    notes.forget(8);
    EXPECT_EQ(notes.sockets(), 0u);
    // A new socket reuses a forgotten one's storage: nothing carries over.
    notes.add(note_of(9, WC_HTTP_REQUEST, "GET /c HTTP/1.1\r\n\r\n", true));
    const http_record* fresh = notes.find(9);
    ASSERT_NE(fresh, nullptr);
    EXPECT_EQ(fresh->requests, 1u);
    EXPECT_EQ(fresh->responses, 0u);
    EXPECT_EQ(fresh->resp_len, 0u);
    EXPECT_EQ(fresh->req_outbound, 1);
}

TEST(HttpNotes, BoundedAndCountsWhatItDrops) {
    HttpNotes notes(2);
    notes.add(note_of(1, WC_HTTP_REQUEST, "GET / HTTP/1.1\r\n\r\n", true));
    notes.add(note_of(2, WC_HTTP_REQUEST, "GET / HTTP/1.1\r\n\r\n", true));
    notes.add(note_of(3, WC_HTTP_REQUEST, "GET / HTTP/1.1\r\n\r\n", true));
    notes.add(note_of(1, WC_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\n\r\n", false));  // known socket: kept
    EXPECT_EQ(notes.sockets(), 2u);
    EXPECT_EQ(notes.dropped(), 1u);
    EXPECT_EQ(notes.find(3), nullptr);
    ASSERT_NE(notes.find(1), nullptr);
    EXPECT_EQ(notes.find(1)->responses, 1u);
}

// A close record with its socket's heads behind it, laid out by hand as
// bpf/whoclosed.h describes it (WC_F_HEADS_FOLLOW): the record (short
// without a user stack), the heads' fixed part, the request bytes, the
// response bytes, at an odd offset like any ring sample.
std::vector<unsigned char> sample_with_heads(const close_record& r, const http_record& fixed, std::string_view req,
                                             std::string_view resp, size_t offset = 5) {
    const size_t rec_size = r.ustack_len > 0 ? sizeof r : WC_RECORD_SHORT;
    std::vector<unsigned char> buf(offset);
    auto put = [&](const void* p, size_t n) {
        buf.insert(buf.end(), static_cast<const unsigned char*>(p), static_cast<const unsigned char*>(p) + n);
    };
    put(&r, rec_size);
    put(&fixed, offsetof(http_record, req));
    put(req.data(), req.size());
    put(resp.data(), resp.size());
    return buf;
}

http_record fixed_part(std::string_view req, std::string_view resp, unsigned requests, unsigned responses) {
    http_record h{};
    h.requests = requests;
    h.responses = responses;
    h.req_len = static_cast<unsigned short>(req.size());
    h.resp_len = static_cast<unsigned short>(resp.size());
    h.req_outbound = 1;
    h.source = WC_HTTP_SRC_SYSCALL;
    return h;
}

TEST(Decoder, SplitsARecordFromTheHeadsThatFollowIt) {
    const std::string req = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::string resp = "HTTP/1.1 204 No Content\r\n\r\n";
    for (int ustack_len : {-1, 3}) {
        SCOPED_TRACE("ustack_len " + std::to_string(ustack_len));
        close_record r = make_record({WC_TCP_SYN_SENT, WC_TCP_ESTABLISHED, WC_TCP_CLOSE},
                                     WC_F_SEEN_OPEN | WC_F_HEADS_FOLLOW);
        r.cookie = 42 | WC_COOKIE_TAKEN;
        r.ustack_len = ustack_len;
        if (ustack_len > 0) r.ustack[2] = 0xfeed;
        auto buf = sample_with_heads(r, fixed_part(req, resp, 3, 2), req, resp);
        http_record heads;
        std::string err;
        auto rec = decode_close_record(buf.data() + 5, buf.size() - 5, &err, &heads);
        ASSERT_TRUE(rec.has_value()) << err;
        EXPECT_EQ(rec->cookie, 42u);
        EXPECT_EQ(rec->flags, static_cast<unsigned>(WC_F_SEEN_OPEN));  // the layout flag is the decoder's
        EXPECT_EQ(rec->ustack_len, ustack_len);
        EXPECT_EQ(rec->ustack[2], ustack_len > 0 ? 0xfeedu : 0u);
        EXPECT_EQ(heads.requests, 3u);
        EXPECT_EQ(heads.responses, 2u);
        EXPECT_EQ(heads.req_outbound, 1);
        EXPECT_EQ(heads.source, WC_HTTP_SRC_SYSCALL);
        EXPECT_EQ(std::string(heads.req, heads.req_len), req);
        EXPECT_EQ(std::string(heads.resp, heads.resp_len), resp);
        // The reader's own samples (drain, sweep) are laid out the same way.
        r.flags = WC_F_SEEN_OPEN;
        http_record full = fixed_part(req, resp, 3, 2);
        std::memcpy(full.req, req.data(), req.size());
        std::memcpy(full.resp, resp.data(), resp.size());
        const std::vector<char> ours = encode_record_with_heads(r, full);
        ASSERT_EQ(ours.size(), buf.size() - 5);
        EXPECT_EQ(std::memcmp(ours.data(), buf.data() + 5, ours.size()), 0);
    }
}

TEST(Decoder, RejectsHeadsThatDoNotAddUp) {
    const std::string req = "GET / HTTP/1.1\r\n\r\n";
    close_record r = make_record({WC_TCP_ESTABLISHED, WC_TCP_CLOSE}, WC_F_HEADS_FOLLOW);
    r.ustack_len = -1;
    http_record heads;
    auto rejected = [&](const std::vector<unsigned char>& buf, size_t size, http_record* into) {
        std::string err;
        const bool bad = !decode_close_record(buf.data() + 5, size, &err, into).has_value();
        EXPECT_FALSE(err.empty());
        return bad;
    };
    auto good = sample_with_heads(r, fixed_part(req, "", 1, 0), req, "");
    ASSERT_TRUE(decode_close_record(good.data() + 5, good.size() - 5, nullptr, &heads).has_value());
    EXPECT_TRUE(rejected(good, good.size() - 5, nullptr));  // the caller expected no heads
    EXPECT_TRUE(rejected(good, good.size() - 6, &heads));   // one byte short
    EXPECT_TRUE(rejected(good, WC_RECORD_SHORT + 3, &heads));  // cut inside the fixed part
    auto longer = good;
    longer.push_back('x');
    EXPECT_TRUE(rejected(longer, longer.size() - 5, &heads));  // one byte over
    http_record bad = fixed_part(req, "", 1, 0);
    bad.req_len = WC_HTTP_HEAD;
    auto too_long = sample_with_heads(r, bad, std::string(WC_HTTP_HEAD, 'a'), "");
    EXPECT_TRUE(rejected(too_long, too_long.size() - 5, &heads));
    for (unsigned char source : {0, 9}) {
        bad = fixed_part(req, "", 1, 0);
        bad.source = source;
        auto unknown = sample_with_heads(r, bad, req, "");
        EXPECT_TRUE(rejected(unknown, unknown.size() - 5, &heads)) << int(source);
    }
}

TEST(HttpNotes, MergesHeadsSentAheadIntoThoseKeptInTheKernel) {
    HttpNotes notes;
    notes.add(note_of(7, WC_HTTP_REQUEST, "GET /early HTTP/1.1\r\n\r\n", false));
    notes.add(note_of(7, WC_HTTP_RESPONSE, "HTTP/1.1 200 OK\r\n\r\n", true));
    // Kept later: one request, no response yet.
    http_record kept{};
    const std::string late = "GET /late HTTP/1.1\r\n\r\n";
    kept.requests = 1;
    kept.req_len = static_cast<unsigned short>(late.size());
    std::memcpy(kept.req, late.data(), late.size());
    kept.source = WC_HTTP_SRC_SYSCALL;
    merge_heads(kept, *notes.find(7));
    EXPECT_EQ(kept.requests, 2u);
    EXPECT_EQ(kept.responses, 1u);
    EXPECT_EQ(std::string(kept.req, kept.req_len), late);
    EXPECT_EQ(std::string(kept.resp, kept.resp_len), "HTTP/1.1 200 OK\r\n\r\n");
}

}  // namespace
}  // namespace whoclosed
