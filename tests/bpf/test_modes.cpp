// Attach modes, privileges and `check`: the classic-tracepoint fallback gives
// the same verdict as tp_btf; modes this kernel cannot load fail with exit
// code 3 and say why; so does an unprivileged `trace`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>


#include "support/close_expect.h"
#include "support/netns.h"
#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

struct TracedPair {
    std::vector<nlohmann::json> events;
    nlohmann::json summary;
    SockAddr client_end, server_end;
    Task me;
};

// One loopback connection in this process; the client closes first.
TracedPair trace_one_close(int port, const std::vector<std::string>& env) {
    TracedPair out;
    TraceRunner tracer({"--port", std::to_string(port)}, env);
    EXPECT_TRUE(tracer.started()) << tracer.stderr_text();
    if (!tracer.started()) return out;
    Fd listener = listen_tcp("127.0.0.1", port);
    Fd client = connect_tcp("127.0.0.1", port);
    Fd conn = accept_tcp(listener.get());
    out.server_end = local_of(conn.get());
    out.client_end = local_of(client.get());
    out.me = this_task();
    write_bytes(client.get(), 7);
    read_bytes(conn.get(), 7);
    client.reset();
    EXPECT_EQ(read_until_eof(conn.get()), 0u);
    conn.reset();
    usleep(50 * 1000);
    EXPECT_EQ(time_wait_count(out.client_end, out.server_end), 1);
    EXPECT_EQ(time_wait_count(out.server_end, out.client_end), 0);
    EXPECT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    out.events = tracer.events_for_port(port);
    out.summary = tracer.summary();
    return out;
}

// The verdict (role, first FIN, reset, TIME_WAIT, states, closer) does not
// depend on the attach mode.
TEST(AttachModes, ClassicTracepointFallbackSameVerdict) {
    WHOCLOSED_REQUIRE_ROOT();
    TracedPair t = trace_one_close(19601, {"WHOCLOSED_ATTACH_MODE=tracepoint"});
    ASSERT_EQ(t.events.size(), 2u);
    expect_summary(t.summary, "tracepoint");
    const auto* cev = find_close(t.events, t.client_end, t.server_end);
    const auto* sev = find_close(t.events, t.server_end, t.client_end);
    ASSERT_TRUE(cev && sev);
    const nlohmann::json closer = {{"pid", t.me.pid}, {"tid", t.me.tid}, {"comm", t.me.comm}, {"exiting", false}};
    auto check = [&](const nlohmann::json& ev, const char* role, const char* fin, bool tw,
                     std::vector<std::string> states) {
        SCOPED_TRACE(ev.dump());
        EXPECT_EQ(ev["role"], role);
        EXPECT_EQ(ev["first_fin"], fin);
        EXPECT_EQ(ev["reset"], "none");
        EXPECT_EQ(ev["time_wait"], tw);
        EXPECT_EQ(ev["states"], nlohmann::json(states));
        EXPECT_EQ(ev["family"], "ipv4");
        EXPECT_EQ(ev["netns"], current_netns_inode());
        ASSERT_TRUE(ev["closer"].is_object());
        for (const char* k : {"pid", "tid", "comm", "exiting"}) EXPECT_EQ(ev["closer"][k], closer[k]) << k;
        EXPECT_TRUE(ev["duration_ms"].is_number());
        EXPECT_EQ(ev["reason"], "unknown");
    };
    check(*cev, "client", "local", true, kClientActive);
    check(*sev, "server", "remote", false, kServerPassive);
}

// Contract keys that say who and which socket hold in every mode: the owner
// (the process that connected or accepted) and the socket cookie, a small
// counter or null, never a kernel address.
TEST(AttachModes, ClassicTracepointFallbackKeepsOwnerAndCookie) {
    WHOCLOSED_REQUIRE_ROOT();
    TracedPair t = trace_one_close(19604, {"WHOCLOSED_ATTACH_MODE=tracepoint"});
    ASSERT_EQ(t.events.size(), 2u);
    for (const auto& ev : t.events) {
        SCOPED_TRACE(ev.dump());
        EXPECT_TRUE(ev["owner"].is_object()) << "owner is null";
        if (ev["owner"].is_object()) {
            EXPECT_EQ(ev["owner"]["pid"], t.me.pid);
            EXPECT_EQ(ev["owner"]["comm"], t.me.comm);
        }
        // Classic tracepoint programs cannot generate socket cookies: a socket
        // nobody asked a cookie for has none, and then the event says null.
        // What it must never do is print the kernel address used as map key.
        EXPECT_TRUE(ev["cookie"].is_null() || ev["cookie"].is_number_unsigned());
        if (ev["cookie"].is_number_unsigned()) {
            EXPECT_LT(ev["cookie"].get<uint64_t>(), 0xffff000000000000ull) << "cookie looks like a kernel pointer";
        }
    }
}

