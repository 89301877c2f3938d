#include "correlate/stack_frames.h"

#include "sink/json.h"

namespace whoclosed {

StackFrames::StackFrames(std::vector<std::string> frames) {
    if (frames.empty()) return;
    auto data = std::make_shared<Data>();
    data->json += '[';
    for (size_t i = 0; i < frames.size(); ++i) {
        if (i) data->json += ',';
        append_json_string(data->json, frames[i]);
    }
    data->json += ']';
    data->frames = std::move(frames);
    data_ = std::move(data);
}

const std::string& StackFrames::json() const {
    static const std::string kEmpty = "[]";
    return data_ ? data_->json : kEmpty;
}

const std::vector<std::string>& StackFrames::empty_frames() {
    static const std::vector<std::string> kNone;
    return kNone;
}

}  // namespace whoclosed
