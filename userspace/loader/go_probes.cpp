#include "loader/go_probes.h"

#include <unistd.h>

#include <bpf/libbpf.h>
#include <capstone/capstone.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <span>

#include "symbolize/elf_file.h"
#include "symbolize/elf_symbols.h"
#include "symbolize/go_buildinfo.h"
#include "whoclosed_bpf.skel.h"

namespace whoclosed {
namespace {

constexpr size_t kMaxScannedPids = 32768;
constexpr size_t kMaxAttachedFiles = 256;
constexpr uint64_t kMaxFunctionBytes = 64 << 10;

// A cheap look before parsing symbols: Go's linker always writes its pclntab
// (a section of its own, or inside .data.rel.ro for PIE) and build info.
bool looks_like_go(const ElfFile& f) {
    if (!f.has_section_headers()) return true;  // let the pclntab scan decide
    for (const char* name : {".gopclntab", ".data.rel.ro.gopclntab", ".go.buildinfo"})
        if (f.section(name)) return true;
    return false;
}

// The file bytes of link-time range [vaddr, vaddr + size) in an executable
// segment, with the file offset of its start; empty if not wholly in one.
std::span<const uint8_t> code_at(const ElfFile& f, uint64_t vaddr, uint64_t size,
                                 uint64_t* offset) {
    for (const LoadSegment& seg : f.segments()) {
        if (!seg.executable || vaddr < seg.vaddr || vaddr - seg.vaddr >= seg.file_size) continue;
        if (size > seg.file_size - (vaddr - seg.vaddr)) return {};
        *offset = seg.offset + (vaddr - seg.vaddr);
        const std::span<const uint8_t> all = f.file_bytes();
        if (*offset > all.size() || size > all.size() - *offset) return {};
        return all.subspan(*offset, size);
    }
    return {};
}

// File offsets of every RET in `code` (file offset `offset`), decoding
// instruction by instruction: a 0xC3 byte inside another instruction is not
// a RET. Fails if any byte does not decode, rather than miss a RET.
bool find_rets(std::span<const uint8_t> code, uint64_t offset, std::vector<uint64_t>& rets) {
    csh handle;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return false;
    cs_insn* insn = cs_malloc(handle);
    const uint8_t* p = code.data();
    size_t left = code.size();
    uint64_t at = offset;
    while (insn && left > 0 && cs_disasm_iter(handle, &p, &left, &at, insn))
        if (insn->id == X86_INS_RET) rets.push_back(insn->address);
    const bool whole = insn && left == 0;
    if (insn) cs_free(insn, 1);
    cs_close(&handle);
    return whole;
}

// Entry offset of Go function `name`, appending the offsets of its RETs.
std::optional<uint64_t> probe_function(const ElfFile& f, const GoSymbols& go, const char* name,
                                       std::vector<uint64_t>& rets, std::string* why) {
    const auto range = go.function_range(name);
    if (!range || range->end <= range->entry || range->end - range->entry > kMaxFunctionBytes) {
        *why = std::string("no function ") + name;
        return std::nullopt;
    }
    uint64_t offset = 0;
    const auto code = code_at(f, range->entry, range->end - range->entry, &offset);
    if (code.empty() || !find_rets(code, offset, rets)) {
        *why = std::string("cannot decode ") + name;
        return std::nullopt;
    }
    return offset;
}

// The probes of one Write/Read pair, or nullopt if either is missing.
std::optional<GoPairOffsets> probe_pair(const ElfFile& f, const GoSymbols& go, const char* write,
                                        const char* read, std::string* why) {
    GoPairOffsets out;
    const auto w = probe_function(f, go, write, out.rets, why);
    const auto r = probe_function(f, go, read, out.rets, why);
    if (!w || !r) return std::nullopt;
    out.write_entry = *w;
    out.read_entry = *r;
    return out;
}

std::optional<FileId> file_id(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

}  // namespace

std::optional<GoOffsets> find_go_offsets(const std::string& path, bool plaintext, std::string* why) {
    std::string ignored;
    if (!why) why = &ignored;
    const auto file = ElfFile::open(path, why);
    if (!file || !looks_like_go(*file)) return std::nullopt;
    ElfLookup lookup;
    lookup.debug_root.clear();  // the pclntab is in the file itself
    const auto symbols = ElfSymbols::open(path, why, lookup);
    const GoSymbols* go = symbols ? symbols->go_symbols() : nullptr;
    if (!go) return std::nullopt;
    // The probes read arguments from registers: the amd64 register ABI of
    // Go >= 1.17. A 1.18+ table format implies it; 1.16 and 1.17 share the
    // older format, so there the build information tells them apart.
    if (go->format() < 118) {
        const auto version = go_build_version(*file);
        const auto release = version ? go_release(*version) : std::nullopt;
        if (!release || *release < GoRelease{1, 17}) {
            *why = path + ": " + (version ? *version : std::string("Go before 1.18 with no build information")) +
                   " (stack-based calling convention) is not supported; Go >= 1.17 is";
            return std::nullopt;
        }
    }
    GoOffsets out;
    out.tls = probe_pair(*file, *go, "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read", why);
    if (plaintext) out.net = probe_pair(*file, *go, "net.(*conn).Write", "net.(*conn).Read", why);
    if (!out.tls && !out.net) return std::nullopt;  // no TLS (nor sockets) in this program
    return out;
}

void enable_go_programs(struct whoclosed_bpf* s, bool plaintext, bool watch_execs) {
    for (bpf_program* p : {s->progs.go_tls_write_entry, s->progs.go_tls_read_entry, s->progs.go_tls_ret})
        bpf_program__set_autoload(p, true);
    for (bpf_program* p : {s->progs.go_net_write_entry, s->progs.go_net_read_entry, s->progs.go_net_ret})
        bpf_program__set_autoload(p, plaintext);
    bpf_program__set_autoload(s->progs.go_exec, watch_execs);
}

GoProbes::GoProbes(struct whoclosed_bpf* skel, uint32_t only_pid, bool plaintext)
    : skel_(skel), only_pid_(only_pid), plaintext_(plaintext) {}

GoProbes::~GoProbes() {
    for (bpf_link* l : links_) bpf_link__destroy(l);
}

void GoProbes::scan_running() {
    if (only_pid_) {
        inspect(only_pid_);
        return;
    }
    DIR* proc = opendir("/proc");
    if (!proc) return;
    size_t n = 0;
    while (dirent* d = readdir(proc)) {
        char* end = nullptr;
        const unsigned long pid = std::strtoul(d->d_name, &end, 10);
        if (*end != '\0' || pid == 0) continue;
        if (++n > kMaxScannedPids) break;
        inspect(static_cast<uint32_t>(pid));
    }
    closedir(proc);
}

void GoProbes::inspect(uint32_t pid) {
    if (only_pid_ && pid != only_pid_) return;
    // The exe link reaches the file even in another mount namespace, and the
    // kernel resolves it to the inode when attaching.
    const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
    const auto id = file_id(exe);
    if (!id || seen_.get(*id) || attached_.count(*id)) return;
    seen_.put(*id, true);
    std::string why;
    const auto offsets = find_go_offsets(exe, plaintext_, &why);
    if (!offsets) {
        if (why.find("not supported") != std::string::npos) note_ = why;
        return;
    }
    if (attached_.size() >= kMaxAttachedFiles) {
        note_ = "too many Go executables: probes on the first " + std::to_string(kMaxAttachedFiles);
        return;
    }
    if (attach(exe, *offsets)) attached_.insert(*id);
}

bool GoProbes::attach(const std::string& path, const GoOffsets& o) {
    std::vector<std::pair<bpf_program*, uint64_t>> probes;
    auto add = [&](const std::optional<GoPairOffsets>& pair, bpf_program* write, bpf_program* read,
                   bpf_program* ret) {
        if (!pair) return;
        probes.emplace_back(write, pair->write_entry);
        probes.emplace_back(read, pair->read_entry);
        for (uint64_t r : pair->rets) probes.emplace_back(ret, r);
    };
    auto& p = skel_->progs;
    add(o.tls, p.go_tls_write_entry, p.go_tls_read_entry, p.go_tls_ret);
    add(o.net, p.go_net_write_entry, p.go_net_read_entry, p.go_net_ret);
    std::vector<bpf_link*> links;
    for (const auto& [prog, offset] : probes) {
        bpf_link* link = bpf_program__attach_uprobe(prog, false, -1, path.c_str(), offset);
        if (!link) {
            note_ = "uprobe in " + path + ": " + std::strerror(errno);
            for (bpf_link* l : links) bpf_link__destroy(l);
            return false;
        }
        links.push_back(link);
    }
    links_.insert(links_.end(), links.begin(), links.end());
    // Progress on stderr, like every log: which executables are covered.
    char target[4096];
    ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
    std::cerr << "whoclosed: Go probes attached to "
              << (n > 0 ? std::string(target, static_cast<size_t>(n)) : path) << std::endl;
    return true;
}

int GoProbes::on_exec(void* ctx, void* data, size_t size) {
    if (size >= sizeof(uint32_t)) {
        uint32_t pid;
        std::memcpy(&pid, data, sizeof(pid));
        static_cast<GoProbes*>(ctx)->inspect(pid);
    }
    return 0;
}

}  // namespace whoclosed
