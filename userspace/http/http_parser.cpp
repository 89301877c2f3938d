#include "http/http_parser.h"

#include <algorithm>
#include <array>
#include <string>

namespace whoclosed {

namespace {

constexpr std::array<std::string_view, 11> kStartTokens = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "HTTP/1.0", "HTTP/1.1"};
constexpr size_t kMaxContentLengthDigits = 15;

bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

bool is_start_prefix(std::string_view tok) {
    return std::any_of(kStartTokens.begin(), kStartTokens.end(),
                       [&](std::string_view t) { return t.starts_with(tok); });
}

bool is_version_prefix(std::string_view v) {
    return std::string_view("HTTP/1.0\r").starts_with(v) || std::string_view("HTTP/1.1\r").starts_with(v);
}

// Header values are verbatim except: surrounding whitespace and the CR of
// CRLF go, and control bytes (NUL, bare CR, ESC, DEL...) become '?', so
// nothing invisible rides into the output. Bytes >= 0x80 stay; the JSON
// writer replaces invalid UTF-8.
std::string clean_value(std::string_view v) {
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
    std::string out(v);
    for (char& c : out)
        if (c != '\t' && is_ctl(static_cast<unsigned char>(c))) c = '?';
    return out;
}

void append_list(std::optional<std::string>& slot, const std::string& v) {
    if (!slot) {
        slot = v;
        return;
    }
    *slot += ", ";  // repeated list headers combine (RFC 9110 §5.3)
    *slot += v;
    if (slot->size() > kHttpMaxValue) slot->resize(kHttpMaxValue);
}

}  // namespace

void HttpStreamParser::feed(std::span<const unsigned char> bytes) {
    size_t i = 0;
    while (i < bytes.size()) {
        if (!in_sync()) return;
        if (state_ == State::Body) {
            const uint64_t n = std::min<uint64_t>(body_left_, bytes.size() - i);
            body_left_ -= n;
            i += static_cast<size_t>(n);
            if (body_left_ == 0) state_ = State::Idle;
            continue;
        }
        step(bytes[i++]);
    }
}

void HttpStreamParser::restart() {
    if (stopped()) return;
    lose_sync();
    state_ = State::Idle;
}

void HttpStreamParser::lose_sync() {
    if (stopped()) return;
    // A request line cut short still says a request was made; what was not
    // read stays unknown (a path not yet ended is not a path).
    // A path longer than the bound is cut to it anyway, so it stands.
    if (state_ == State::TargetPath && text_.overflow) path_done_ = true;
    if (in_request_line()) commit_request(std::nullopt);
    state_ = State::Lost;
}

void HttpStreamParser::stop() { state_ = State::Stopped; }

void HttpStreamParser::step(unsigned char c) {
    switch (state_) {
        case State::Idle:
        case State::StartToken: on_start(c); break;
        case State::Target:
        case State::TargetScheme:
        case State::TargetSlashes:
        case State::TargetAuthority:
        case State::TargetPath:
        case State::TargetRest: on_target(c); break;
        case State::ReqVersion: on_version(c); break;
        case State::StatusCode:
        case State::StatusRest: on_status(c); break;
        case State::FieldStart:
        case State::FieldName:
        case State::HeadEndLF: on_field_name(c); break;
        case State::FieldValueLead:
        case State::FieldValue:
        case State::FieldSkip: on_field_value(c); break;
        case State::Body:
        case State::Lost:
        case State::Stopped: break;
    }
}

void HttpStreamParser::begin_message() {
    msg_ = Msg::None;
    tok_.clear();
    method_.clear();
    text_.clear();
    path_done_ = authority_form_ = false;
    te_ = cl_known_ = cl_invalid_ = false;
    content_length_ = body_left_ = 0;
    status_ = 0;
    digits_ = slashes_ = 0;
}

void HttpStreamParser::on_start(unsigned char c) {
    if (state_ == State::Idle) {
        if (c == '\r' || c == '\n') return;  // empty lines before a request (RFC 9112 §2.2)
        begin_message();
        state_ = State::StartToken;
    }
    if (c == ' ') return start_token_done();
    tok_.push(c);
    if (tok_.overflow || !is_start_prefix(tok_.view())) fail();
}

void HttpStreamParser::start_token_done() {
    const std::string_view t = tok_.view();
    if (is_known_method(t)) {
        for (char ch : t) method_.push(static_cast<unsigned char>(ch));
        state_ = State::Target;
    } else if (t == "HTTP/1.0" || t == "HTTP/1.1") {
        state_ = State::StatusCode;  // tok_ keeps the version until the status is read
    } else {
        fail();
    }
}