// fentry (EPERM) and kprobes (CONFIG_KPROBES off) cannot load here: exit 3,
// and the message names the mode.
void expect_mode_unavailable(const std::string& mode) {
    TraceRunner tracer({"--port", "19602"}, {"WHOCLOSED_ATTACH_MODE=" + mode});
    EXPECT_FALSE(tracer.started()) << tracer.stderr_text();
    EXPECT_EQ(tracer.stop(), 3) << tracer.stderr_text();
    EXPECT_NE(tracer.stderr_text().find(mode), std::string::npos) << tracer.stderr_text();
    EXPECT_TRUE(tracer.events().empty());
}

TEST(AttachModes, FentryUnavailableExitsThree) {
    WHOCLOSED_REQUIRE_ROOT();
    expect_mode_unavailable("fentry");
}

TEST(AttachModes, KprobeUnavailableExitsThree) {
    WHOCLOSED_REQUIRE_ROOT();
    expect_mode_unavailable("kprobe");
}

TEST(AttachModes, DefaultIsTpBtf) {
    WHOCLOSED_REQUIRE_ROOT();
    TraceRunner tracer({"--port", "19603"});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    expect_summary(tracer.summary(), "tp_btf");
    EXPECT_EQ(tracer.summary().value("events", -1), 0);
}

// Dropping to nobody without capabilities: exit 3, stderr (not stdout) says
// that CAP_BPF is missing and how to get it.
TEST(Privileges, UnprivilegedTraceExitsThreeNamingCapBpf) {
    WHOCLOSED_REQUIRE_ROOT();
    std::string err;
    const std::string cmd = "{ setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "
                            "--bounding-set=-all -- " WHOCLOSED_BINARY " trace --duration 2 2>&1 >/tmp/wc-unpriv-out.$$; "
                            "rc=$?; test ! -s /tmp/wc-unpriv-out.$$ || echo STDOUT-NOT-EMPTY; "
                            "rm -f /tmp/wc-unpriv-out.$$; exit $rc; }";
    EXPECT_EQ(run_capture(cmd, err), 3) << err;
    EXPECT_NE(err.find("CAP_BPF"), std::string::npos) << err;
    const bool says_how = err.find("sudo") != std::string::npos || err.find("setcap") != std::string::npos ||
                          err.find("root") != std::string::npos;
    EXPECT_TRUE(says_how) << "no hint how to get the privilege: " << err;
    EXPECT_EQ(err.find("STDOUT-NOT-EMPTY"), std::string::npos) << "trace wrote to stdout: " << err;
}

TEST(Privileges, CheckAsRootSaysTpBtf) {
    WHOCLOSED_REQUIRE_ROOT();
    std::string out;
    EXPECT_EQ(run_capture(std::string(WHOCLOSED_BINARY) + " check", out), 0) << out;
    EXPECT_NE(out.find("tp_btf"), std::string::npos) << out;
}

// `check` says how accepting processes are seen; the kernel's list of
// loaded programs while `trace` runs says what trace really attached.
TEST(Privileges, CheckNamesTheAcceptHookTraceUses) {
    WHOCLOSED_REQUIRE_ROOT();
    std::string out;
    ASSERT_EQ(run_capture(std::string(WHOCLOSED_BINARY) + " check", out), 0) << out;
    TraceRunner tracer({"--port", "19499"});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    const AcceptHooksLoaded hooks = accept_hooks_loaded();
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    ASSERT_TRUE(hooks.listed) << hooks.listing;
    ASSERT_EQ(hooks.count(), 1) << "exactly one accept hook expected:\n" << hooks.listing;
    // `check` and trace's own "tracing" line name that hook.
    const std::string tracing = tracer.stderr_text();
    if (hooks.fexit) {
        EXPECT_NE(out.find("seen by fexit on inet_csk_accept()"), std::string::npos) << out;
        EXPECT_NE(tracing.find("acceptors by fexit on inet_csk_accept()"), std::string::npos) << tracing;
    } else if (hooks.cgroup) {
        EXPECT_NE(out.find("seen by cgroup getpeername hooks"), std::string::npos) << out;
        EXPECT_NE(tracing.find("acceptors by cgroup getpeername hooks"), std::string::npos) << tracing;
    } else {
        EXPECT_NE(out.find("seen by the accept()/accept4() syscall tracepoints"), std::string::npos) << out;
        EXPECT_NE(tracing.find("acceptors by accept()/accept4() syscall tracepoints"), std::string::npos)
            << tracing;
    }
}

