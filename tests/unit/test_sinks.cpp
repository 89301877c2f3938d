#include <algorithm>
#include <gtest/gtest.h>

#include <sstream>

#include "json_check.h"
#include "sink/ndjson_sink.h"
#include "sink/summary.h"
#include "sink/text_sink.h"

namespace whoclosed {
namespace {

// The contract's example event (CONTRACT.md).
CloseEvent contract_example() {
    CloseEvent ev;
    ev.ts_unix_ns = 1795600800ULL * 1000000000ULL + 123456789ULL;  // 2026-11-25T10:00:00.123456789Z
    ev.cookie = 8193;
    ev.netns = 4026531840;
    ev.laddr = "127.0.0.1";
    ev.lport = 8081;
    ev.raddr = "127.0.0.1";
    ev.rport = 54722;
    ev.role = Role::Server;
    ev.first_fin = FirstFin::Local;
    ev.reset = ResetDir::None;
    ev.time_wait = true;
    ev.states = {"SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"};
    ev.owner = OwnerInfo{4242, "server", "/system.slice/web.service"};
    CloserInfo c;
    c.pid = 4242;
    c.tid = 4250;
    c.comm = "server";
    c.cgroup = "/system.slice/web.service";
    c.kernel_stack = {"tcp_close", "inet_release", "__sock_release"};
    c.user_stack = {"syscall.Syscall", "internal/poll.(*FD).Close", "net.(*conn).Close", "net/http.(*conn).close"};
    ev.closer = c;
    ev.duration_ms = 3.41;
    ev.idle_ms = 0.08;
    ev.bytes_sent = 130;
    ev.bytes_received = 96;
    HttpExchange http;
    http.requests = 1;
    http.source = "uprobe:go";
    http.last_request = HttpRequestHead{"GET", "/", "HTTP/1.1", "10.100.219.9:8081", "close", "Go-http-client/1.1"};
    http.last_response = HttpResponseHead{"HTTP/1.1", 200, std::nullopt};
    ev.http = http;
    ev.reason = Reason::RequestConnectionClose;
    return ev;
}

TEST(NdjsonSink, ContractExampleLine) {
    std::ostringstream out;
    NdjsonSink sink(out);
    sink.write(contract_example());
    sink.flush();
    EXPECT_EQ(out.str(),
              R"({"type":"close","ts":"2026-11-25T10:00:00.123456789Z","cookie":8193,)"
              R"("netns":4026531840,"family":"ipv4",)"
              R"("laddr":"127.0.0.1","lport":8081,"raddr":"127.0.0.1","rport":54722,)"
              R"("role":"server","first_fin":"local","reset":"none","time_wait":true,)"
              R"("states":["SYN_RECV","ESTABLISHED","FIN_WAIT1","FIN_WAIT2","CLOSE"],)"
              R"("owner":{"pid":4242,"comm":"server","cgroup":"/system.slice/web.service"},)"
              R"("closer":{"pid":4242,"tid":4250,"comm":"server","cgroup":"/system.slice/web.service",)"
              R"("exiting":false,"kernel_stack":["tcp_close","inet_release","__sock_release"],)"
              R"("user_stack":["syscall.Syscall","internal/poll.(*FD).Close","net.(*conn).Close","net/http.(*conn).close"]},)"
              R"("duration_ms":3.41,"idle_ms":0.08,"bytes_sent":130,"bytes_received":96,)"
              R"("http":{"requests":1,"source":"uprobe:go",)"
              R"("last_request":{"method":"GET","path":"/","version":"HTTP/1.1","host":"10.100.219.9:8081",)"
              R"("connection":"close","user_agent":"Go-http-client/1.1"},)"
              R"("last_response":{"version":"HTTP/1.1","status":200,"connection":null}},)"
              R"("reason":"request_connection_close"})"
              "\n");
}

TEST(NdjsonSink, UnknownValuesAreNullNeverOmitted) {
    CloseEvent ev;
    ev.ipv6 = true;
    ev.laddr = "::1";
    ev.raddr = "::1";
    ev.states = {"ESTABLISHED", "CLOSE"};
    const std::string line = close_event_json(ev);
    EXPECT_EQ(line,
              R"({"type":"close","ts":"1970-01-01T00:00:00.000000000Z","cookie":null,"netns":0,"family":"ipv6",)"
              R"("laddr":"::1","lport":0,"raddr":"::1","rport":0,"role":"unknown","first_fin":"none",)"
              R"("reset":"none","time_wait":false,"states":["ESTABLISHED","CLOSE"],"owner":null,"closer":null,)"
              R"("duration_ms":null,"idle_ms":null,"bytes_sent":null,"bytes_received":null,"http":null,)"
              R"("reason":"unknown"})");
}

TEST(NdjsonSink, OddCommsStayValidJsonAndKeepKeyOrder) {
    CloseEvent ev = contract_example();
    ev.owner->comm = "a\"b\\c\nd\x01\xff";
    ev.closer->comm = "abcdefghijklmnop";
    ev.owner->cgroup = std::nullopt;
    const std::string line = close_event_json(ev);
    auto doc = json_check::parse(line);
    ASSERT_TRUE(doc) << line;
    EXPECT_EQ(doc->keys(),
              (std::vector<std::string>{"type", "ts", "cookie", "netns", "family", "laddr", "lport", "raddr",
                                        "rport", "role", "first_fin", "reset", "time_wait", "states", "owner",
                                        "closer", "duration_ms", "idle_ms", "bytes_sent", "bytes_received",
                                        "http", "reason"}));
    EXPECT_EQ(doc->at("owner").at("comm").text, "a\"b\\c\nd\x01\xef\xbf\xbd");  // 0xff -> U+FFFD
    EXPECT_EQ(doc->at("owner").at("cgroup").kind, json_check::Value::Kind::Null);
    EXPECT_EQ(doc->at("closer").at("comm").text, "abcdefghijklmnop");
}

// Counts flushes: lines are flushed per drained batch (flush()) and with the
// summary, so a live `| jq` sees every close within one poll interval.
class CountingBuf : public std::stringbuf {
public:
    int syncs = 0;

protected:
    int sync() override {
        ++syncs;
        return std::stringbuf::sync();
    }
};

TEST(NdjsonSink, FlushesPerBatchAndWithTheSummary) {
    CountingBuf buf;
    std::ostream os(&buf);
    NdjsonSink sink(os);
    sink.write(contract_example());
    sink.write(contract_example());
    EXPECT_EQ(buf.syncs, 0);
    sink.flush();
    EXPECT_EQ(buf.syncs, 1);
    const std::string text = buf.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
    sink.write_summary(Summary{});
    EXPECT_EQ(buf.syncs, 2);
    EXPECT_TRUE(sink.good());
}

Summary sample_summary() {
    SummaryAccumulator acc;
    CloseEvent ev = contract_example();
    acc.add(ev);  // request_connection_close, local, time_wait
    ev.reason = Reason::Reset;
    ev.first_fin = FirstFin::None;
    ev.time_wait = false;
    acc.add(ev);
    acc.add(ev);
    ev.reason = Reason::Unknown;
    ev.first_fin = FirstFin::Remote;
    acc.add(ev);
    EXPECT_EQ(acc.events(), 4u);
    return acc.finish(12.5, 3, "tp_btf", "auto");
}

TEST(Summary, AccumulatesAndPrintsTheContractLine) {
    const Summary s = sample_summary();
    EXPECT_EQ(s.events, 4u);
    EXPECT_EQ(s.time_wait_local, 1u);
    EXPECT_EQ(s.by_reason[static_cast<size_t>(Reason::Reset)], 2u);
    std::ostringstream out;
    NdjsonSink sink(out);
    sink.write_summary(s);
    EXPECT_EQ(out.str(),
              R"({"type":"summary","duration_s":12.5,"events":4,"lost":3,)"
              R"("by_reason":{"request_connection_close":1,"response_connection_close":0,"client_close":0,)"
              R"("idle_timeout":0,"process_exit":0,"reset":2,"simultaneous":0,"unknown":1},)"
              R"("by_first_fin":{"local":1,"remote":1,"simultaneous":0,"none":2},)"
              R"("time_wait_local":1,"attach_mode":"tp_btf","http_mode":"auto"})"
              "\n");
}

// A batch reaches the stream in one write at flush(), whole lines only: a
// filebuf would hand each line of 1 KiB or more (stacks) to writev(2) alone.
TEST(NdjsonSink, LinesReachTheStreamAtFlushWhole) {
    std::ostringstream out;
    NdjsonSink sink(out);
    sink.write(contract_example());
    sink.write(contract_example());
    EXPECT_EQ(out.str(), "");
    sink.flush();
    const std::string text = out.str();
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
    EXPECT_EQ(text.substr(0, text.size() / 2), text.substr(text.size() / 2));
    sink.flush();  // nothing pending: nothing written twice
    EXPECT_EQ(out.str(), text);
}

TEST(NdjsonSink, SummaryIsWrittenAtOnce) {
    std::ostringstream out;
    NdjsonSink sink(out);
    sink.write(contract_example());
    Summary s;
    s.attach_mode = "tp_btf";
    s.http_mode = "auto";
    sink.write_summary(s);
    const std::string text = out.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
    EXPECT_NE(text.find("\"type\":\"summary\""), std::string::npos);
}

TEST(TextSink, OneHumanLinePerClose) {
    std::ostringstream out;
    TextSink sink(out);
    CloseEvent ev = contract_example();
    sink.write(ev);
    ev.ipv6 = true;
    ev.laddr = "::1";
    ev.raddr = "::1";
    ev.time_wait = false;
    ev.owner->comm = "we\x1b[1mird";
    ev.closer = std::nullopt;
    sink.write(ev);
    sink.flush();
    EXPECT_EQ(out.str(),
              "2026-11-25T10:00:00.123456789Z 127.0.0.1:8081 -> 127.0.0.1:54722 server first_fin=local "
              "reset=none TIME_WAIT here reason=request_connection_close owner=server[4242] "
              "closer=server[4242/4250] http: GET / -> 200 (Connection: close, UA Go-http-client/1.1)\n"
              "2026-11-25T10:00:00.123456789Z [::1]:8081 -> [::1]:54722 server first_fin=local "
              "reset=none reason=request_connection_close owner=we\\x1b[1mird[4242] closer=- "
              "http: GET / -> 200 (Connection: close, UA Go-http-client/1.1)\n");
}

TEST(TextSink, SummaryLine) {
    std::ostringstream out;
    TextSink sink(out);
    sink.write_summary(sample_summary());
    EXPECT_EQ(out.str(),
              "summary: 4 closes in 12.5 s, 3 lost; reasons: request_connection_close=1 reset=2 unknown=1; "
              "first FIN: local=1 remote=1 none=2; TIME_WAIT here: 1; attach tp_btf, http auto\n");
}

}  // namespace
}  // namespace whoclosed