void HttpStreamParser::on_target(unsigned char c) {
    switch (state_) {
        case State::Target:
            if (c == '/' || c == '*') {
                text_.push(c);
                state_ = State::TargetPath;
            } else if (is_alpha(c)) {  // absolute-form "http://h/p" or authority-form "h:443"
                text_.push(c);
                state_ = State::TargetScheme;
            } else {
                fail();
            }
            return;
        case State::TargetScheme:
        case State::TargetSlashes:
        case State::TargetAuthority: return on_target_form(c);
        case State::TargetPath:
            if (c == ' ') return end_target();
            if (c == '?' || c == '#') {  // the query and fragment are never kept
                path_done_ = true;
                state_ = State::TargetRest;
            } else if (is_ctl(c)) {
                fail();  // a line without version (HTTP/0.9) or not HTTP at all
            } else if (c == '@' && authority_form_) {
                text_.clear();  // userinfo of an authority: never kept
            } else {
                text_.push(c);
            }
            return;
        default:  // TargetRest
            if (c == ' ') end_target();
            else if (is_ctl(c)) fail();
            return;
    }
}

// scheme ":" "//" authority, or host ":" port; the authority of an
// absolute-form target (and any userinfo in it) is skipped, the path kept.
void HttpStreamParser::on_target_form(unsigned char c) {
    if (state_ == State::TargetScheme) {
        if (c == ':') {
            state_ = State::TargetSlashes;
        } else if (is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.') {
            text_.push(c);
        } else if (c == ' ') {
            end_target();
        } else {
            fail();
        }
    } else if (state_ == State::TargetSlashes) {
        if (c == '/') {
            if (++slashes_ == 2) state_ = State::TargetAuthority;
        } else if (slashes_ == 0) {  // authority-form: host ":" port
            text_.push(':');
            authority_form_ = true;
            state_ = State::TargetPath;
            on_target(c);
        } else {
            fail();
        }
    } else {  // TargetAuthority
        if (c != '/' && c != '?' && c != '#' && c != ' ') {
            if (is_ctl(c)) fail();
            return;
        }
        text_.clear();
        text_.push('/');
        state_ = State::TargetPath;
        if (c != '/') on_target(c);
    }
}

void HttpStreamParser::end_target() {
    path_done_ = true;
    tok_.clear();
    state_ = State::ReqVersion;
}

void HttpStreamParser::on_version(unsigned char c) {
    if (c == '\n') {
        std::string_view v = tok_.view();
        if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
        if (v == "HTTP/1.0" || v == "HTTP/1.1") {
            commit_request(v);
            state_ = State::FieldStart;
        } else {
            fail();
        }
        return;
    }
    tok_.push(c);
    if (tok_.overflow || !is_version_prefix(tok_.view())) fail();
}

void HttpStreamParser::commit_request(std::optional<std::string_view> version) {
    ++requests_;
    HttpRequestHead& r = last_request_.emplace();
    r.method = std::string(method_.view());
    if (path_done_) r.path = std::string(text_.view());
    if (version) r.version = std::string(*version);
    text_.clear();
    msg_ = Msg::Request;
}

void HttpStreamParser::on_status(unsigned char c) {
    if (state_ == State::StatusRest) {
        if (c == '\n') state_ = State::FieldStart;  // the reason phrase is skipped
        return;
    }
    if (digits_ < 3) {
        if (!is_digit(c) || (digits_ == 0 && c == '0')) return fail();
        status_ = static_cast<uint16_t>(status_ * 10 + (c - '0'));
        ++digits_;
        return;
    }
    if (c != ' ' && c != '\r' && c != '\n') return fail();
    commit_response();
    state_ = c == '\n' ? State::FieldStart : State::StatusRest;
}

void HttpStreamParser::commit_response() {
    if (status_ / 100 == 1 && status_ != 101) {  // 100 Continue, 103 Early Hints: a final one follows
        msg_ = Msg::Interim;
        return;
    }
    ++responses_;
    HttpResponseHead& r = last_response_.emplace();
    r.version = std::string(tok_.view());
    r.status = status_;
    msg_ = Msg::Response;
}

