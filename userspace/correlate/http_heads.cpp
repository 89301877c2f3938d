#include "correlate/http_heads.h"

#include <algorithm>
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

std::optional<HttpExchange> HttpHeadsParser::parse(const http_record& heads, Role role) {
    const size_t req_len = std::min<size_t>(heads.req_len, WC_HTTP_HEAD);
    const size_t resp_len = std::min<size_t>(heads.resp_len, WC_HTTP_HEAD);
    std::string key;
    key.reserve(req_len + resp_len + 8);
    key.push_back(static_cast<char>(heads.req_outbound));
    key.push_back(static_cast<char>(heads.source));
    key.push_back(static_cast<char>(role));
    key.append(reinterpret_cast<const char*>(&heads.req_len), sizeof heads.req_len);
    key.append(heads.req, req_len);
    key.append(heads.resp, resp_len);
    const uint64_t hash = std::hash<std::string>{}(key);

    auto it = memo_.find(hash);
    std::optional<HttpExchange> ex;
    if (it != memo_.end() && it->second.key == key) {
        ex = it->second.exchange;
    } else {
        ex = exchange_from_heads(heads, role);
        if (memo_.size() >= capacity_) memo_.clear();  // crude, bounded, and rare
        memo_[hash] = Entry{std::move(key), ex};
    }
    // The count is per socket, not part of the heads.
    if (ex) ex->requests = std::max<uint64_t>(ex->requests, heads.requests);
    return ex;
}

}  // namespace whoclosed
