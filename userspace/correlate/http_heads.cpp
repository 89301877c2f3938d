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

}  // namespace whoclosed
