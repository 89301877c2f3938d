// Where decoded events go. Sinks write to an injected ostream so tests can
// compare exact output; the caller owns the stream (stdout or -o FILE).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <utility>

#include "correlate/close_event.h"
#include "sink/json.h"
#include "sink/summary.h"

namespace whoclosed {

class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void write(const CloseEvent& ev) = 0;
    virtual void write_summary(const Summary& summary) = 0;
    // False once the stream failed (disk full, reader of the pipe gone).
    virtual bool good() const = 0;
    // Called after every drained batch of the ring (at least every 100 ms
    // while events flow): one write(2) per batch instead of one per line.
    virtual void flush() = 0;
};

// One formatted line per event, whole lines only, flushed per batch by the
// caller: a consumer on a pipe sees each close within one poll interval, not
// when a 4 KiB buffer fills, and the tracer pays one write(2) per batch.
class LineSink : public EventSink {
public:
    // Appends one event, without the newline, to `out`.
    using EventFormatter = void (*)(ByteBuffer& out, const CloseEvent&);
    using SummaryFormatter = std::string (*)(const Summary&);

    LineSink(std::ostream& out, EventFormatter format_event, SummaryFormatter format_summary)
        : out_(out), format_event_(format_event), format_summary_(format_summary) {}

    ~LineSink() override { flush(); }
    void write(const CloseEvent& ev) override {
        // Formatted in place: no line string to allocate and copy per event.
        format_event_(pending_, ev);
        end_line();
    }
    void write_summary(const Summary& summary) override {
        emit(format_summary_(summary));
        flush();
    }
    bool good() const override { return out_.good(); }
    void flush() override {
        write_pending();
        out_.flush();
        if (after_flush_) after_flush_();
    }
    // Runs after every flush, once the batch is in the stream's file.
    void set_after_flush(std::function<void()> fn) { after_flush_ = std::move(fn); }

private:
    // Lines gather here until the batch ends: a filebuf hands any write of
    // 1 KiB or more (an event with stacks) straight to writev(2).
    static constexpr size_t kMaxPending = 1 << 20;

    void emit(const std::string& line) {
        pending_.append(line.data(), line.size());
        end_line();
    }

    void end_line() {
        pending_ += '\n';
        if (pending_.size() >= kMaxPending) write_pending();
    }

    void write_pending() {
        if (pending_.empty()) return;
        out_.write(pending_.data(), static_cast<std::streamsize>(pending_.size()));
        pending_.clear();
    }

    std::ostream& out_;
    ByteBuffer pending_;
    EventFormatter format_event_;
    SummaryFormatter format_summary_;
    std::function<void()> after_flush_;
};

}  // namespace whoclosed
