// The Go release an executable was built with, from the build information
// the Go linker writes since Go 1.13 (section .go.buildinfo, which -s -w
// keeps). Needed because Go 1.16 and 1.17 share a .gopclntab format while
// only 1.17 calls functions with arguments in registers on amd64.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "symbolize/elf_file.h"

namespace whoclosed {

// The file bytes of link-time addresses [vaddr, vaddr + size), or an empty
// span when the range is not wholly in the file.
using VaddrReader = std::function<std::span<const uint8_t>(uint64_t vaddr, uint64_t size)>;

// The version string ("go1.17.13") from the bytes of a build information
// block: 32 header bytes ("\xff Go buildinf:", pointer size, flags), then
// either the string itself, length-prefixed (Go >= 1.18), or the address of
// a Go string header (Go 1.13-1.17) that `read_at` resolves. Bounded: at
// most 256 bytes of version. nullopt for anything else.
std::optional<std::string> go_build_version(std::span<const uint8_t> block, const VaddrReader& read_at);

// The same for an executable: its .go.buildinfo section, or where section
// headers are gone, a 16-aligned block in a non-executable segment.
std::optional<std::string> go_build_version(const ElfFile& file);

struct GoRelease {
    int major = 0, minor = 0;
    friend bool operator<(const GoRelease& a, const GoRelease& b) {
        return a.major != b.major ? a.major < b.major : a.minor < b.minor;
    }
};

// {1, 17} from "go1.17.13", "go1.17", "go1.21rc2"; nullopt for "devel ..."
// or anything not starting "go<major>.<minor>".
std::optional<GoRelease> go_release(std::string_view version);

}  // namespace whoclosed
