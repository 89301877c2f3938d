// Which pages of a file are in the page cache (mincore(2) on a read-only
// mapping, which faults nothing in): the ground truth of the tests of
// WrittenPagesDropper. Header-only: unit_tests does not link
// tests/support/*.cpp.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <vector>

namespace whoclosed::testing {

// One entry per page of the file at `path`, nonzero where the page is
// cached; empty when the file cannot be opened, mapped or is empty.
inline std::vector<unsigned char> cached_pages(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    struct stat st {};
    const size_t size = fstat(fd, &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
    void* map = size ? mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
    close(fd);
    if (map == MAP_FAILED) return {};
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> pages((size + page - 1) / page);
    if (mincore(map, size, pages.data()) != 0) pages.clear();
    munmap(map, size);
    for (unsigned char& p : pages) p &= 1;  // the other bits are reserved
    return pages;
}

// How many of pages [from, to) cached_pages() found cached.
inline size_t count_cached(const std::vector<unsigned char>& pages, size_t from, size_t to) {
    size_t n = 0;
    for (size_t i = from; i < to && i < pages.size(); i++) n += pages[i];
    return n;
}

}  // namespace whoclosed::testing
