#include "correlate/http_heads.h"

#include <algorithm>
#include <functional>
#include <string_view>

#include "http/http_tracker.h"

namespace whoclosed {

const char* http_source_name(unsigned char source) {
    switch (source) {
    case WC_HTTP_SRC_SYSCALL: return "syscall";
    case WC_HTTP_SRC_OPENSSL: return "uprobe:openssl";
    case WC_HTTP_SRC_GO: return "uprobe:go";
    case WC_HTTP_SRC_LIBC: return "uprobe:libc";
    default: return "";
    }
}

std::optional<HttpExchange> exchange_from_heads(const http_record& heads, Role role) {
    const std::string_view source = http_source_name(heads.source);
    HttpTracker tracker{std::string(source)};
    const size_t req_len = std::min<size_t>(heads.req_len, WC_HTTP_HEAD);
    const size_t resp_len = std::min<size_t>(heads.resp_len, WC_HTTP_HEAD);
    // A full slot (the kernel keeps at most WC_HTTP_HEAD - 1 bytes) means the
    // payload may have gone on beyond what was kept.
    if (req_len > 0) {
        HttpDir dir = heads.req_outbound ? HttpDir::Out : HttpDir::In;
        tracker.feed(dir, std::string_view(heads.req, req_len), req_len >= WC_HTTP_HEAD - 1, 0, source);
    }
    if (resp_len > 0) {
        HttpDir dir = req_len > 0 ? (heads.req_outbound ? HttpDir::In : HttpDir::Out)
                                  : (role == Role::Server ? HttpDir::Out : HttpDir::In);
        tracker.feed(dir, std::string_view(heads.resp, resp_len), resp_len >= WC_HTTP_HEAD - 1, 0,
                     source);
    }
    std::optional<HttpExchange> ex = tracker.finish();
    if (ex) ex->requests = std::max<uint64_t>(ex->requests, heads.requests);
    return ex;
}

void HttpHeadsParser::remember(const Entry* e) {
    if (recent_[0] != e) {
        recent_[1] = recent_[0];
        recent_[0] = e;
    }
}

std::optional<HttpExchange> HttpHeadsParser::parse(const http_record& heads, Role role) {
    const std::string_view req(heads.req, std::min<size_t>(heads.req_len, WC_HTTP_HEAD));
    const std::string_view resp(heads.resp, std::min<size_t>(heads.resp_len, WC_HTTP_HEAD));
    std::optional<HttpExchange> ex;
    const Entry* hit = nullptr;
    for (const Entry* e : recent_)
        if (e && e->matches(req, resp, heads, role)) {
            hit = e;
            break;
        }
    if (!hit) {
        // The memo's key (a full comparison follows): both heads' bytes
        // hashed in place, and the small fields.
        const std::hash<std::string_view> bytes_hash;
        const uint64_t hash = (bytes_hash(req) * 0x9e3779b97f4a7c15ull ^ bytes_hash(resp)) +
                              (heads.req_outbound | static_cast<uint64_t>(heads.source) << 8 |
                               static_cast<uint64_t>(role) << 16);
        auto it = memo_.find(hash);
        if (it != memo_.end() && it->second.matches(req, resp, heads, role)) {
            hit = &it->second;
        } else {
            ex = exchange_from_heads(heads, role);
            if (ex) ex->json_tail = std::make_shared<std::string>();  // one rendering for all its copies
            if (memo_.size() >= capacity_) {  // crude, bounded, and rare
                memo_.clear();
                recent_[0] = recent_[1] = nullptr;
            }
            Entry& e = memo_[hash];
            e = Entry{heads.req_outbound, heads.source, role, std::string(req), std::string(resp), ex};
            remember(&e);
        }
    }
    if (hit) {
        ex = hit->exchange;
        remember(hit);
    }
    // The count is per socket, not part of the heads.
    if (ex) ex->requests = std::max<uint64_t>(ex->requests, heads.requests);
    return ex;
}

}  // namespace whoclosed
