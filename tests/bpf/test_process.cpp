// The closing task versus the owner: a process killed with an open
// connection, and a socket accepted in one process but closed in its child.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "support/close_expect.h"
#include "support/netns.h"
#include "support/sockets.h"
#include "support/trace_runner.h"

namespace whoclosed::testing {
namespace {

// A child connects, sends 10 bytes and blocks; SIGKILL makes its exit close
// the socket, so the exiting child sends the first FIN.
TEST(Process, KilledProcessClosesOnExit) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19301;
    const char* kVictimComm = "wc-victim";
    auto t0 = std::chrono::steady_clock::now();
    TraceRunner tracer({"--port", std::to_string(kPort)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", kPort);
    Child victim([&](int ctl) -> int {
        set_thread_comm(kVictimComm);
        Fd fd = connect_tcp("127.0.0.1", kPort);
        write_bytes(fd.get(), 10);
        send_token(ctl);
        for (;;) pause();
    });
    Fd conn = accept_tcp(listener.get());
    const SockAddr server_end = local_of(conn.get()), client_end = peer_of(conn.get());
    const Task server_task = this_task();
    recv_token(victim.ctl());
    read_bytes(conn.get(), 10);
    kill(victim.pid(), SIGKILL);
    EXPECT_EQ(victim.wait(), 128 + SIGKILL);
    EXPECT_EQ(read_until_eof(conn.get()), 0u);
    conn.reset();
    usleep(50 * 1000);
    EXPECT_EQ(time_wait_count(client_end, server_end), 1);
    EXPECT_EQ(time_wait_count(server_end, client_end), 0);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    const uint64_t netns = current_netns_inode();
    const Task victim_task{victim.pid(), victim.pid(), kVictimComm, true};
    auto events = tracer.events_for_port(kPort);
    const auto [cev, sev] = find_close_pair(events, client_end, server_end);
    ASSERT_TRUE(cev && sev);
    {
        SCOPED_TRACE("killed client");
        expect_close(*cev, {"ipv4", client_end, server_end, netns, "client", "local", "none", true,
                            kClientActive, {victim.pid(), 0, kVictimComm}, victim_task, 10, 0,
                            "process_exit"},
                     ms_since(t0));
    }
    {
        SCOPED_TRACE("server");
        expect_close(*sev, {"ipv4", server_end, client_end, netns, "server", "remote", "none", false,
                            kServerPassive, server_task, server_task, 0, 10, "unknown"},
                     ms_since(t0));
    }
    expect_summary(tracer.summary(), "tp_btf");
}

// This process connects and accepts; a forked child inherits the accepted
// socket, writes and closes it (the parent's close of its copy sends nothing).
// The owner stays the acceptor, the closer is the child.
TEST(Process, AcceptedHereClosedByForkedChild) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19302;
    const char* kCloserComm = "wc-closer";
    auto t0 = std::chrono::steady_clock::now();
    TraceRunner tracer({"--port", std::to_string(kPort)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", kPort);
    Fd client = connect_tcp("127.0.0.1", kPort);
    const Task me = this_task();
    Fd conn = accept_tcp(listener.get());
    const SockAddr server_end = local_of(conn.get()), client_end = local_of(client.get());
    write_bytes(client.get(), 10);
    read_bytes(conn.get(), 10);
    Child closer([&](int ctl) {
        set_thread_comm(kCloserComm);
        client.reset();  // the client end stays the parent's alone
        recv_token(ctl);
        write_bytes(conn.get(), 20);
        conn.reset();
        send_token(ctl);
        recv_token(ctl);
        return 0;
    });
    conn.reset();  // the child still holds the socket: no FIN yet
    usleep(20 * 1000);
    EXPECT_EQ(tcp_state(client.get()), 1 /* TCP_ESTABLISHED */);
    send_token(closer.ctl());
    recv_token(closer.ctl());
    read_bytes(client.get(), 20);
    EXPECT_EQ(read_until_eof(client.get()), 0u);
    client.reset();
    usleep(50 * 1000);
    EXPECT_EQ(time_wait_count(server_end, client_end), 1);
    EXPECT_EQ(time_wait_count(client_end, server_end), 0);
    send_token(closer.ctl());
    EXPECT_EQ(closer.wait(), 0);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    const uint64_t netns = current_netns_inode();
    const Task child_task{closer.pid(), closer.pid(), kCloserComm, false};
    auto events = tracer.events_for_port(kPort);
    const auto [cev, sev] = find_close_pair(events, client_end, server_end);
    ASSERT_TRUE(cev && sev);
    {
        SCOPED_TRACE("accepted socket, closed by the child");
        expect_close(*sev, {"ipv4", server_end, client_end, netns, "server", "local", "none", true,
                            kServerActive, me, child_task, 20, 10, "unknown"},
                     ms_since(t0));
        EXPECT_NE(sev->value("/closer/pid"_json_pointer, -1), sev->value("/owner/pid"_json_pointer, -1));
    }
    {
        SCOPED_TRACE("client");
        expect_close(*cev, {"ipv4", client_end, server_end, netns, "client", "remote", "none", false,
                            kClientPassive, me, me, 10, 20, "unknown"},
                     ms_since(t0));
    }
    expect_summary(tracer.summary(), "tp_btf");
}

// inetd style: this process accepts and hands the socket on untouched; a
// forked child does all its I/O and closes it. The owner is still the
// process accept() returned to, not the first one to use the socket, when
// the accept asks for the peer's address (as Go, nginx, python, Java do):
// every accept hook sees that one. Without the address, see the next test.
void served_by_forked_child(int port, bool naming_peer, bool owner_is_acceptor, const char* addr = "127.0.0.1") {
    const char* kChildComm = "wc-served";
    TraceRunner tracer({"--port", std::to_string(port)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();
    const AcceptHooksLoaded hooks = accept_hooks_loaded();
    ASSERT_TRUE(hooks.listed && hooks.count() == 1) << hooks.listing;
    // Without the peer's address, only the cgroup hooks miss the accept.
    if (!naming_peer) owner_is_acceptor = !hooks.cgroup;

    Fd listener = listen_tcp(addr, port);
    Fd client = connect_tcp(addr, port);
    Fd conn = naming_peer ? accept_tcp_naming_peer(listener.get()) : accept_tcp(listener.get());
    const SockAddr server_end = local_of(conn.get()), client_end = local_of(client.get());
    Child server([&](int ctl) {
        set_thread_comm(kChildComm);
        client.reset();
        recv_token(ctl);
        read_bytes(conn.get(), 10);
        write_bytes(conn.get(), 20);
        conn.reset();
        send_token(ctl);
        return 0;
    });
    conn.reset();  // never read or written here
    write_bytes(client.get(), 10);
    send_token(server.ctl());
    recv_token(server.ctl());
    read_bytes(client.get(), 20);
    EXPECT_EQ(read_until_eof(client.get()), 0u);
    client.reset();
    EXPECT_EQ(server.wait(), 0);
    usleep(50 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    auto events = tracer.events_for_port(port);
    const auto [cev, sev] = find_close_pair(events, client_end, server_end);
    ASSERT_TRUE(cev && sev);
    SCOPED_TRACE(sev->dump());
    EXPECT_EQ(sev->value("/owner/pid"_json_pointer, -1), owner_is_acceptor ? getpid() : server.pid());
    EXPECT_EQ(sev->value("/owner/comm"_json_pointer, std::string()),
              owner_is_acceptor ? thread_comm() : std::string(kChildComm));
    EXPECT_EQ(sev->value("/closer/pid"_json_pointer, -1), server.pid());
    EXPECT_EQ(sev->value("/closer/comm"_json_pointer, std::string()), kChildComm);
    EXPECT_EQ(sev->value("/bytes_received"_json_pointer, -1), 10);
}

TEST(Process, AcceptedHereUntouchedThenServedByForkedChild) {
    WHOCLOSED_REQUIRE_ROOT();
    served_by_forked_child(19303, true, true);
}

// The same over IPv6: accept() names an IPv6 peer through the getpeername6
// hook where the cgroup hooks are in use.
TEST(Process, AcceptedHereOverIpv6UntouchedThenServedByForkedChild) {
    WHOCLOSED_REQUIRE_ROOT();
    served_by_forked_child(19306, true, true, "::1");
}

// The same with accept(fd, NULL, NULL): fexit and the syscall tracepoints
// still see the acceptor; the cgroup getpeername hooks (the choice where
// trampolines are missing) are not run, and the owner is the first process
// that used the socket in process context, the child (the documented limit).
TEST(Process, AcceptedWithoutPeerAddressUntouchedThenServedByForkedChild) {
    WHOCLOSED_REQUIRE_ROOT();
    served_by_forked_child(19304, false, false);
}

// accept(fd, NULL, NULL), no I/O, closed by the acceptor: whatever the
// accept hook, the owner is the acceptor (at the latest, the process that
// closes an accepted socket in process context). A connection still in the
// listener's queue when the listener closes was never accepted: no owner,
// though a task (the listener's closer) runs its close.
TEST(Process, AcceptedSilentSocketAndUnacceptedOne) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19305;
    TraceRunner tracer({"--port", std::to_string(kPort)});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", kPort);
    Fd client1 = connect_tcp("127.0.0.1", kPort);
    Fd conn = accept_tcp(listener.get());
    const SockAddr accepted_end = local_of(conn.get()), client1_end = local_of(client1.get());
    Fd client2 = connect_tcp("127.0.0.1", kPort);
    const SockAddr client2_end = local_of(client2.get());
    usleep(20 * 1000);  // the second handshake completes into the accept queue
    conn.reset();
    listener.reset();   // drops the queued, never-accepted connection
    EXPECT_EQ(read_until_eof(client1.get()), 0u);
    client1.reset();
    client2.reset();
    usleep(50 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    auto events = tracer.events_for_port(kPort);
    EXPECT_EQ(events.size(), 4u);  // two connections, both ends each
    const nlohmann::json* accepted = find_close(events, accepted_end, client1_end);
    ASSERT_TRUE(accepted);
    SCOPED_TRACE(accepted->dump());
    EXPECT_EQ(accepted->value("/owner/pid"_json_pointer, -1), getpid());
    EXPECT_EQ(accepted->value("/owner/comm"_json_pointer, std::string()), thread_comm());
    EXPECT_EQ(accepted->value("/closer/pid"_json_pointer, -1), getpid());
    EXPECT_EQ(accepted->value("/role"_json_pointer, std::string()), "server");

    const nlohmann::json* unaccepted = nullptr;
    for (const auto& ev : events)
        if (ev.value("rport", 0) == client2_end.port && ev.value("role", std::string()) == "server")
            unaccepted = &ev;
    ASSERT_NE(unaccepted, nullptr) << "no event for the never-accepted socket";
    SCOPED_TRACE(unaccepted->dump());
    EXPECT_TRUE(unaccepted->at("owner").is_null());
}

// A process closes a socket, then exec()s python3, which closes another: the
// same pid and start time, a new image. Its frames must resolve against the
// new image, so the kernel must announce the process again after the exec
// (its note of the first image is forgotten there). The child stays on one
// CPU, where the kernel's per-CPU cache of announced processes holds the
// first image's entry when the second image opens its socket.
TEST(Process, ExecdImageIsAnnouncedAgainAndItsFramesResolve) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19302;
    TraceRunner tracer({"--port", std::to_string(kPort), "--http", "off"});
    ASSERT_TRUE(tracer.started()) << tracer.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", kPort);
    const std::string script = "import socket\ns = socket.create_connection(('127.0.0.1', " +
                               std::to_string(kPort) + "))\ns.close()\n";
    Child child([&](int) -> int {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) return 3;
        connect_tcp("127.0.0.1", kPort).reset();
        execlp("python3", "python3", "-c", script.c_str(), static_cast<char*>(nullptr));
        return 4;
    });
    for (int i = 0; i < 2; ++i) {
        Fd conn = accept_tcp(listener.get());
        EXPECT_EQ(read_until_eof(conn.get()), 0u);
    }
    EXPECT_EQ(child.wait(), 0);
    usleep(50 * 1000);
    ASSERT_EQ(tracer.stop(), 0) << tracer.stderr_text();

    std::vector<nlohmann::json> closes;  // the child's client ends, in order
    for (const nlohmann::json& ev : tracer.events_for_port(kPort))
        if (ev.at("role") == "client" && ev.at("closer").is_object() &&
            ev.at("closer").at("pid") == child.pid())
            closes.push_back(ev);
    ASSERT_EQ(closes.size(), 2u) << tracer.output_text();
    std::sort(closes.begin(), closes.end(),
              [](const nlohmann::json& a, const nlohmann::json& b) { return a.at("ts") < b.at("ts"); });
    const auto python_frame = [](const nlohmann::json& f) {
        const std::string name = f.get<std::string>();
        return name.rfind("Py", 0) == 0 || name.rfind("_Py", 0) == 0;
    };
    const nlohmann::json& before = closes[0].at("closer");
    const nlohmann::json& after = closes[1].at("closer");
    EXPECT_NE(before.at("comm"), "python3") << before.dump();
    EXPECT_EQ(after.at("comm"), "python3") << after.dump();
    const nlohmann::json& frames = after.at("user_stack");
    EXPECT_TRUE(std::any_of(frames.begin(), frames.end(), python_frame))
        << "python3's close resolved without its interpreter's frames: " << after.dump();
}

// Where cgroup v2 is mounted, from /proc/mounts; empty if nowhere.
std::string cgroup2_mount() {
    std::ifstream mounts("/proc/mounts");
    std::string line;
    while (std::getline(mounts, line)) {
        std::istringstream fields(line);
        std::string dev, dir, type;
        if (fields >> dev >> dir >> type && type == "cgroup2") return dir;
    }
    return {};
}

// The cgroup v2 path of a process, from /proc/PID/cgroup ("0::/path").
std::string cgroup_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("0::", 0) == 0) return line.substr(3);
    return {};
}

// A child moves itself into a cgroup this test makes, connects and closes;
// this process accepts and closes the other end. Each event names the
// cgroups /proc says each task is in, and `--cgroup` keeps exactly the
// events whose owner or closer is in the given one.
TEST(Process, CgroupsAreTheTasksOwnAndTheCgroupFilterKeepsTheirEvents) {
    WHOCLOSED_REQUIRE_ROOT();
    constexpr int kPort = 19303;
    const std::string mount = cgroup2_mount();
    ASSERT_FALSE(mount.empty()) << "no cgroup2 mount in /proc/mounts";
    const std::string group = "/wc-test-" + std::to_string(getpid());
    ASSERT_EQ(mkdir((mount + group).c_str(), 0755), 0) << mount + group << ": " << std::strerror(errno);
    struct RemoveGroup {
        std::string dir;
        ~RemoveGroup() { rmdir(dir.c_str()); }
    } remove_group{mount + group};

    TraceRunner all({"--port", std::to_string(kPort), "--no-stacks", "--http", "off"});
    TraceRunner filtered({"--port", std::to_string(kPort), "--no-stacks", "--http", "off", "--cgroup", group});
    ASSERT_TRUE(all.started()) << all.stderr_text();
    ASSERT_TRUE(filtered.started()) << filtered.stderr_text();

    Fd listener = listen_tcp("127.0.0.1", kPort);
    const std::string procs = mount + group + "/cgroup.procs";
    Child child([&](int ctl) -> int {
        {
            std::ofstream out(procs);
            out << getpid() << std::flush;
            if (!out) return 3;
        }
        send_token(ctl);
        recv_token(ctl);
        connect_tcp("127.0.0.1", kPort).reset();
        return 0;
    });
    recv_token(child.ctl());
    const std::string child_group = cgroup_of(child.pid()), our_group = cgroup_of(getpid());
    EXPECT_EQ(child_group, group);
    send_token(child.ctl());
    Fd conn = accept_tcp(listener.get());
    EXPECT_EQ(read_until_eof(conn.get()), 0u);
    conn.reset();
    EXPECT_EQ(child.wait(), 0);
    usleep(50 * 1000);
    ASSERT_EQ(all.stop(), 0) << all.stderr_text();
    ASSERT_EQ(filtered.stop(), 0) << filtered.stderr_text();

    const auto events = all.events_for_port(kPort);
    ASSERT_EQ(events.size(), 2u) << all.output_text();
    for (const nlohmann::json& ev : events) {
        SCOPED_TRACE(ev.dump());
        const std::string want = ev.at("role") == "client" ? child_group : our_group;
        EXPECT_EQ(ev.at("owner").at("cgroup"), want);
        EXPECT_EQ(ev.at("closer").at("cgroup"), want);
    }
    const auto kept = filtered.events_for_port(kPort);
    ASSERT_EQ(kept.size(), 1u) << filtered.output_text();
    EXPECT_EQ(kept[0].at("role"), "client");
    EXPECT_EQ(kept[0].at("owner").at("pid"), child.pid());
}

}  // namespace
}  // namespace whoclosed::testing
