#include "support/event_pairs.h"

namespace whoclosed::testing {

using nlohmann::json;

json at(const json& e, const char* pointer) {
    json::json_pointer p(pointer);
    return e.contains(p) ? e.at(p) : json();
}

std::map<int, EventPair> pair_events(const std::vector<json>& events, int port) {
    std::map<int, EventPair> pairs;
    for (const json& e : events) {
        if (e.at("lport") == port) {
            EventPair& p = pairs[e.at("rport").get<int>()];
            p.server = e;
            p.count++;
        } else if (e.at("rport") == port) {
            EventPair& p = pairs[e.at("lport").get<int>()];
            p.client = e;
            p.count++;
        }
    }
    return pairs;
}

}  // namespace whoclosed::testing
