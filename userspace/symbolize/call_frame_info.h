// Unwinding a frame-pointer-less user stack with the binary's own call frame
// information (.eh_frame, which every x86-64 binary and library carries for
// exceptions and backtraces). Debian's C libraries are built without frame
// pointers, so the kernel's frame-pointer walk stops at the innermost frame
// (`close` in libc); given the registers at the system call and the top of
// the stack captured with them, these rules find the callers (libcurl ...).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "symbolize/elf_file.h"

struct Dwarf_CFI_s;

namespace whoclosed {

// The registers the rules below can use (x86-64): enough for the code
// compilers emit, whose frames are found from rsp or rbp.
struct UserRegs {
    uint64_t ip = 0, sp = 0, bp = 0;
};

// Reads the 8 bytes at a user address from the captured stack; false when
// the address lies outside what was captured.
using StackReader = std::function<bool(uint64_t addr, uint64_t& value)>;

class CallFrameInfo {
public:
    // nullptr when the file has no .eh_frame (or libdw cannot read it).
    static std::shared_ptr<const CallFrameInfo> from(ElfFile file);
    ~CallFrameInfo();
    CallFrameInfo(const CallFrameInfo&) = delete;
    CallFrameInfo& operator=(const CallFrameInfo&) = delete;

    // One frame up: `regs` are those of a frame executing at `vaddr` (an
    // address in the ELF file's own terms; for a return address, the call
    // instruction's, i.e. return address - 1). On success they become the
    // caller's: ip the return address, sp the frame's CFA, bp restored if
    // the frame saved it. False when the rules are unknown, use registers
    // not captured, or need stack bytes outside what `read` can see.
    bool step(uint64_t vaddr, UserRegs& regs, const StackReader& read) const;

    // The rule of nearly every address compilers emit, in a form applied
    // without the expression evaluator, the rule table's lock and lookup:
    // the CFA is rsp or rbp plus an offset, the return address is saved at
    // CFA + ra_off, rbp at CFA + bp_off or not at all.
    struct SimpleRule {
        bool cfa_from_bp = false;  // else from sp
        int64_t cfa_off = 0;
        int64_t ra_off = 0;
        bool bp_saved = false;
        int64_t bp_off = 0;
    };
    // The rule at vaddr as a SimpleRule; nullopt where it has another shape
    // or none (step() decides those).
    std::optional<SimpleRule> simple_rule(uint64_t vaddr) const;
    // step() for a SimpleRule, with `read` any callable like StackReader.
    template <typename Read>
    static bool apply(const SimpleRule& r, UserRegs& regs, Read&& read) {
        const uint64_t cfa = (r.cfa_from_bp ? regs.bp : regs.sp) + static_cast<uint64_t>(r.cfa_off);
        uint64_t ra = 0, bp = regs.bp;
        if (!read(cfa + static_cast<uint64_t>(r.ra_off), ra)) return false;
        if (r.bp_saved && !read(cfa + static_cast<uint64_t>(r.bp_off), bp)) return false;
        regs = {ra, cfa, bp};
        return true;
    }

private:
    // A DWARF expression, as libdw hands it out, copied so it outlives the frame.
    struct Op {
        uint8_t atom;
        uint64_t number, number2;
    };
    enum class Saved { Same, Undefined, Expr };
    struct Rule {
        bool known = false;  // CFI covers the address
        std::vector<Op> cfa;
        Saved ra_kind = Saved::Undefined, bp_kind = Saved::Same;
        std::vector<Op> ra, bp;
    };

    CallFrameInfo(ElfFile file, Dwarf_CFI_s* cfi) : file_(std::move(file)), cfi_(cfi) {}
    const Rule& rule_for(uint64_t vaddr) const;

    ElfFile file_;
    Dwarf_CFI_s* cfi_;
    // Rules per address, bounded; the owner (ProcessSymbolizer) serializes
    // calls, but the lock keeps this object safe on its own.
    mutable std::mutex mutex_;
    mutable std::unordered_map<uint64_t, Rule> rules_;
    static constexpr size_t kMaxRules = 8192;
};

}  // namespace whoclosed
