#include "sink/written_pages.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace whoclosed {

namespace {

off_t whole_pages(off_t bytes) { return bytes & ~static_cast<off_t>(sysconf(_SC_PAGESIZE) - 1); }

}  // namespace

WrittenPagesDropper::WrittenPagesDropper(int fd) {
    struct stat st {};
    if (fd < 0) return;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return;
    }
    fd_ = fd;
    // Appending to an existing file: what was there is not ours to drop.
    started_ = prev_started_ = dropped_ = whole_pages(st.st_size);
}

WrittenPagesDropper::~WrittenPagesDropper() {
    if (fd_ >= 0) close(fd_);
}

void WrittenPagesDropper::after_flush() {
    struct stat st {};
    if (fd_ < 0 || fstat(fd_, &st) != 0) return;
    const off_t end = whole_pages(st.st_size);
    if (end - started_ < kStretch) return;
    // Failures change nothing but the cache (a filesystem without these
    // calls, say): the file is written all the same.
    (void)sync_file_range(fd_, started_, end - started_, SYNC_FILE_RANGE_WRITE);
    if (prev_started_ > dropped_) {
        (void)posix_fadvise(fd_, dropped_, prev_started_ - dropped_, POSIX_FADV_DONTNEED);
        dropped_ = prev_started_;
    }
    prev_started_ = started_;
    started_ = end;
}

}  // namespace whoclosed
