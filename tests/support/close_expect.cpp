#include "support/close_expect.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace whoclosed::testing {

using nlohmann::json;

namespace {
// The value at key, or null when absent: comparisons then never throw.
json field(const json& obj, const char* key) {
    return obj.is_object() && obj.contains(key) ? obj[key] : json();
}
}  // namespace

const json* find_close(const std::vector<json>& events, const SockAddr& local, const SockAddr& remote) {
    const json* found = nullptr;
    int n = 0;
    for (const auto& e : events) {
        if (field(e, "lport") == json(local.port) && field(e, "rport") == json(remote.port)) {
            found = &e;
            ++n;
        }
    }
    if (n != 1) {
        ADD_FAILURE() << n << " close events for " << local.addr << ":" << local.port << " -> "
                      << remote.addr << ":" << remote.port << " (want exactly 1)";
        return nullptr;
    }
    return found;
}

ClosePair find_close_pair(const std::vector<json>& events, const SockAddr& client, const SockAddr& server) {
    EXPECT_EQ(events.size(), 2u);
    ClosePair pair;
    pair.client = find_close(events, client, server);
    pair.server = find_close(events, server, client);
    return pair;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

namespace {

void expect_task(const json& got, const Task& want, bool closer) {
    ASSERT_TRUE(got.is_object()) << "task is " << got.dump();
    EXPECT_EQ(field(got, "pid"), json(want.pid));
    EXPECT_EQ(field(got, "comm"), json(want.comm));
    EXPECT_TRUE(got.contains("cgroup"));
    if (!closer) return;
    EXPECT_EQ(field(got, "tid"), json(want.tid));
    EXPECT_EQ(field(got, "exiting"), json(want.exiting));
    EXPECT_TRUE(got.contains("kernel_stack") && got["kernel_stack"].is_array());
    EXPECT_TRUE(got.contains("user_stack") && got["user_stack"].is_array());
}

void expect_number_in(const json& ev, const char* key, double lo, double hi) {
    ASSERT_TRUE(ev.contains(key) && ev[key].is_number()) << key << " is " << field(ev, key).dump();
    double v = ev[key].get<double>();
    EXPECT_GE(v, lo) << key;
    EXPECT_LE(v, hi) << key;
}

}  // namespace

void expect_close(const json& ev, const ExpectedClose& want, double max_ms) {
    SCOPED_TRACE("event: " + ev.dump());
    EXPECT_EQ(field(ev, "type"), json("close"));
    EXPECT_TRUE(ev.contains("ts") && ev["ts"].is_string());
    ASSERT_TRUE(ev.contains("cookie") && ev["cookie"].is_number_unsigned()) << "cookie must be non-null";
    EXPECT_NE(ev["cookie"].get<uint64_t>(), 0u);
    EXPECT_EQ(field(ev, "netns"), json(want.netns));
    EXPECT_EQ(field(ev, "family"), json(want.family));
    EXPECT_EQ(field(ev, "laddr"), json(want.local.addr));
    EXPECT_EQ(field(ev, "lport"), json(want.local.port));
    EXPECT_EQ(field(ev, "raddr"), json(want.remote.addr));
    EXPECT_EQ(field(ev, "rport"), json(want.remote.port));
    EXPECT_EQ(field(ev, "role"), json(want.role));
    EXPECT_EQ(field(ev, "first_fin"), json(want.first_fin));
    EXPECT_EQ(field(ev, "reset"), json(want.reset));
    EXPECT_EQ(field(ev, "time_wait"), json(want.time_wait));
    EXPECT_EQ(field(ev, "states"), json(want.states));
    {
        SCOPED_TRACE("owner");
        expect_task(field(ev, "owner"), want.owner, false);
    }
    {
        SCOPED_TRACE("closer");
        if (want.closer) expect_task(field(ev, "closer"), *want.closer, true);
        else EXPECT_TRUE(ev.contains("closer") && ev["closer"].is_null()) << "closer must be null";
    }
    EXPECT_EQ(field(ev, "bytes_sent"), json(want.bytes_sent));
    EXPECT_EQ(field(ev, "bytes_received"), json(want.bytes_received));
    expect_number_in(ev, "duration_ms", 0.0, max_ms);
    expect_number_in(ev, "idle_ms", 0.0, max_ms);
    if (ev.contains("duration_ms") && ev.contains("idle_ms") && ev["idle_ms"].is_number()) {
        EXPECT_LE(ev["idle_ms"].get<double>(), ev["duration_ms"].get<double>());
    }
    EXPECT_TRUE(ev.contains("http") && ev["http"].is_null()) << "http must be null";
    EXPECT_EQ(field(ev, "reason"), json(want.reason));
}

void expect_summary(const json& summary, const std::string& attach_mode) {
    SCOPED_TRACE("summary: " + summary.dump());
    EXPECT_EQ(field(summary, "type"), json("summary"));
    EXPECT_EQ(field(summary, "lost"), json(0));
    EXPECT_EQ(field(summary, "attach_mode"), json(attach_mode));
}

Task this_task(bool exiting) { return Task{getpid(), this_tid(), thread_comm(), exiting}; }

}  // namespace whoclosed::testing
