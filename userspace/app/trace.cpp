// `whoclosed trace`: stream one event per closed TCP socket until a signal,
// --duration or --count, then one summary line.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "app/report_sink.h"
#include "app/trace_session.h"
#include "loader/go_probes.h"
#include "cli/exit_codes.h"
#include "sink/ndjson_sink.h"
#include "sink/text_sink.h"
#include "sink/written_pages.h"

namespace whoclosed {

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

// No SA_RESTART: the signal must interrupt the ring poll so we stop at once.
void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a closed pipe shows up as a failed stream
}

std::unique_ptr<LineSink> make_sink(bool text, std::ostream& out) {
    if (text) return std::make_unique<TextSink>(out);
    return std::make_unique<NdjsonSink>(out);
}

// A descriptor of the regular file the events go to (-o FILE, or stdout
// redirected to one), for WrittenPagesDropper; -1 for anything else. Never
// opens a FIFO: a read end of our own would keep its writes blocking.
int output_file_fd(const std::optional<std::string>& output) {
    if (!output) return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
    struct stat st {};
    if (stat(output->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    return open(output->c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

}  // namespace

int run_trace(const TraceOptions& opts) {
    std::ofstream file;
    if (opts.output) {
        file.open(*opts.output, std::ios::out | std::ios::trunc);
        if (!file) {
            std::cerr << "whoclosed: error: cannot open -o " << *opts.output << ": "
                      << std::strerror(errno) << '\n';
            return kExitFailure;
        }
    }
    std::ostream& out = opts.output ? static_cast<std::ostream&>(file) : std::cout;
    install_stop_handlers();

    int code = kExitOk;
    auto session = TraceSession::start(opts, code);
    if (!session) return code;
    if (opts.http != HttpMode::Off && std::string(session->http_mode()) == "off")
        std::cerr << "whoclosed: note: HTTP capture needs the sock_send_length/sock_recv_length "
                     "tracepoints (Linux >= 6.3) and tp_btf; `http` stays null\n";
    if (opts.http == HttpMode::Uprobe && !session->tracer().libc_note().empty())
        std::cerr << "whoclosed: note: libc plaintext not captured: " << session->tracer().libc_note()
                  << '\n';
    if (opts.http != HttpMode::Off && opts.http != HttpMode::Syscall &&
        !session->tracer().tls_note().empty())
        std::cerr << "whoclosed: note: TLS plaintext not captured: "
                  << session->tracer().tls_note() << '\n';
    if (const GoProbes* go = session->tracer().go_probes(); go && !go->note().empty())
        std::cerr << "whoclosed: note: Go TLS not probed in one executable: " << go->note() << '\n';
    std::cerr << "whoclosed: tracing (attach mode " << to_string(session->mode()) << ", http "
              << session->http_mode() << ", acceptors by " << to_string(session->tracer().accept_hook())
              << "; Ctrl-C to stop)" << std::endl;

    // Declared before the sink, whose destructor flushes through it.
    WrittenPagesDropper dropper(output_file_fd(opts.output));
    auto lines = make_sink(opts.text, out);
    if (dropper.active()) lines->set_after_flush([&dropper] { dropper.after_flush(); });
    ReportingSink reporting(*lines);
    EventSink& sink = opts.report_html ? static_cast<EventSink&>(reporting) : *lines;
    session->run(sink, [] { return g_stop.load(); });
    Summary s = session->finish(sink);
    if (!sink.good()) {
        std::cerr << "whoclosed: error: writing events failed (disk full or reader gone)\n";
        return kExitFailure;
    }
    std::string error;
    if (opts.report_html && !reporting.write_html(*opts.report_html, error)) {
        std::cerr << "whoclosed: error: cannot write --report " << *opts.report_html << ": " << error
                  << '\n';
        return kExitFailure;
    }
    const DropCounters d = session->tracer().counters();  // one read of the kernel's counters
    std::cerr << "whoclosed: " << s.events << " events, " << s.lost << " lost";
    if (s.lost)
        std::cerr << " (ring buffer full " << d.ring_full << ", socket table full " << d.map_full
                  << ", hook runs the kernel skipped " << d.recursion_lost << ", undecodable "
                  << session->decode_errors() << ")";
    if (std::getenv("WHOCLOSED_DEBUG"))
        std::cerr << " [kernel: emitted " << d.emitted << ", filtered " << d.filtered
                  << ", forced wake-ups " << d.wakeups << ", covered " << d.covered
                  << ", untracked destroys " << d.untracked_destroys << ", late records "
                  << d.late_records << ", kernel paths that varied " << d.kstack_varied
                  << ", skipped:" << session->tracer().recursion_report() << "]";
    if (session->tracer().recovered())
        std::cerr << ", " << session->tracer().recovered()
                  << " completed from the socket table (the kernel ran their last state changes"
                     " without whoclosed's hooks; their states end at the last one seen, then CLOSE)";
    if (session->other_netns_left())
        std::cerr << ", " << session->other_netns_left()
                  << " sockets of other network namespaces still tracked (open, or closed without whoclosed's"
                     " hooks running: not reported)";
    if (session->time_waits_dropped())
        std::cerr << ", " << session->time_waits_dropped()
                  << " TIME_WAITs dropped by the kernel (net.ipv4.tcp_max_tw_buckets is full; those events"
                     " say time_wait false)";
    if (d.stacks_lost)
        std::cerr << ", " << d.stacks_lost << " closing stacks not stored (their frames are empty)";
    if (d.http_lost || session->http_heads_dropped())
        std::cerr << ", " << d.http_lost + session->http_heads_dropped()
                  << " HTTP heads not kept (ring buffer full " << d.http_lost
                  << ", more than 16384 open HTTP sockets " << session->http_heads_dropped()
                  << "; their events miss that request or response)";
    std::cerr << '\n';
    return kExitOk;
}

}  // namespace whoclosed
