// One human-readable line per close (`trace --text`, `demo --text`). Not a
// stable format: scripts should consume NDJSON.
#pragma once

#include <string>

#include "sink/event_sink.h"

namespace whoclosed {

std::string close_event_text(const CloseEvent& ev);  // without the newline
void append_close_event_text(ByteBuffer& out, const CloseEvent& ev);
std::string summary_text(const Summary& s);          // without the newline

class TextSink final : public LineSink {
public:
    explicit TextSink(std::ostream& out) : LineSink(out, append_close_event_text, summary_text) {}
};

}  // namespace whoclosed
