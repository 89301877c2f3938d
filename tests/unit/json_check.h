// A minimal, strict JSON reader for tests (RFC 8259): an independent check
// that what the sinks write parses, and a way to read values back. Raw
// string bytes must be valid UTF-8; \u escapes are decoded to UTF-8.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace json_check {

struct Value {
    enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
    bool boolean = false;
    std::string text;                                     // number literal or decoded string
    std::vector<Value> items;                             // array
    std::vector<std::pair<std::string, Value>> members;  // object, in document order

    const Value& at(const std::string& key) const {
        for (const auto& [k, v] : members)
            if (k == key) return v;
        throw std::out_of_range("no key " + key);
    }
    std::vector<std::string> keys() const {
        std::vector<std::string> out;
        for (const auto& m : members) out.push_back(m.first);
        return out;
    }
};

class Parser {
public:
    explicit Parser(std::string_view s) : s_(s) {}

    // The whole input must be exactly one value (surrounding whitespace allowed).
    std::optional<Value> parse_document() {
        Value v;
        ws();
        if (!value(v)) return std::nullopt;
        ws();
        if (i_ != s_.size()) return std::nullopt;
        return v;
    }

private:
    std::string_view s_;
    size_t i_ = 0;

    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    bool lit(std::string_view w) {
        if (s_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }
    bool value(Value& v) {
        if (i_ >= s_.size()) return false;
        const char c = s_[i_];
        if (c == 'n') return v.kind = Value::Kind::Null, lit("null");
        if (c == 't') return v.kind = Value::Kind::Bool, v.boolean = true, lit("true");
        if (c == 'f') return v.kind = Value::Kind::Bool, lit("false");
        if (c == '"') return v.kind = Value::Kind::String, string(v.text);
        if (c == '[') return v.kind = Value::Kind::Array, array(v);
        if (c == '{') return v.kind = Value::Kind::Object, object(v);
        return v.kind = Value::Kind::Number, number(v.text);
    }
    bool number(std::string& out) {
        const size_t start = i_;
        if (i_ < s_.size() && s_[i_] == '-') ++i_;
        if (i_ >= s_.size() || !isdigit(s_[i_])) return false;
        if (s_[i_] == '0') ++i_;
        else while (i_ < s_.size() && isdigit(s_[i_])) ++i_;
        if (i_ < s_.size() && s_[i_] == '.') {
            ++i_;
            if (i_ >= s_.size() || !isdigit(s_[i_])) return false;
            while (i_ < s_.size() && isdigit(s_[i_])) ++i_;
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            if (i_ >= s_.size() || !isdigit(s_[i_])) return false;
            while (i_ < s_.size() && isdigit(s_[i_])) ++i_;
        }
        out = std::string(s_.substr(start, i_ - start));
        return true;
    }
    static bool isdigit(char c) { return c >= '0' && c <= '9'; }
    static void put_utf8(std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    bool hex4(uint32_t& cp) {
        if (i_ + 4 > s_.size()) return false;
        cp = 0;
        for (int k = 0; k < 4; ++k) {
            const char h = s_[i_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= static_cast<uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f') cp |= static_cast<uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') cp |= static_cast<uint32_t>(h - 'A' + 10);
            else return false;
        }
        return true;
    }
    // Raw bytes >= 0x80 must form valid UTF-8 (no overlongs, no surrogates).
    bool raw_utf8(std::string& out) {
        const auto b = [&](size_t k) { return static_cast<unsigned char>(s_[k]); };
        const unsigned char b0 = b(i_);
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) len = 2;
        else if (b0 == 0xE0) len = 3, lo = 0xA0;
        else if (b0 == 0xED) len = 3, hi = 0x9F;
        else if (b0 >= 0xE1 && b0 <= 0xEF) len = 3;
        else if (b0 == 0xF0) len = 4, lo = 0x90;
        else if (b0 >= 0xF1 && b0 <= 0xF3) len = 4;
        else if (b0 == 0xF4) len = 4, hi = 0x8F;
        else return false;
        if (i_ + len > s_.size() || b(i_ + 1) < lo || b(i_ + 1) > hi) return false;
        for (size_t k = 2; k < len; ++k)
            if (b(i_ + k) < 0x80 || b(i_ + k) > 0xBF) return false;
        out.append(s_.substr(i_, len));
        i_ += len;
        return true;
    }
    bool string(std::string& out) {
        ++i_;  // opening quote
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') return ++i_, true;
            if (c < 0x20) return false;  // raw control characters are invalid JSON
            if (c >= 0x80) {
                if (!raw_utf8(out)) return false;
                continue;
            }
            ++i_;
            if (c != '\\') {
                out += static_cast<char>(c);
                continue;
            }
            if (i_ >= s_.size()) return false;
            const char e = s_[i_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    uint32_t cp = 0;
                    if (!hex4(cp) || (cp >= 0xD800 && cp <= 0xDFFF)) return false;  // no surrogates expected
                    put_utf8(out, cp);
                    break;
                }
                default: return false;
            }
        }
        return false;
    }
    bool array(Value& v) {
        ++i_;
        ws();
        if (lit("]")) return true;
        for (;;) {
            Value item;
            ws();
            if (!value(item)) return false;
            v.items.push_back(std::move(item));
            ws();
            if (lit("]")) return true;
            if (!lit(",")) return false;
        }
    }
    bool object(Value& v) {
        ++i_;
        ws();
        if (lit("}")) return true;
        for (;;) {
            ws();
            std::string key;
            if (i_ >= s_.size() || s_[i_] != '"' || !string(key)) return false;
            ws();
            if (!lit(":")) return false;
            ws();
            Value item;
            if (!value(item)) return false;
            v.members.emplace_back(std::move(key), std::move(item));
            ws();
            if (lit("}")) return true;
            if (!lit(",")) return false;
        }
    }
};

inline std::optional<Value> parse(std::string_view s) { return Parser(s).parse_document(); }

}  // namespace json_check
