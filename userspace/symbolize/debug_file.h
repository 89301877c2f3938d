// Separate debug info (Debian's *-dbgsym packages, `objcopy --only-keep-debug`):
// the full .symtab of a stripped binary lives in another file, found by
// build-id or by the name in .gnu_debuglink, as gdb looks for it.
#pragma once

#include <optional>
#include <string>

#include "symbolize/elf_file.h"

namespace whoclosed {

// Looks in, in order:
//   <debug_root>/.build-id/<xx>/<rest>.debug
//   <dir of logical_path>/<debuglink>, <dir>/.debug/<debuglink>, <debug_root><dir>/<debuglink>
// A candidate must carry the same build-id, or (without build-ids) match the
// debuglink CRC: a stale debug file would name the wrong functions.
std::optional<ElfFile> find_debug_file(const ElfFile& binary, const std::string& logical_path,
                                       const std::string& debug_root);

}  // namespace whoclosed
