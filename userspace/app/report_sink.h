// `trace --report FILE.html`: aggregates events as they are written (bounded,
// like `report`) and renders the HTML report when the trace ends.
#pragma once

#include <string>

#include "report/aggregate.h"
#include "report/trace_reader.h"
#include "sink/event_sink.h"

namespace whoclosed {

class ReportingSink final : public EventSink {
public:
    explicit ReportingSink(EventSink& inner) : inner_(inner) {}
    void write(const CloseEvent& ev) override;
    void write_summary(const Summary& s) override;
    bool good() const override { return inner_.good(); }
    void flush() override { inner_.flush(); }

    // Writes the HTML page; false with `error` set if the file cannot be written.
    bool write_html(const std::string& path, std::string& error) const;

private:
    EventSink& inner_;
    ReportAggregate agg_;
    ReadStats stats_;
};

}  // namespace whoclosed