// Every BPF program loaded on the host, as `bpftool prog show -j` lists them.
nlohmann::json loaded_programs() {
    std::string text;
    EXPECT_EQ(run_capture("bpftool prog show -j", text), 0) << text;
    return nlohmann::json::parse(text);
}

std::set<uint64_t> program_ids() {
    std::set<uint64_t> ids;
    for (const auto& p : loaded_programs()) ids.insert(p.at("id").get<uint64_t>());
    return ids;
}

// The programs loaded since `before` (a tracer's): name -> translated size.
std::multimap<std::string, uint64_t> programs_added(const std::set<uint64_t>& before) {
    std::multimap<std::string, uint64_t> out;
    for (const auto& p : loaded_programs())
        if (!before.count(p.at("id").get<uint64_t>()))
            out.emplace(p.at("name").get<std::string>(), p.value("bytes_xlated", uint64_t{0}));
    return out;
}

// scripts/bench.sh's `hooks` calibration (WHOCLOSED_EMPTY_PROGRAMS=1) must
// attach exactly the programs a real run attaches, each cut down to its
// early return, and report nothing: otherwise its figure is not the cost of
// the hooks alone.
TEST(Calibration, EmptyProgramsAttachTheSameHooksAndReportNothing) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19497;
    const std::vector<std::string> args = {"--port", std::to_string(kPort), "--no-stacks", "--http", "off"};
    std::multimap<std::string, uint64_t> real, empty;
    {
        const auto before = program_ids();
        TraceRunner tracer(args);
        ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
        real = programs_added(before);
        ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();
    }
    const auto before = program_ids();
    TraceRunner tracer(args, {"WHOCLOSED_EMPTY_PROGRAMS=1"});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    empty = programs_added(before);
    Fd listener = listen_tcp("127.0.0.1", kPort);
    Fd client = connect_tcp("127.0.0.1", kPort);
    Fd conn = accept_tcp(listener.get());
    client.reset();
    EXPECT_EQ(read_until_eof(conn.get()), 0u);
    conn.reset();
    usleep(50 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    std::vector<std::string> real_names, empty_names;
    for (const auto& [name, size] : real) real_names.push_back(name);
    for (const auto& [name, size] : empty) empty_names.push_back(name);
    EXPECT_EQ(empty_names, real_names);
    ASSERT_NE(real.find("btf_set_state"), real.end());
    EXPECT_GT(real.find("btf_set_state")->second, 1000u);
    for (const auto& [name, size] : empty)
        EXPECT_LE(size, 128u) << name << " is not cut down to its early return";
    EXPECT_TRUE(tracer.events_for_port(kPort).empty());
    EXPECT_EQ(tracer.summary().value("events", -1), 0) << tracer.summary().dump();
    EXPECT_NE(tracer.stderr_text().find("WHOCLOSED_EMPTY_PROGRAMS=1"), std::string::npos);
}

// scripts/bench.sh's `kernel` calibration (WHOCLOSED_DISCARD_RECORDS=1) must
// leave the kernel side whole (every socket's record reaches the ring) and
// drop everything in userspace unprocessed: otherwise its figure is not the
// cost of the kernel side alone.
TEST(Calibration, DiscardedRecordsAreAllReadAndNoneReported) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19498;
    constexpr int kConnections = 5;
    TraceRunner tracer({"--port", std::to_string(kPort), "--no-stacks", "--http", "off"},
                       {"WHOCLOSED_DISCARD_RECORDS=1"});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    Fd listener = listen_tcp("127.0.0.1", kPort);
    for (int i = 0; i < kConnections; ++i) {
        Fd client = connect_tcp("127.0.0.1", kPort);
        Fd conn = accept_tcp(listener.get());
        client.reset();
        EXPECT_EQ(read_until_eof(conn.get()), 0u);
    }
    usleep(50 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    EXPECT_TRUE(tracer.events_for_port(kPort).empty());
    EXPECT_EQ(tracer.summary().value("events", -1), 0) << tracer.summary().dump();
    EXPECT_EQ(tracer.summary().value("lost", -1), 0) << tracer.summary().dump();
    EXPECT_NE(tracer.stderr_text().find("WHOCLOSED_DISCARD_RECORDS=1"), std::string::npos);
    // Both ends of every connection: a client and a server record each.
    const std::string dropped = "whoclosed: " + std::to_string(2 * kConnections) + " records read and dropped unprocessed\n";
    EXPECT_NE(tracer.stderr_text().find(dropped), std::string::npos) << tracer.stderr_text();
}

}  // namespace
}  // namespace whoclosed::testing
