// The symbolized frames of one closing stack, innermost first. Thousands of
// events per second close through the same few stacks: the frames and their
// JSON rendering are built once per distinct stack and shared, so an event
// costs a pointer copy, not a vector of strings to allocate and escape.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace whoclosed {

class StackFrames {
public:
    StackFrames() = default;
    StackFrames(std::vector<std::string> frames);  // NOLINT: implicit, a value like any vector
    StackFrames(std::initializer_list<std::string> frames) : StackFrames(std::vector<std::string>(frames)) {}

    const std::vector<std::string>& frames() const { return data_ ? data_->frames : empty_frames(); }
    // The frames as a JSON array of strings, e.g. ["tcp_close","inet_release"].
    const std::string& json() const;

    bool empty() const { return frames().empty(); }
    size_t size() const { return frames().size(); }
    const std::string& operator[](size_t i) const { return frames()[i]; }
    auto begin() const { return frames().begin(); }
    auto end() const { return frames().end(); }
    auto rbegin() const { return frames().rbegin(); }
    auto rend() const { return frames().rend(); }

    friend bool operator==(const StackFrames& a, const StackFrames& b) { return a.frames() == b.frames(); }

private:
    struct Data {
        std::vector<std::string> frames;
        std::string json;
    };
    static const std::vector<std::string>& empty_frames();

    std::shared_ptr<const Data> data_;
};

}  // namespace whoclosed
