#include "symbolize/call_frame_info.h"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <cstdlib>

namespace whoclosed {

namespace {

constexpr int kRegBp = 6, kRegSp = 7, kRegRa = 16;  // x86-64 DWARF register numbers

bool reg_value(int regno, const UserRegs& r, uint64_t& out) {
    switch (regno) {
    case kRegBp: out = r.bp; return true;
    case kRegSp: out = r.sp; return true;
    case kRegRa: out = r.ip; return true;
    default: return false;
    }
}

}  // namespace

std::shared_ptr<const CallFrameInfo> CallFrameInfo::from(ElfFile file) {
    Dwarf_CFI* cfi = dwarf_getcfi_elf(file.elf());
    if (cfi == nullptr) return nullptr;
    return std::shared_ptr<const CallFrameInfo>(new CallFrameInfo(std::move(file), cfi));
}

CallFrameInfo::~CallFrameInfo() {
    if (cfi_) dwarf_cfi_end(cfi_);
}

const CallFrameInfo::Rule& CallFrameInfo::rule_for(uint64_t vaddr) const {
    if (auto it = rules_.find(vaddr); it != rules_.end()) return it->second;
    if (rules_.size() >= kMaxRules) rules_.clear();
    Rule& rule = rules_[vaddr];
    Dwarf_Frame* frame = nullptr;
    if (dwarf_cfi_addrframe(cfi_, vaddr, &frame) != 0 || frame == nullptr) return rule;
    const auto copy = [](const Dwarf_Op* ops, size_t n) {
        std::vector<Op> out;
        for (size_t i = 0; i < n; ++i) out.push_back({ops[i].atom, ops[i].number, ops[i].number2});
        return out;
    };
    Dwarf_Op* ops = nullptr;
    size_t nops = 0;
    if (dwarf_frame_cfa(frame, &ops, &nops) == 0 && nops > 0) {
        rule.cfa = copy(ops, nops);
        const auto saved = [&](int regno, Saved& kind, std::vector<Op>& expr) {
            Dwarf_Op mem[3];
            Dwarf_Op* rops = nullptr;
            size_t n = 0;
            if (dwarf_frame_register(frame, regno, mem, &rops, &n) != 0) {
                kind = Saved::Undefined;
            } else if (n == 0) {
                kind = rops == nullptr ? Saved::Same : Saved::Undefined;
            } else {
                kind = Saved::Expr;
                expr = copy(rops, n);
            }
        };
        saved(kRegRa, rule.ra_kind, rule.ra);
        saved(kRegBp, rule.bp_kind, rule.bp);
        rule.known = true;
    }
    std::free(frame);
    return rule;
}

namespace {

// Evaluates the DWARF expressions CFI uses for ordinary frames. A location
// (no DW_OP_stack_value at the end) is read from the stack.
template <typename OpVec>
bool evaluate(const OpVec& ops, const UserRegs& regs, uint64_t cfa, bool is_location, const StackReader& read,
              uint64_t& out) {
    uint64_t stack[8];
    size_t depth = 0;
    bool value = !is_location;
    const auto push = [&](uint64_t v) {
        if (depth == 8) return false;
        stack[depth++] = v;
        return true;
    };
    for (const auto& op : ops) {
        uint64_t v = 0;
        if (op.atom >= DW_OP_breg0 && op.atom <= DW_OP_breg31) {
            if (!reg_value(op.atom - DW_OP_breg0, regs, v) || !push(v + op.number)) return false;
        } else if (op.atom >= DW_OP_reg0 && op.atom <= DW_OP_reg31) {
            if (!reg_value(op.atom - DW_OP_reg0, regs, v) || !push(v)) return false;
            value = true;  // a register holds the value itself
        } else if (op.atom >= DW_OP_lit0 && op.atom <= DW_OP_lit31) {
            if (!push(op.atom - DW_OP_lit0)) return false;
        } else {
            switch (op.atom) {
            case DW_OP_bregx:
                if (!reg_value(static_cast<int>(op.number), regs, v) || !push(v + op.number2)) return false;
                break;
            case DW_OP_regx:
                if (!reg_value(static_cast<int>(op.number), regs, v) || !push(v)) return false;
                value = true;
                break;
            case DW_OP_call_frame_cfa:
                if (!push(cfa)) return false;
                break;
            case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u: case DW_OP_const2s:
            case DW_OP_const4u: case DW_OP_const4s: case DW_OP_const8u: case DW_OP_const8s:
            case DW_OP_constu: case DW_OP_consts:
                if (!push(op.number)) return false;
                break;
            case DW_OP_plus_uconst:
                if (depth < 1) return false;
                stack[depth - 1] += op.number;
                break;
            case DW_OP_plus:
            case DW_OP_minus:
                if (depth < 2) return false;
                --depth;
                stack[depth - 1] = op.atom == DW_OP_plus ? stack[depth - 1] + stack[depth]
                                                         : stack[depth - 1] - stack[depth];
                break;
            case DW_OP_deref:
                if (depth < 1 || !read(stack[depth - 1], stack[depth - 1])) return false;
                break;
            case DW_OP_stack_value:
                value = true;
                break;
            default:
                return false;  // e.g. the computed expressions of PLT entries
            }
        }
    }
    if (depth == 0) return false;
    out = stack[depth - 1];
    return value || read(out, out);
}

// CFA + k as libdw spells a register saved at offset k from the CFA:
// DW_OP_call_frame_cfa, DW_OP_plus_uconst k (a negative k wrapped around, as
// the evaluator adds it). Other spellings take the evaluator.
template <typename OpVec>
std::optional<int64_t> cfa_offset_of(const OpVec& ops) {
    if (ops.size() != 2 || ops[0].atom != DW_OP_call_frame_cfa || ops[1].atom != DW_OP_plus_uconst)
        return std::nullopt;
    return static_cast<int64_t>(ops[1].number);
}

}  // namespace

std::optional<CallFrameInfo::SimpleRule> CallFrameInfo::simple_rule(uint64_t vaddr) const {
    std::lock_guard lock(mutex_);
    const Rule& rule = rule_for(vaddr);
    if (!rule.known || rule.ra_kind != Saved::Expr || rule.cfa.size() != 1) return std::nullopt;
    SimpleRule out;
    // libdw spells a register-plus-offset CFA as DW_OP_bregx reg, offset.
    const Op& cfa = rule.cfa[0];
    const auto reg = static_cast<int>(cfa.number);
    if (cfa.atom != DW_OP_bregx || (reg != kRegSp && reg != kRegBp)) return std::nullopt;
    out.cfa_from_bp = reg == kRegBp;
    out.cfa_off = static_cast<int64_t>(cfa.number2);
    const auto ra = cfa_offset_of(rule.ra);
    if (!ra) return std::nullopt;
    out.ra_off = *ra;
    if (rule.bp_kind == Saved::Expr) {
        const auto bp = cfa_offset_of(rule.bp);
        if (!bp) return std::nullopt;
        out.bp_saved = true;
        out.bp_off = *bp;
    }
    return out;
}

bool CallFrameInfo::step(uint64_t vaddr, UserRegs& regs, const StackReader& read) const {
    std::lock_guard lock(mutex_);
    const Rule& rule = rule_for(vaddr);
    if (!rule.known || rule.ra_kind != Saved::Expr) return false;  // no rules, or the outermost frame
    uint64_t cfa = 0, ra = 0, bp = regs.bp;
    if (!evaluate(rule.cfa, regs, 0, false, read, cfa)) return false;
    if (!evaluate(rule.ra, regs, cfa, true, read, ra)) return false;
    if (rule.bp_kind == Saved::Expr && !evaluate(rule.bp, regs, cfa, true, read, bp)) return false;
    regs = {ra, cfa, bp};
    return true;
}

}  // namespace whoclosed
