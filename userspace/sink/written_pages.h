// Keeps a trace written to a regular file from piling up in the page cache:
// once a stretch of the file has had time to reach the disk, its pages are
// dropped, like `dd oflag=nocache`. The file's content is unchanged.
//
// Why: the page cache keeps every page written until memory runs short, so
// an hours-long trace (tens of MB/s at tens of thousands of connections/s)
// would push out the host's useful cache; and every write then lands on a
// freshly allocated page, which on these VMs costs a host fault (their free
// memory is handed back to the host): measured here, writing 800 MB took
// 1.3-1.9 s of CPU plainly and 0.18 s with the pages recycled this way.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace whoclosed {

class WrittenPagesDropper {
public:
    // Stretches of this many bytes: writeback of the newest starts when it
    // is complete, and the one before the previous is dropped then (it had
    // a whole stretch's time to reach the disk; pages still dirty or under
    // writeback are skipped by the kernel and simply stay cached).
    static constexpr off_t kStretch = 8 << 20;

    // Takes ownership of `fd` (any descriptor of the file being written;
    // closed by the destructor). Does nothing unless it is a regular file:
    // pipes, terminals and /dev/null keep no pages.
    explicit WrittenPagesDropper(int fd);
    ~WrittenPagesDropper();
    WrittenPagesDropper(const WrittenPagesDropper&) = delete;
    WrittenPagesDropper& operator=(const WrittenPagesDropper&) = delete;

    // Call after each flush of the stream to the file.
    void after_flush();

    bool active() const { return fd_ >= 0; }
    // Bytes from the start of the file whose pages were handed to
    // POSIX_FADV_DONTNEED so far.
    off_t dropped_upto() const { return dropped_; }

private:
    int fd_ = -1;
    off_t started_ = 0;       // writeback started for [0, started_)
    off_t prev_started_ = 0;  // started_ one stretch ago
    off_t dropped_ = 0;
};

}  // namespace whoclosed
