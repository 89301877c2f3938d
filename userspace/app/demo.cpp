// `whoclosed demo`: the classic case on loopback, traced, with a verdict.
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "app/commands.h"
#include "app/demo_peers.h"
#include "app/trace_session.h"
#include "cli/exit_codes.h"
#include "report/port_verdict.h"
#include "sink/ndjson_sink.h"
#include "sink/text_sink.h"

namespace whoclosed {

namespace {

constexpr int kDemoRequests = 5;

// Prints like the chosen sink and keeps every event for the verdict.
class CollectingSink final : public EventSink {
public:
    explicit CollectingSink(EventSink& inner) : inner_(inner) {}
    void write(const CloseEvent& ev) override {
        events.push_back(ev);
        inner_.write(ev);
    }
    void write_summary(const Summary& s) override { inner_.write_summary(s); }
    bool good() const override { return inner_.good(); }
    void flush() override { inner_.flush(); }
    std::vector<CloseEvent> events;

private:
    EventSink& inner_;
};

}  // namespace

int run_demo(const DemoOptions& opts) {
    signal(SIGPIPE, SIG_IGN);  // `demo | head` must not kill us before we stop the peers
    DemoPeers peers;
    if (!start_demo_peers(kDemoRequests, peers)) {
        std::cerr << "whoclosed: error: cannot start the demo server on 127.0.0.1\n";
        stop_demo_peers(peers);
        return kExitFailure;
    }
    TraceOptions topts;
    topts.ports = {peers.port};
    topts.http = HttpMode::Auto;
    int code = kExitOk;
    auto session = TraceSession::start(topts, code);
    if (!session) {
        stop_demo_peers(peers);
        return code;
    }
    std::cerr << "whoclosed: demo: HTTP/1.1 keep-alive server on 127.0.0.1:" << peers.port
              << ", a client sending " << kDemoRequests << " requests with `Connection: close`\n";
    NdjsonSink json(std::cout);
    TextSink text(std::cout);
    CollectingSink sink(opts.text ? static_cast<EventSink&>(text) : json);
    release_client(peers);

    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::chrono::steady_clock::time_point client_done{};
    session->run(sink, [&] {
        auto now = std::chrono::steady_clock::now();
        if (client_done == std::chrono::steady_clock::time_point{} && demo_peers_done(peers))
            client_done = now;
        bool settled = client_done != std::chrono::steady_clock::time_point{} &&
                       now - client_done > std::chrono::milliseconds(300);
        return settled || now > deadline;
    });
    stop_demo_peers(peers);
    session->finish(sink);

    std::cout << "\nverdict:\n";
    for (const std::string& line : verdict_lines(port_verdict(sink.events, peers.port)))
        std::cout << "  " << line << '\n';
    return kExitOk;
}

}  // namespace whoclosed