void HttpStreamParser::on_field_name(unsigned char c) {
    if (state_ == State::HeadEndLF) return c == '\n' ? end_head() : fail();
    if (state_ == State::FieldStart) {
        if (c == '\r') {
            state_ = State::HeadEndLF;
        } else if (c == '\n') {
            end_head();
        } else if (c == ' ' || c == '\t') {
            state_ = State::FieldSkip;  // obsolete line folding: ignored
        } else if (!is_tchar(c)) {
            fail();  // not a header block: keep what was read, trust nothing more
        } else {
            name_.clear();
            name_.push(c);
            state_ = State::FieldName;
        }
        return;
    }
    if (c == ':') {
        field_ = name_.overflow ? Field::Other : classify(name_.view());
        text_.clear();
        state_ = field_ == Field::Other ? State::FieldSkip : State::FieldValueLead;
    } else if (is_tchar(c)) {
        name_.push(c);
    } else if (c == '\n') {
        state_ = State::FieldStart;  // a line without a colon: ignored
    } else if (is_ctl(c) && c != '\r' && c != '\t') {
        fail();
    } else {
        state_ = State::FieldSkip;  // "Name :" and such: not a field to trust
    }
}

HttpStreamParser::Field HttpStreamParser::classify(std::string_view name) const {
    if (msg_ == Msg::Interim) return Field::Other;
    if (iequals(name, "Connection")) return Field::Connection;
    if (iequals(name, "Content-Length")) return Field::ContentLength;
    if (iequals(name, "Transfer-Encoding")) return Field::TransferEncoding;
    if (msg_ != Msg::Request) return Field::Other;
    if (iequals(name, "Host")) return Field::Host;
    if (iequals(name, "User-Agent")) return Field::UserAgent;
    return Field::Other;
}

void HttpStreamParser::on_field_value(unsigned char c) {
    if (state_ == State::FieldSkip) {
        if (c == '\n') state_ = State::FieldStart;
        return;
    }
    if (state_ == State::FieldValueLead) {
        if (c == ' ' || c == '\t') return;
        state_ = State::FieldValue;
    }
    if (c == '\n') {
        commit_field();
        state_ = State::FieldStart;
        return;
    }
    text_.push(c);
}

void HttpStreamParser::commit_field() {
    const std::string v = clean_value(text_.view());
    HttpRequestHead* req = msg_ == Msg::Request && last_request_ ? &*last_request_ : nullptr;
    HttpResponseHead* resp = msg_ == Msg::Response && last_response_ ? &*last_response_ : nullptr;
    switch (field_) {
        case Field::Host:
            if (req && !req->host) req->host = v;
            break;
        case Field::UserAgent:
            if (req && !req->user_agent) req->user_agent = v;
            break;
        case Field::Connection:
            if (req) append_list(req->connection, v);
            if (resp) append_list(resp->connection, v);
            break;
        case Field::ContentLength: note_content_length(text_.overflow ? std::string_view{} : v); break;
        case Field::TransferEncoding: te_ = true; break;
        case Field::Other: break;
    }
    text_.clear();
}

void HttpStreamParser::note_content_length(std::string_view v) {
    auto digit = [](char ch) { return is_digit(static_cast<unsigned char>(ch)); };
    const bool digits = !v.empty() && v.size() <= kMaxContentLengthDigits && std::all_of(v.begin(), v.end(), digit);
    if (!digits) {
        cl_invalid_ = true;
        return;
    }
    uint64_t n = 0;
    for (char ch : v) n = n * 10 + static_cast<uint64_t>(ch - '0');
    if (cl_known_ && n != content_length_) cl_invalid_ = true;  // conflicting lengths: framing unknown
    cl_known_ = true;
    content_length_ = n;
}

// Where the next message starts: after Content-Length bytes, right away if
// the message has no body, and nowhere we can tell (chunked, read-until-
// close, bad framing) otherwise: then only a chunk that begins a message
// resumes parsing.
void HttpStreamParser::end_head() {
    const Msg m = msg_;
    msg_ = Msg::None;
    if (m == Msg::Response && last_response_ && last_response_->status == 101) return stop();
    if (m == Msg::Interim) {
        state_ = State::Idle;
        return;
    }
    if (te_ || cl_invalid_) return fail();
    if (cl_known_) {
        body_left_ = content_length_;
        state_ = body_left_ ? State::Body : State::Idle;
        return;
    }
    const bool no_body = m == Msg::Request || (last_response_ && (last_response_->status == 204 ||
                                                                  last_response_->status == 304));
    state_ = no_body ? State::Idle : State::Lost;
}

}  // namespace whoclosed
