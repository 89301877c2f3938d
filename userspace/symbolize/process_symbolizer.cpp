#include "symbolize/process_symbolizer.h"

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
    for (const Module& m : *modules) {
        if (m.is_file()) binary_for(pid, m);
    }
    processes_.put(pid, std::move(*modules));
    return true;
}

// Opened through the process while it lives: map_files reaches the exact
// file even when deleted or replaced, root/ reaches it inside a container.
BinaryPtr ProcessSymbolizer::binary_for(pid_t pid, const Module& module) {
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

std::string ProcessSymbolizer::resolve(pid_t pid, uint64_t ip) {
    std::lock_guard lock(mutex_);
    const std::vector<Module>* modules = processes_.get(pid);
    const Module* module = modules ? find_module(*modules, ip) : nullptr;
    // Not seen yet, or the code was mapped after the snapshot (dlopen): look again.
    if (module == nullptr && remember_locked(pid)) {
        modules = processes_.get(pid);
        module = find_module(*modules, ip);
    }
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
