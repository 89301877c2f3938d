#include "symbolize/process_symbolizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

namespace whoclosed {
namespace {

std::string hex_offset(const std::string& module, uint64_t offset) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "+0x%llx", static_cast<unsigned long long>(offset));
    return module + buf;
}

std::string base_name(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

ProcessSymbolizer::ProcessSymbolizer(Options options)
    : options_(std::move(options)),
      processes_(options_.max_processes),
      binaries_(options_.limits, options_.debug_root, options_.scan_dirs) {}

bool ProcessSymbolizer::remember(pid_t pid) {
    std::lock_guard lock(mutex_);
    return remember_locked(pid);
}

bool ProcessSymbolizer::remember_locked(pid_t pid) {
    auto modules = read_proc_maps(options_.proc_root, pid);
    // A zombie's maps are empty: keep what was remembered while it lived.
    if (!modules || modules->empty()) return false;
    forget_steps_locked();
    for (const Module& m : *modules) {
        if (m.is_file()) binary_for(pid, m);
    }
    processes_.put(pid, std::move(*modules));
    return true;
}

void ProcessSymbolizer::remember_modules(pid_t pid, std::vector<Module> modules) {
    std::lock_guard lock(mutex_);
    // A note comes once per process life: whatever was remembered for this
    // pid belongs to an earlier one (before an exec, or a process whose pid
    // was reused). Wrong names are worse than none.
    forget_steps_locked();
    if (modules.empty()) {
        processes_.erase(pid);
        return;
    }
    for (Module& m : modules) {
        const std::string name = m.path;
        m.path.clear();
        if (name.empty() || name.find('/') != std::string::npos) continue;
        for (const std::string& dir : options_.scan_dirs) {
            struct stat st;
            const std::string path = dir + "/" + name;
            if (::stat(path.c_str(), &st) == 0 && st.st_ino == m.inode && st.st_dev == m.dev) {
                m.path = path;
                break;
            }
        }
        if (m.path.empty()) m.path = "[" + name + "]";  // prints by name, never opened
    }
    std::sort(modules.begin(), modules.end(), [](const Module& a, const Module& b) { return a.start < b.start; });
    for (const Module& m : modules)
        if (m.is_file()) binary_for(pid, m);
    processes_.put(pid, std::move(modules));
}

// Opened through the process while it lives: map_files reaches the exact
// file even when deleted or replaced, root/ reaches it inside a container.
BinaryPtr ProcessSymbolizer::binary_for(pid_t pid, const Module& module) {
    if (const BinaryPtr* hit = binaries_.cached({module.dev, module.inode})) return *hit;  // the common case
    // Opening one may evict another from the bounded cache: no cached step
    // may keep an evicted binary alive past that bound.
    forget_steps_locked();
    char range[64];
    std::snprintf(range, sizeof range, "/%llx-%llx", static_cast<unsigned long long>(module.start),
                  static_cast<unsigned long long>(module.end));
    const std::string proc = options_.proc_root + "/" + std::to_string(pid);
    std::vector<std::string> candidates = {proc + "/map_files" + range,
                                           proc + "/root" + module.path};
    if (!module.deleted) candidates.push_back(module.path);
    return binaries_.by_file({module.dev, module.inode}, candidates, module.path);
}

std::string ProcessSymbolizer::resolve_in_module(pid_t pid, const Module& module, uint64_t ip) {
    const uint64_t file_offset = ip - module.start + module.offset;
    if (module.is_file()) {
        if (BinaryPtr binary = binary_for(pid, module)) {
            if (auto name = binary->resolve_file_offset(file_offset)) return *name;
        }
        return hex_offset(module.display_name(), file_offset);
    }
    return hex_offset(module.display_name(), ip - module.start);
}

std::vector<uint64_t> ProcessSymbolizer::unwind(pid_t pid, UserRegs regs, std::span<const uint64_t> stack,
                                                size_t max_frames) {
    std::lock_guard lock(mutex_);
    const uint64_t base = regs.sp;
    const auto read_word = [&](uint64_t addr, uint64_t& value) {
        if (addr < base || (addr - base) % 8 != 0 || (addr - base) / 8 >= stack.size()) return false;
        value = stack[(addr - base) / 8];
        return true;
    };
    const StackReader read = read_word;
    std::vector<uint64_t> frames;
    frames.reserve(max_frames);
    frames.push_back(regs.ip);
    while (frames.size() < max_frames) {
        // A return address follows its call: look up the call's own rules.
        const uint64_t at = frames.size() == 1 ? regs.ip : regs.ip - 1;
        const FrameStep* step = step_at_locked(pid, at);
        if (step == nullptr || !step->binary) break;
        const uint64_t callee_sp = regs.sp;
        const bool stepped = step->simple ? CallFrameInfo::apply(*step->simple, regs, read_word)
                                          : step->binary->call_frame_info()->step(step->vaddr, regs, read);
        if (!stepped || regs.ip == 0) break;
        if (regs.sp <= callee_sp) break;  // a caller's frame lies above its callee's: garbage otherwise
        frames.push_back(regs.ip);
    }
    return frames;
}

const ProcessSymbolizer::FrameStep* ProcessSymbolizer::step_at_locked(pid_t pid, uint64_t at) {
    RecentStep& recent = recent_steps_[(at ^ (at >> 8) ^ static_cast<uint64_t>(pid)) % recent_steps_.size()];
    if (recent.step && recent.pid == pid && recent.at == at) return recent.step;
    if (auto it = steps_.find({pid, at}); it != steps_.end()) {
        recent = {pid, at, &it->second};
        return &it->second;
    }
    const Module* module = module_at_locked(pid, at);  // may re-read /proc: forgets steps
    if (module == nullptr) return nullptr;
    FrameStep step;
    if (module->is_file()) {
        BinaryPtr binary = binary_for(pid, *module);
        const auto vaddr = binary ? binary->vaddr_of_offset(at - module->start + module->offset) : std::nullopt;
        if (binary && binary->call_frame_info() && vaddr) {
            step.simple = binary->call_frame_info()->simple_rule(*vaddr);
            step.binary = std::move(binary);
            step.vaddr = *vaddr;
        }
    }
    if (steps_.size() >= kMaxSteps) forget_steps_locked();
    const FrameStep* found = &steps_.emplace(StepKey{pid, at}, std::move(step)).first->second;
    recent = {pid, at, found};
    return found;
}

const Module* ProcessSymbolizer::module_at_locked(pid_t pid, uint64_t ip) {
    const std::vector<Module>* modules = processes_.get(pid);
    const Module* module = modules ? find_module(*modules, ip) : nullptr;
    if (module == nullptr && remember_locked(pid)) {
        modules = processes_.get(pid);
        module = find_module(*modules, ip);
    }
    return module;
}

std::string ProcessSymbolizer::resolve(pid_t pid, uint64_t ip) {
    std::lock_guard lock(mutex_);
    const Module* module = module_at_locked(pid, ip);
    if (module == nullptr) return hex_offset("[unknown]", ip);
    return resolve_in_module(pid, *module, ip);
}

std::string ProcessSymbolizer::resolve_build_id(std::span<const uint8_t> build_id,
                                                uint64_t file_offset) {
    std::lock_guard lock(mutex_);
    const std::vector<uint8_t> id(build_id.begin(), build_id.end());
    if (BinaryPtr binary = binaries_.by_build_id(id)) {
        if (auto name = binary->resolve_file_offset(file_offset)) return *name;
    }
    if (auto path = binaries_.path_of(id)) return hex_offset(base_name(*path), file_offset);
    const std::string hex = hex_string(build_id.first(std::min<size_t>(build_id.size(), 8)));
    return hex_offset("[buildid:" + hex + "]", file_offset);
}

}  // namespace whoclosed
