// An incremental HTTP/1.x head parser for one direction of one socket.
// It reads bytes one at a time through a small state machine, so a head may
// be split at any byte across feed() calls; its memory is fixed (a few
// hundred bytes of buffers plus the bounded heads it keeps). It keeps only
// the request line (path without query or fragment), Host, Connection,
// User-Agent, the status line and the framing headers it needs to find a
// pipelined next message; every other header (Authorization, Cookie,
// Set-Cookie, ...) is skipped byte by byte and never buffered.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "correlate/close_event.h"
#include "http/http_syntax.h"

namespace whoclosed {

template <size_t N>
struct BoundedText {
    std::array<char, N> buf{};
    size_t len = 0;
    bool overflow = false;  // bytes beyond N were dropped
    void clear() {  // zeroed, not just emptied: no old bytes linger in the object
        std::fill(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len), '\0');
        len = 0;
        overflow = false;
    }
    void push(unsigned char c) {
        if (len < N) buf[len++] = static_cast<char>(c);
        else overflow = true;
    }
    std::string_view view() const { return {buf.data(), len}; }
};

class HttpStreamParser {
public:
    // Parses bytes that follow the previously fed ones with nothing missing.
    void feed(std::span<const unsigned char> bytes);
    // The next byte begins a new message (the caller checked it with
    // begins_http_message); a request line cut short is kept as far as read.
    void restart();
    // The bytes after the last feed() were not captured (a truncated chunk):
    // keep what was read, then ignore everything until restart().
    void lose_sync();
    // The connection left HTTP/1.x (101 Switching Protocols, CONNECT tunnel).
    void stop();

    bool in_sync() const { return state_ != State::Lost && state_ != State::Stopped; }
    bool stopped() const { return state_ == State::Stopped; }
    uint64_t requests() const { return requests_; }
    uint64_t responses() const { return responses_; }  // final ones: 1xx other than 101 are not counted
    const std::optional<HttpRequestHead>& last_request() const { return last_request_; }
    const std::optional<HttpResponseHead>& last_response() const { return last_response_; }

private:
    enum class State : uint8_t {
        Idle, StartToken,                                              // start line, first token
        Target, TargetScheme, TargetSlashes, TargetAuthority, TargetPath, TargetRest, ReqVersion,
        StatusCode, StatusRest,                                        // response status line
        FieldStart, FieldName, HeadEndLF, FieldValueLead, FieldValue, FieldSkip,
        Body, Lost, Stopped,
    };
    enum class Msg : uint8_t { None, Request, Response, Interim };
    enum class Field : uint8_t { Other, Host, Connection, UserAgent, ContentLength, TransferEncoding };

    void step(unsigned char c);
    void on_start(unsigned char c);
    void start_token_done();
    void on_target(unsigned char c);
    void on_target_form(unsigned char c);
    void end_target();
    void on_version(unsigned char c);
    void on_status(unsigned char c);
    void on_field_name(unsigned char c);
    void on_field_value(unsigned char c);
    void begin_message();
    void commit_request(std::optional<std::string_view> version);
    void commit_response();
    Field classify(std::string_view name) const;
    void commit_field();
    void note_content_length(std::string_view v);
    void end_head();
    void fail() { state_ = State::Lost; }
    bool in_request_line() const { return state_ >= State::TargetScheme && state_ <= State::ReqVersion; }

    State state_ = State::Idle;
    Msg msg_ = Msg::None;
    Field field_ = Field::Other;
    uint8_t slashes_ = 0, digits_ = 0;
    bool path_done_ = false, authority_form_ = false;
    bool te_ = false, cl_known_ = false, cl_invalid_ = false;
    uint16_t status_ = 0;
    uint64_t content_length_ = 0, body_left_ = 0;
    uint64_t requests_ = 0, responses_ = 0;
    BoundedText<10> tok_;             // method, "HTTP/1.x", version (+CR)
    BoundedText<8> method_;
    BoundedText<kHttpMaxName> name_;
    BoundedText<kHttpMaxValue> text_;  // path, then each kept header value
    std::optional<HttpRequestHead> last_request_;
    std::optional<HttpResponseHead> last_response_;
};

}  // namespace whoclosed
