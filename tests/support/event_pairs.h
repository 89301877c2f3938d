// whoclosed's close events of a traced server port, paired per connection
// (the server's socket and the client's), for the end-to-end suites.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <vector>

namespace whoclosed::testing {

// A value by JSON pointer, null when any step is missing or null.
nlohmann::json at(const nlohmann::json& e, const char* pointer);

struct EventPair {
    nlohmann::json server;  // role server, lport = the server port
    nlohmann::json client;  // role client, rport = the server port
    int count = 0;          // events seen for this connection: 2 when all is well
};

// whoclosed's events for `port`, keyed by the client's ephemeral port.
std::map<int, EventPair> pair_events(const std::vector<nlohmann::json>& events, int port);

}  // namespace whoclosed::testing
