// Process exit codes of every subcommand (CONTRACT.md, "Exit codes").
// Scripts branch on these, so they are part of the public interface.
#pragma once

namespace whoclosed {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;      // runtime failure
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitUnsupported = 3;  // missing privilege or kernel feature

}  // namespace whoclosed
