#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <random>
#include <string>
#include <vector>

#include "json_check.h"
#include "sink/json.h"

namespace whoclosed {
namespace {

using namespace std::string_literals;

// Every output must parse as a JSON string; returns the decoded value.
std::string round_trip(std::string_view raw) {
    const std::string encoded = json_string(raw);
    auto v = json_check::parse(encoded);
    EXPECT_TRUE(v.has_value()) << "invalid JSON: " << encoded;
    if (!v) return {};
    EXPECT_EQ(v->kind, json_check::Value::Kind::String);
    return v->text;
}

TEST(JsonString, EscapesQuoteAndBackslash) {
    EXPECT_EQ(json_string(R"(a"b\c)"), R"("a\"b\\c")");
    EXPECT_EQ(round_trip(R"(a"b\c)"), R"(a"b\c)");
}

TEST(JsonString, ControlCharactersBecomeU00XX) {
    EXPECT_EQ(json_string("a\nb"), R"("a\u000ab")");
    EXPECT_EQ(json_string("\x01"), R"("\u0001")");
    EXPECT_EQ(json_string("\t\r\x1f\x7f"), R"("\u0009\u000d\u001f\u007f")");
    EXPECT_EQ(json_string("x\0y"s), R"("x\u0000y")");
    EXPECT_EQ(round_trip("a\nb\x01"), "a\nb\x01");
}

TEST(JsonString, ValidUtf8PassesThrough) {
    const std::string s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";  // café € 😀
    EXPECT_EQ(json_string(s), "\"" + s + "\"");
    EXPECT_EQ(round_trip(s), s);
}

TEST(JsonString, C1ControlsAreEscaped) {
    // U+009B is CSI on some terminals.
    EXPECT_EQ(json_string("a\xc2\x9b"), R"("a\u009b")");
    EXPECT_EQ(json_string("\xc2\xa0"), "\"\xc2\xa0\"");  // U+00A0 is not a control
}

TEST(JsonString, InvalidUtf8BytesBecomeReplacementCharacter) {
    EXPECT_EQ(json_string("\xff"), R"("\ufffd")");
    EXPECT_EQ(json_string("a\x80z"), R"("a\ufffdz")");           // stray continuation byte
    EXPECT_EQ(json_string("\xc0\xaf"), R"("\ufffd\ufffd")");      // overlong '/'
    EXPECT_EQ(json_string("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // UTF-16 surrogate
    EXPECT_EQ(json_string("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
    EXPECT_EQ(json_string("ab\xe2\x82"), R"("ab\ufffd\ufffd")");  // truncated at the end
    EXPECT_EQ(round_trip("\xff"), "\xef\xbf\xbd");
}

TEST(JsonString, EveryByteValueYieldsValidJson) {
    for (int b = 0; b < 256; ++b) {
        const std::string raw = "<" + std::string(1, static_cast<char>(b)) + ">";
        const std::string decoded = round_trip(raw);
        EXPECT_EQ(decoded.front(), '<') << b;
        EXPECT_EQ(decoded.back(), '>') << b;
    }
}

TEST(JsonString, OddCommNames) {
    // 16 bytes with no terminator, as a kernel comm can be read; and one
    // mixing every troublesome class.
    EXPECT_EQ(json_string("abcdefghijklmnop"), R"("abcdefghijklmnop")");
    EXPECT_EQ(json_string("\"x\\\n\x01\xff"), R"("\"x\\\u000a\u0001\ufffd")");
}

// The 8-byte test against the byte table it speeds up: every byte value at
// every position among plain neighbours, pairs of bad bytes (a borrow from
// one must not hide another), and random words.
TEST(JsonString, WordTestAgreesWithByteTable) {
    const auto by_table = [](const char* p) {
        for (int i = 0; i < 8; ++i)
            if (!json_detail::kPlain[static_cast<unsigned char>(p[i])]) return false;
        return true;
    };
    char w[8];
    for (int pos = 0; pos < 8; ++pos) {
        for (int b = 0; b < 256; ++b) {
            std::memset(w, 'a', sizeof w);
            w[pos] = static_cast<char>(b);
            ASSERT_EQ(json_detail::plain_word(w), by_table(w)) << "byte " << b << " at " << pos;
        }
    }
    for (int b1 : {0x00, 0x1F, 0x20, 0x21, 0x22, 0x5C, 0x7E, 0x7F, 0x80, 0xFF}) {
        for (int b2 : {0x00, 0x01, 0x1F, 0x20, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80}) {
            for (int p1 = 0; p1 < 8; ++p1) {
                for (int p2 = 0; p2 < 8; ++p2) {
                    std::memset(w, 'z', sizeof w);
                    w[p1] = static_cast<char>(b1);
                    w[p2] = static_cast<char>(b2);
                    ASSERT_EQ(json_detail::plain_word(w), by_table(w)) << b1 << "@" << p1 << " " << b2 << "@" << p2;
                }
            }
        }
    }
    std::mt19937_64 rng(7);
    for (int i = 0; i < 1'000'000; ++i) {
        const uint64_t r = rng();
        std::memcpy(w, &r, 8);
        ASSERT_EQ(json_detail::plain_word(w), by_table(w)) << std::hex << r;
        // mostly printable words, with one byte of any value
        for (int k = 0; k < 8; ++k) w[k] = static_cast<char>(0x20 + (r >> (k * 8)) % 0x5F);
        w[r % 8] = static_cast<char>(r >> 56);
        ASSERT_EQ(json_detail::plain_word(w), by_table(w)) << std::hex << r;
    }
}

std::string dbl(double v) {
    std::string s;
    append_json_double(s, v);
    return s;
}

TEST(JsonDouble, ThreeDecimalsTrimmedNoExponent) {
    EXPECT_EQ(dbl(3.41), "3.41");
    EXPECT_EQ(dbl(0.08), "0.08");
    EXPECT_EQ(dbl(2.0), "2");
    EXPECT_EQ(dbl(0.0), "0");
    EXPECT_EQ(dbl(1.23456), "1.235");
    EXPECT_EQ(dbl(0.0004), "0");
    EXPECT_EQ(dbl(-0.0004), "0");
    EXPECT_EQ(dbl(-2.5), "-2.5");
    EXPECT_EQ(dbl(1e-9), "0");
    EXPECT_EQ(dbl(1e15), "1000000000000000");
    EXPECT_EQ(dbl(123456789.125), "123456789.125");
}

// The integer fast path against the exact conversion it replaces
// (std::to_chars, fixed, 3 decimals, zeros trimmed): millisecond values
// made from nanosecond counts as the correlator makes them, values at and
// next to rounding ties, and random doubles across the fast path's range.
std::string reference_text(double v) {
    char buf[400];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
    std::string text(buf, end);
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
    return text == "-0" ? "0" : text;
}

TEST(JsonDouble, FastPathMatchesExactConversion) {
    std::vector<double> values;
    for (uint64_t ns = 0; ns < 3'000'000; ns += 7) values.push_back(static_cast<double>(ns) / 1e6);
    for (uint64_t ns : {999'999'999'999ULL, 123'456'500ULL, 1'000'500ULL, 2'500ULL, 999'999'500'000ULL})
        values.push_back(static_cast<double>(ns) / 1e6);
    for (double tie : {0.0005, 0.0015, 1.0005, 2.0025, 123.4565, 999999.9995}) {
        values.push_back(tie);
        values.push_back(std::nextafter(tie, 0.0));
        values.push_back(std::nextafter(tie, 1e9));
    }
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> any(0.0, 1e6);
    for (int i = 0; i < 200'000; ++i) values.push_back(any(rng));
    // Decimal ties k.xxx5 across the range, where doubles land just above or
    // below the tie and the product by 1000 can round across it.
    std::uniform_int_distribution<uint64_t> thousandths(0, 999'999'999);
    for (int i = 0; i < 200'000; ++i) {
        const double tie = (static_cast<double>(thousandths(rng)) + 0.5) / 1000.0;
        values.push_back(tie);
        values.push_back(std::nextafter(tie, 0.0));
        values.push_back(std::nextafter(tie, 1e9));
    }
    size_t fast = 0;
    for (double v : values) {
        ASSERT_EQ(dbl(v), reference_text(v)) << std::setprecision(20) << v;
        if (json_detail::certain_thousandths(v)) ++fast;
    }
    // The fast path must be what ordinary values take (else it saves nothing).
    EXPECT_GT(fast, values.size() / 2);
    EXPECT_FALSE(json_detail::certain_thousandths(0.0005));  // a tie goes the exact way
    EXPECT_FALSE(json_detail::certain_thousandths(-1.0));
    EXPECT_FALSE(json_detail::certain_thousandths(2e6));
}

TEST(JsonDouble, NonFiniteIsNull) {
    EXPECT_EQ(dbl(std::numeric_limits<double>::quiet_NaN()), "null");
    EXPECT_EQ(dbl(std::numeric_limits<double>::infinity()), "null");
    EXPECT_EQ(dbl(-std::numeric_limits<double>::infinity()), "null");
}

TEST(Rfc3339, NanosecondsUtc) {
    // 1795600800 = 2026-11-25T10:00:00Z (calendar.timegm((2026,11,25,10,0,0)))
    EXPECT_EQ(format_rfc3339_ns(1795600800ULL * 1000000000ULL + 123456789ULL), "2026-11-25T10:00:00.123456789Z");
    EXPECT_EQ(format_rfc3339_ns(0), "1970-01-01T00:00:00.000000000Z");
    EXPECT_EQ(format_rfc3339_ns(951782400ULL * 1000000000ULL + 5), "2000-02-29T00:00:00.000000005Z");
}

}  // namespace
}  // namespace whoclosed

namespace whoclosed {
namespace {

// The sinks' buffer: what it holds must be exactly what was appended, across
// its growth, and the JSON primitives must write the same bytes to it as to
// a std::string.
TEST(ByteBuffer, HoldsExactlyWhatWasAppendedAcrossGrowth) {
    ByteBuffer buf;
    std::string want;
    for (size_t i = 0; i < 5000; ++i) {
        const std::string piece(i % 301, static_cast<char>('a' + i % 26));  // 0..300 bytes
        buf.append(piece.data(), piece.size());
        want += piece;
        buf += ',';
        want += ',';
    }
    EXPECT_EQ(buf.size(), want.size());
    EXPECT_EQ(buf.str(), want);
    buf.clear();
    EXPECT_TRUE(buf.empty());
    buf.append(std::string_view("after"));
    EXPECT_EQ(buf.str(), "after");
}

// Short pieces take their own copy path (overlapping moves): every length
// around it, with bytes that differ by position, lands in order.
TEST(ByteBuffer, EveryShortLengthLandsInOrder) {
    ByteBuffer buf;
    std::string want;
    for (size_t n = 0; n <= 40; ++n) {
        std::string piece;
        for (size_t k = 0; k < n; ++k) piece += static_cast<char>('0' + (n + k) % 75);
        buf.append(piece.data(), piece.size());
        want += piece;
        buf += '|';
        want += '|';
    }
    EXPECT_EQ(buf.str(), want);
}

TEST(ByteBuffer, JsonPrimitivesWriteTheSameBytesAsToAString) {
    const std::string odd = std::string("a\"b\\c\n\x01\x7f\xc2\x9b\xff") + "\xe2\x82\xac" + std::string(1, '\0');
    ByteBuffer buf;
    std::string str;
    append_json_string(buf, odd);
    append_json_string(str, odd);
    append_json_uint(buf, 18446744073709551615ull);
    append_json_uint(str, 18446744073709551615ull);
    append_json_double(buf, 3.14159);
    append_json_double(str, 3.14159);
    BasicJsonObjectWriter<ByteBuffer>(buf).str("k", odd).opt_uint("n", std::nullopt).boolean("b", true).end();
    JsonObjectWriter(str).str("k", odd).opt_uint("n", std::nullopt).boolean("b", true).end();
    EXPECT_EQ(buf.str(), str);
    EXPECT_EQ(str.substr(0, json_string(odd).size()), json_string(odd));
}

}  // namespace
}  // namespace whoclosed
