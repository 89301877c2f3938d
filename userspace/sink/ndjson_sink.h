// One JSON object per line, keys in the contract's order, flushed per line
// so that `whoclosed trace | jq` shows each close as it happens.
#pragma once

#include <string>

#include "sink/event_sink.h"

namespace whoclosed {

std::string close_event_json(const CloseEvent& ev);  // without the newline
void append_close_event_json(ByteBuffer& out, const CloseEvent& ev);
std::string summary_json(const Summary& s);          // without the newline

class NdjsonSink final : public LineSink {
public:
    explicit NdjsonSink(std::ostream& out) : LineSink(out, append_close_event_json, summary_json) {}
};

}  // namespace whoclosed
