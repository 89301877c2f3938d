#include "loader/tracer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <initializer_list>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "correlate/cgroup_resolver.h"
#include "decode/decoder.h"
#include "loader/features.h"
#include "loader/go_probes.h"
#include "loader/live_sockets.h"
#include "loader/uprobes.h"
#include "whoclosed_bpf.skel.h"

namespace whoclosed {

const char* to_string(AttachMode m) {
    switch (m) {
    case AttachMode::TpBtf: return "tp_btf";
    case AttachMode::Tracepoint: return "tracepoint";
    case AttachMode::Fentry: return "fentry";
    case AttachMode::Kprobe: return "kprobe";
    }
    return "unknown";
}

std::optional<AttachMode> attach_mode_from_string(const std::string& s) {
    for (AttachMode m : {AttachMode::TpBtf, AttachMode::Tracepoint, AttachMode::Fentry,
                         AttachMode::Kprobe})
        if (s == to_string(m)) return m;
    return std::nullopt;
}

const char* to_string(AcceptHook h) {
    switch (h) {
    case AcceptHook::Fexit: return "fexit on inet_csk_accept()";
    case AcceptHook::CgroupPeer: return "cgroup getpeername hooks";
    case AcceptHook::SyscallTracepoint: return "accept()/accept4() syscall tracepoints";
    }
    return "unknown";
}

namespace {

// One program of a mode. `needs` names a tracepoint that older kernels lack:
// the program is then left out (and what it feeds is reported as null).
// `critical` programs lose events when the kernel skips them, so their
// recursion misses count as lost.
struct ProgSpec {
    bpf_program* prog;
    const char* needs = nullptr;
    bool critical = false;
};

// Whether BPF programs with BTF arguments can tell a softirq from a task by
// the stack their arguments live on (see in_task in bpf/track.bpf.h): x86-64
// serves softirqs on the IRQ stack, except PREEMPT_RT kernels, which run
// them in task context (and say so in /sys/kernel/realtime).
bool softirqs_on_irq_stack() {
#if defined(__x86_64__)
    std::ifstream rt("/sys/kernel/realtime");
    int realtime = 0;
    return !(rt >> realtime) || realtime == 0;
#else
    return false;
#endif
}

const struct btf* vmlinux_btf() {
    static struct btf* vmlinux = btf__load_vmlinux_btf();
    return vmlinux;
}

// Whether this kernel has the BTF-enabled tracepoint `name`.
bool kernel_has_btf_tracepoint(const char* name) {
    const struct btf* vmlinux = vmlinux_btf();
    if (!vmlinux) return false;
    std::string type = std::string("btf_trace_") + name;
    return btf__find_by_name_kind(vmlinux, type.c_str(), BTF_KIND_TYPEDEF) > 0;
}

// inet_csk_accept() in the kernel's BTF: its id, or 0.
int inet_csk_accept_id() {
    const struct btf* vmlinux = vmlinux_btf();
    if (!vmlinux) return 0;
    const int id = btf__find_by_name_kind(vmlinux, "inet_csk_accept", BTF_KIND_FUNC);
    return id > 0 ? id : 0;
}

// Whether this kernel loads an fexit program on inet_csk_accept() (some
// kernels refuse BPF trampolines: EPERM on these test machines). Probed once
// with a two-instruction program, so that a refusal costs no object load.
bool accept_trampolines_work() {
    static const bool works = [] {
        const int id = inet_csk_accept_id();
        if (!id) return false;
        const struct bpf_insn insns[] = {
            {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0},
            {.code = BPF_JMP | BPF_EXIT},
        };
        LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FEXIT,
                    .attach_btf_id = static_cast<__u32>(id));
        const int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "wc_probe", "GPL", insns, 2, &opts);
        if (fd < 0) return false;
        close(fd);
        return true;
    }();
    return works;
}

// How many parameters this kernel's inet_csk_accept() takes, or 0.
int accept_params() {
    const int id = inet_csk_accept_id();
    if (!id) return 0;
    const struct btf* vmlinux = vmlinux_btf();
    const struct btf_type* proto = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, id)->type);
    return proto && btf_is_func_proto(proto) ? btf_vlen(proto) : 0;
}

// Whether one of our fexit programs fits this kernel's inet_csk_accept().
bool accept_trampoline_known() {
    const int n = accept_params();
    return n == 2 || n == 4;
}

// The fexit program that fits this kernel's inet_csk_accept(): (sk, arg)
// since Linux 6.10, (sk, flags, err, kern) before. nullptr when the kernel
// declares neither.
bpf_program* accept_trampoline(struct whoclosed_bpf* s) {
    switch (accept_params()) {
    case 2: return s->progs.fexit_accept;
    case 4: return s->progs.fexit_accept_old;
    default: return nullptr;
    }
}

bool is_btf_mode(AttachMode m) { return m == AttachMode::TpBtf || m == AttachMode::Fentry; }

// The root of the cgroup v2 hierarchy, opened, or -1: hooks attached there
// run for every socket on the host. A cgroup namespace's root (a container's
// view, inode other than 1) would cover only part of the host.
int open_cgroup2_root() {
    const std::string root = find_cgroup2_mount();
    const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_ino != 1) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// The accept hooks this kernel offers, best first (BTF modes: all three;
// the classic modes read no cookie from a cgroup hook's socket, so only the
// syscall tracepoints).
std::vector<AcceptHook> accept_hooks_for(AttachMode m) {
    if (!is_btf_mode(m)) return {AcceptHook::SyscallTracepoint};
    std::vector<AcceptHook> out;
    if (accept_trampolines_work() && accept_trampoline_known()) out.push_back(AcceptHook::Fexit);
    if (const int fd = open_cgroup2_root(); fd >= 0) {
        ::close(fd);
        out.push_back(AcceptHook::CgroupPeer);
    }
    out.push_back(AcceptHook::SyscallTracepoint);
    return out;
}

// The programs of mode `m` with acceptors learned by `accept`. The cgroup
// hooks are not among them: they attach to a cgroup (attach_cgroup_peer).
std::vector<ProgSpec> programs_for(struct whoclosed_bpf* s, AttachMode m, AcceptHook accept) {
    auto& p = s->progs;
    std::vector<ProgSpec> common = {{p.tp_exit_accept4}, {p.tp_exit_accept}};
    if (is_btf_mode(m)) common = {{p.btf_exit_accept4}, {p.btf_exit_accept}};
    if (accept == AcceptHook::CgroupPeer) common = {};
    if (accept == AcceptHook::Fexit) common = {{accept_trampoline(s)}};  // offered only if it exists
    std::vector<ProgSpec> out;
    const bool stack_context = softirqs_on_irq_stack();
    switch (m) {
    case AttachMode::TpBtf:
        if (!stack_context) out = {{p.btf_softirq_entry}, {p.btf_softirq_exit}};
        out.insert(out.end(), {{p.btf_set_state, nullptr, true},   {p.btf_set_state_backup},
               {p.btf_destroy, nullptr, true},     {p.btf_destroy_backup},
               {p.btf_send_reset, nullptr, true},  {p.btf_send_reset_backup},
               {p.btf_receive_reset, nullptr, true}, {p.btf_receive_reset_backup},
               {p.btf_retransmit, "tcp_retransmit_skb"},
               {p.btf_send_length, "sock_send_length"}, {p.btf_recv_length, "sock_recv_length"},
               {p.btf_data_ready, "sk_data_ready"}});
        break;
    case AttachMode::Tracepoint:
        out = {{p.tp_set_state, nullptr, true}, {p.tp_destroy, nullptr, true},
               {p.tp_send_reset, nullptr, true}, {p.tp_receive_reset, nullptr, true},
               {p.tp_softirq_entry}, {p.tp_softirq_exit}};
        break;
    case AttachMode::Fentry:
        out = {{p.fentry_set_state, nullptr, true}, {p.fentry_destroy, nullptr, true},
               {p.fentry_send_reset, nullptr, true}, {p.fentry_receive_reset, nullptr, true}};
        if (!stack_context) out.insert(out.end(), {{p.tp_softirq_entry}, {p.tp_softirq_exit}});
        break;
    case AttachMode::Kprobe:
        out = {{p.kprobe_set_state, nullptr, true}, {p.kprobe_destroy, nullptr, true},
               {p.kprobe_send_reset, nullptr, true}, {p.kprobe_receive_reset, nullptr, true},
               {p.tp_softirq_entry}, {p.tp_softirq_exit}};
        break;
    }
    // The owner of an accepted socket is the task the kernel hands it to
    // (the contract's owner). A BPF trampoline on inet_csk_accept() costs
    // only accepts and sees every one; the cgroup getpeername hooks cost only
    // accepts and getpeername() calls and see the accepts that ask for the
    // peer's address (the others learn the owner at the first I/O or the
    // close, in process context); the syscall tracepoints see every accept
    // but send every system call on the host through the kernel's slower
    // tracing path (~45 ns more per system call, ~2% of all CPU here).
    out.insert(out.end(), common.begin(), common.end());
    return out;
}

// Drops optional programs whose tracepoint this kernel lacks.
std::vector<ProgSpec> available(std::vector<ProgSpec> specs) {
    std::vector<ProgSpec> out;
    for (const ProgSpec& sp : specs)
        if (!sp.needs || kernel_has_btf_tracepoint(sp.needs)) out.push_back(sp);
    return out;
}

bool has_prog(const std::vector<ProgSpec>& specs, const bpf_program* prog) {
    return std::any_of(specs.begin(), specs.end(), [&](const ProgSpec& sp) { return sp.prog == prog; });
}

// A direct-mapped table's size: `want` rounded up to a power of two (its
// index is the cookie under a mask), at most 2^24 entries.
uint32_t slot_count_for(uint32_t want) {
    uint32_t n = 1;
    while (n < want && n < (1u << 24)) n <<= 1;
    return n;
}

void apply_config(struct whoclosed_bpf* s, const TracerConfig& cfg, AttachMode m,
                  const std::vector<ProgSpec>& specs) {
    auto* ro = s->rodata;
    ro->filter_pid = cfg.filter_pid;
    std::memset(const_cast<char*>(ro->filter_comm), 0, sizeof(ro->filter_comm));
    std::memcpy(const_cast<char*>(ro->filter_comm), cfg.filter_comm.data(),
                std::min(cfg.filter_comm.size(), sizeof(ro->filter_comm) - 1));
    ro->filter_cgroup = cfg.filter_cgroup;
    ro->filter_netns = cfg.filter_netns;
    size_t n = std::min<size_t>(cfg.filter_ports.size(), WC_MAX_PORT_FILTERS);
    ro->filter_nports = static_cast<uint32_t>(n);
    for (size_t i = 0; i < n; i++) ro->filter_ports[i] = cfg.filter_ports[i];
    // Wake the reader early only when a quarter of the ring is waiting.
    ro->wakeup_threshold = cfg.ring_bytes / 4;
    ro->io_hooks = has_prog(specs, s->progs.btf_send_length) &&
                   has_prog(specs, s->progs.btf_recv_length);
    ro->rx_hook = ro->io_hooks && has_prog(specs, s->progs.btf_data_ready);
    ro->http_syscall = cfg.http_syscall && ro->io_hooks;

    ro->capture_stacks = cfg.capture_stacks;
    ro->empty_programs = cfg.empty_programs;
    ro->stack_context = softirqs_on_irq_stack();
    // BTF modes put records in the direct-mapped slots first; the hash map
    // then holds the sockets whose slot was taken (half the capacity).
    const bool slots = is_btf_mode(m);
    const uint32_t nslots = slots ? slot_count_for(cfg.slots ? cfg.slots : cfg.max_sockets) : 1;
    ro->use_slots = slots;
    ro->slot_mask = nslots - 1;
    bpf_map__set_max_entries(s->maps.slots, nslots);
    bpf_map__set_max_entries(s->maps.socks, slots ? std::max(cfg.max_sockets / 2, 1024u) : cfg.max_sockets);
    // Heads only once a socket carries HTTP: an eighth of the sockets
    // (8,192 slots of ~1 KiB by default); the rest fall back to the ring.
    ro->use_heads = slots && (ro->http_syscall || cfg.http_tls || cfg.http_uprobe);
    const uint32_t nheads =
        ro->use_heads ? slot_count_for(cfg.head_slots ? cfg.head_slots : std::max(cfg.max_sockets / 8, 64u)) : 1;
    ro->heads_mask = nheads - 1;
    bpf_map__set_max_entries(s->maps.http_slots, nheads);
    bpf_map__set_max_entries(s->maps.events, cfg.ring_bytes);
}

// What a failure of a given mode usually means, for `check` and error messages.
std::string mode_hint(AttachMode m, int code) {
    if (m == AttachMode::Fentry && (code == -EPERM || code == -524 /* ENOTSUPP */ || code == -EOPNOTSUPP))
        return "; BPF trampolines (fentry) are not available on this kernel";
    if (m == AttachMode::Kprobe && code == -ENOENT)
        return "; kprobes are not available (CONFIG_KPROBES off?)";
    if (m == AttachMode::TpBtf && code == -ENOENT)
        return "; needs BTF-enabled raw tracepoints (Linux >= 5.5 with CONFIG_DEBUG_INFO_BTF)";
    return "";
}

// Attaches the cgroup getpeername hooks at the root of the cgroup v2
// hierarchy; their links are owned by the skeleton. False with `err` set.
bool attach_cgroup_peer(struct whoclosed_bpf* s, std::string& err, int& code) {
    const int fd = open_cgroup2_root();
    if (fd < 0) {
        code = -ENOENT;
        err = "no cgroup v2 hierarchy root to attach the getpeername hooks to";
        return false;
    }
    s->links.cg_peer_named4 = bpf_program__attach_cgroup(s->progs.cg_peer_named4, fd);
    if (s->links.cg_peer_named4) s->links.cg_peer_named6 = bpf_program__attach_cgroup(s->progs.cg_peer_named6, fd);
    code = s->links.cg_peer_named6 ? 0 : -errno;
    ::close(fd);  // the links hold the cgroup
    if (code) err = std::string("attach cgroup getpeername hooks failed: ") + std::strerror(-code);
    return code == 0;
}

// Opens, loads and attaches the programs of one mode, acceptors learned by
// `accept`. On failure returns nullptr and fills `err` with libbpf's reason.
struct whoclosed_bpf* try_mode(const TracerConfig& cfg, AttachMode m, AcceptHook accept,
                               std::string& err, int& code, std::vector<int>& critical_fds) {
    struct whoclosed_bpf* s = whoclosed_bpf__open();
    if (!s) {
        code = -errno;
        err = std::string("cannot open BPF object: ") + std::strerror(errno);
        return nullptr;
    }
    bpf_program* prog;
    bpf_object__for_each_program(prog, s->obj) bpf_program__set_autoload(prog, false);
    std::vector<ProgSpec> all = programs_for(s, m, accept);
    if (accept == AcceptHook::CgroupPeer) {
        bpf_program__set_autoload(s->progs.cg_peer_named4, true);
        bpf_program__set_autoload(s->progs.cg_peer_named6, true);
    }
    if (cfg.capture_stacks && m == AttachMode::TpBtf)
        all.insert(all.end(), {{s->progs.btf_exec_forget}, {s->progs.btf_exit_forget}});
    std::vector<ProgSpec> wanted = available(all);
    for (const ProgSpec& sp : wanted) bpf_program__set_autoload(sp.prog, true);
    apply_config(s, cfg, m, wanted);
    // TLS plaintext rides on the socket-layer hooks, so it needs them too.
    if (cfg.http_tls && s->rodata->io_hooks && !find_libssl().empty()) {
        s->rodata->tls_probes = true;
        for (bpf_program* p : {s->progs.ssl_write_entry, s->progs.ssl_write_return,
                               s->progs.ssl_read_entry, s->progs.ssl_read_ex_entry,
                               s->progs.ssl_read_return})
            bpf_program__set_autoload(p, true);
    }
    // libc plaintext, like OpenSSL's, is tied to the socket by those hooks.
    if (cfg.http_uprobe && s->rodata->io_hooks && !find_libc().empty()) {
        s->rodata->libc_probes = true;
        for (bpf_program* p : {s->progs.libc_write_entry, s->progs.libc_send_entry,
                               s->progs.libc_writev_entry, s->progs.libc_sendmsg_entry,
                               s->progs.libc_read_entry, s->progs.libc_recv_entry,
                               s->progs.libc_readv_entry, s->progs.libc_recvmsg_entry})
            bpf_program__set_autoload(p, true);
    }
    if (cfg.http_tls) enable_go_programs(s, cfg.http_uprobe, m == AttachMode::TpBtf);

    code = whoclosed_bpf__load(s);
    if (code) {
        err = "load failed: " + std::string(std::strerror(-code)) + mode_hint(m, code) +
              last_libbpf_error();
        whoclosed_bpf__destroy(s);
        return nullptr;
    }
    for (const ProgSpec& sp : wanted) {
        bpf_program* p = sp.prog;
        if (sp.critical) critical_fds.push_back(bpf_program__fd(p));
        bpf_link* link = bpf_program__attach(p);
        if (!link) {
            code = -errno;
            err = std::string("attach ") + bpf_program__name(p) + " failed: " +
                  std::strerror(errno) + mode_hint(m, code);
            whoclosed_bpf__destroy(s);
            return nullptr;
        }
        // Links are owned by the skeleton so whoclosed_bpf__destroy detaches them.
        for (int i = 0; i < s->skeleton->prog_cnt; i++)
            if (*s->skeleton->progs[i].prog == p) *s->skeleton->progs[i].link = link;
    }
    if (accept == AcceptHook::CgroupPeer && !attach_cgroup_peer(s, err, code)) {
        whoclosed_bpf__destroy(s);
        return nullptr;
    }
    return s;
}

}  // namespace

std::unique_ptr<Tracer> Tracer::open(const TracerConfig& cfg, std::vector<ModeAttempt>& attempts,
                                     LoadError& error) {
    capture_libbpf_output();
    ensure_tracefs_mounted();
    bool only_permission_errors = true;
    for (AttachMode m : {AttachMode::TpBtf, AttachMode::Tracepoint, AttachMode::Fentry,
                         AttachMode::Kprobe}) {
        if (cfg.only_mode && *cfg.only_mode != m) continue;
        std::string err;
        int code = 0;
        std::vector<int> critical_fds;
        // If a better accept hook is what failed, this mode still runs
        // with the next one.
        struct whoclosed_bpf* s = nullptr;
        AcceptHook accept = AcceptHook::SyscallTracepoint;
        for (AcceptHook h : accept_hooks_for(m)) {
            critical_fds.clear();  // of an object that failed
            accept = h;
            if ((s = try_mode(cfg, m, h, err, code, critical_fds))) break;
        }
        attempts.push_back({m, err});
        if (s) {
            auto t = std::unique_ptr<Tracer>(new Tracer(s, m));
            t->accept_hook_ = accept;
            if (s->rodata->use_slots && !t->map_slots()) {
                error = {std::string("cannot map the socket slots: ") + std::strerror(errno), false};
                return nullptr;
            }
            if (s->rodata->use_heads && !t->map_heads()) {
                error = {std::string("cannot map the HTTP heads slots: ") + std::strerror(errno), false};
                return nullptr;
            }
            t->critical_fds_ = std::move(critical_fds);
            t->attach_tls(cfg);
            t->attach_libc(cfg);
            t->ring_ = ring_buffer__new(bpf_map__fd(s->maps.events), &Tracer::on_ring_record,
                                        t.get(), nullptr);
            if (!t->ring_) {
                error = {std::string("cannot create ring buffer reader: ") + std::strerror(errno),
                         false};
                return nullptr;
            }
            t->attach_go(cfg);
            return t;
        }
        if (code != -EPERM && code != -EACCES) only_permission_errors = false;
    }
    error.missing_feature = true;
    error.message = only_permission_errors
                        ? "permission denied loading BPF programs: run as root (sudo) or grant "
                          "CAP_BPF and CAP_PERFMON"
                        : "no attach mode works on this kernel: see `whoclosed check`";
    return nullptr;
}

Tracer::Tracer(struct whoclosed_bpf* skel, AttachMode mode)
    : skel_(skel), mode_(mode), own_netns_(own_netns_inode()) {}

void Tracer::attach_tls(const TracerConfig& cfg) {
    if (!cfg.http_tls) return;
    if (!skel_->rodata->tls_probes) {
        tls_note_ = skel_->rodata->io_hooks ? "no libssl.so.3 installed"
                                            : "needs the socket I/O tracepoints (tp_btf mode)";
        return;
    }
    if (!attach_openssl_probes(skel_, find_libssl(), ssl_links_, tls_note_)) {
        for (bpf_link* l : ssl_links_) bpf_link__destroy(l);
        ssl_links_.clear();
    }
}

void Tracer::attach_libc(const TracerConfig& cfg) {
    if (!cfg.http_uprobe) return;
    if (!skel_->rodata->libc_probes) {
        libc_note_ = skel_->rodata->io_hooks ? "no libc.so.6 found"
                                             : "needs the socket I/O tracepoints (tp_btf mode)";
        return;
    }
    if (!attach_libc_probes(skel_, find_libc(), libc_links_, libc_note_)) {
        for (bpf_link* l : libc_links_) bpf_link__destroy(l);
        libc_links_.clear();
    }
}

// Go links statically: probes go on each Go executable, those running now
// and those exec'd later (watched first, so none slips in between).
void Tracer::attach_go(const TracerConfig& cfg) {
    if (!cfg.http_tls) return;
    go_probes_ = std::make_unique<GoProbes>(skel_, cfg.filter_pid, cfg.http_uprobe);
    if (bpf_program__autoload(skel_->progs.go_exec)) {
        skel_->links.go_exec = bpf_program__attach(skel_->progs.go_exec);
        if (skel_->links.go_exec)
            ring_buffer__add(ring_, bpf_map__fd(skel_->maps.execs), &GoProbes::on_exec,
                             go_probes_.get());
    }
    go_probes_->scan_running();
}

namespace {

// Maps a BPF_F_MMAPABLE array of `count` entries of `size` bytes.
unsigned char* map_array(const bpf_map* m, size_t size, size_t& count, size_t& len) {
    count = bpf_map__max_entries(m);
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    len = (count * size + page - 1) / page * page;
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
    if (p == MAP_FAILED) {
        len = count = 0;
        return nullptr;
    }
    return static_cast<unsigned char*>(p);
}

}  // namespace

// The slots array is read and taken from in place (see WC_COOKIE_TAKEN):
// one system call per sweep instead of one per record.
bool Tracer::map_slots() {
    slots_ = map_array(skel_->maps.slots, sizeof(close_record), slot_count_, slots_len_);
    return slots_ != nullptr;
}

bool Tracer::map_heads() {
    heads_ = map_array(skel_->maps.http_slots, sizeof(http_slot), head_count_, heads_len_);
    return heads_ != nullptr;
}

Tracer::~Tracer() {
    if (heads_) munmap(heads_, heads_len_);
    if (slots_) munmap(slots_, slots_len_);
    if (ring_) ring_buffer__free(ring_);
    go_probes_.reset();  // its links go before the programs
    for (bpf_link* l : ssl_links_) bpf_link__destroy(l);
    for (bpf_link* l : libc_links_) bpf_link__destroy(l);
    whoclosed_bpf__destroy(skel_);
}

bool Tracer::http_syscall() const { return skel_->rodata->http_syscall; }

int Tracer::on_ring_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Tracer*>(ctx);
    (*self->current_fn_)(data, size);
    self->current_count_++;
    return 0;
}

int Tracer::poll(int timeout_ms, const RecordFn& fn) {
    current_fn_ = &fn;
    current_count_ = 0;
    int rc = ring_buffer__poll(ring_, timeout_ms);
    if (rc >= 0 || rc == -EINTR) rc = ring_buffer__consume(ring_);
    current_fn_ = nullptr;
    return rc < 0 ? rc : current_count_;
}

DropCounters Tracer::counters() const {
    DropCounters c;
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) return c;
    std::vector<uint64_t> values(static_cast<size_t>(ncpu));
    auto sum = [&](uint32_t idx) {
        uint64_t total = 0;
        if (bpf_map__lookup_elem(skel_->maps.counters, &idx, sizeof(idx), values.data(),
                                 values.size() * sizeof(uint64_t), 0) == 0)
            for (uint64_t v : values) total += v;
        return total;
    };
    c.ring_full = sum(WC_CNT_RING_FULL);
    c.map_full = sum(WC_CNT_MAP_FULL);
    c.emitted = sum(WC_CNT_EMITTED);
    c.wakeups = sum(WC_CNT_WAKEUPS);
    c.filtered = sum(WC_CNT_FILTERED);
    c.stacks_lost = sum(WC_CNT_STACK_LOST);
    c.http_lost = sum(WC_CNT_HTTP_LOST);
    c.untracked_destroys = sum(WC_CNT_UNTRACKED_DESTROY);
    c.late_records = sum(WC_CNT_LATE_RECORD);
    c.kstack_varied = sum(WC_CNT_KSTACK_VARIED);
    uint64_t misses = 0;
    for (int fd : critical_fds_) {
        bpf_prog_info info{};
        uint32_t len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) misses += info.recursion_misses;
    }
    c.covered = sum(WC_CNT_COVERED);
    c.recursion_lost = misses > c.covered ? misses - c.covered : 0;
    return c;
}

namespace {

std::vector<uint64_t> read_stack(const bpf_map* map, int id) {
    std::vector<uint64_t> ips(WC_STACK_DEPTH, 0);
    uint32_t key = static_cast<uint32_t>(id);
    if (id < 0 || bpf_map__lookup_elem(map, &key, sizeof(key), ips.data(),
                                       ips.size() * sizeof(uint64_t), 0) != 0)
        return {};
    while (!ips.empty() && ips.back() == 0) ips.pop_back();
    return ips;
}

}  // namespace

std::string Tracer::recursion_report() const {
    std::string out;
    bpf_program* prog;
    bpf_object__for_each_program(prog, skel_->obj) {
        int fd = bpf_program__fd(prog);
        if (fd < 0) continue;
        bpf_prog_info info{};
        uint32_t len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.recursion_misses)
            out += std::string(" ") + bpf_program__name(prog) + "=" +
                   std::to_string(info.recursion_misses);
    }
    return out;
}

std::vector<uint64_t> Tracer::kernel_stack(int id) const { return read_stack(skel_->maps.kstacks, id); }

namespace {

// Every (key, record) of the hash map. Records may come and go while it is
// walked; a key deleted under us is skipped.
void read_hash(const bpf_map* socks, std::vector<std::pair<uint64_t, close_record>>& out) {
    uint64_t key = 0, next = 0;
    bool first = true;
    while (bpf_map__get_next_key(socks, first ? nullptr : &key, &next, sizeof(next)) == 0) {
        first = false;
        key = next;
        close_record rec{};
        if (bpf_map__lookup_elem(socks, &key, sizeof(key), &rec, sizeof(rec), 0) == 0)
            out.emplace_back(key, rec);
    }
}

uint64_t load_cookie(const close_record* slot) {
    return __atomic_load_n(&slot->cookie, __ATOMIC_ACQUIRE);
}

uint64_t boot_now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

std::vector<std::pair<uint64_t, close_record>> Tracer::read_table() const {
    std::vector<std::pair<uint64_t, close_record>> out;
    for (size_t i = 0; i < slot_count_; i++) {
        const auto* slot = reinterpret_cast<const close_record*>(slots_ + i * sizeof(close_record));
        const uint64_t key = load_cookie(slot);
        if (!key || (key & WC_COOKIE_TAKEN)) continue;
        close_record rec;
        std::memcpy(&rec, slot, sizeof(rec));
        // Taken out and reused meanwhile: not this socket's record any more.
        if (load_cookie(slot) != key) continue;
        rec.cookie = key;
        out.emplace_back(key, rec);
    }
    read_hash(skel_->maps.socks, out);
    return out;
}

bool Tracer::take_record(uint64_t key, close_record& rec) {
    if (slots_) {
        auto* slot = reinterpret_cast<close_record*>(slots_ + (key & (slot_count_ - 1)) * sizeof(close_record));
        uint64_t expected = key;
        if (load_cookie(slot) == key) {
            // The hook's emit_and_forget() takes it the same way: one wins.
            if (!__atomic_compare_exchange_n(&slot->cookie, &expected, key | WC_COOKIE_TAKEN, false,
                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                return false;
            std::memcpy(&rec, slot, sizeof(rec));
            rec.cookie = key;
            __atomic_store_n(&slot->cookie, uint64_t{0}, __ATOMIC_RELEASE);
            return true;
        }
    }
    if (bpf_map__lookup_elem(skel_->maps.socks, &key, sizeof(key), &rec, sizeof(rec), 0)) return false;
    return bpf_map__delete_elem(skel_->maps.socks, &key, sizeof(key), 0) == 0;  // else the hook won
}

bool Tracer::take_heads(uint64_t key, http_record& heads) {
    if (!heads_) return false;
    auto* slot = reinterpret_cast<http_slot*>(heads_ + (key & (head_count_ - 1)) * sizeof(http_slot));
    if (__atomic_load_n(&slot->cookie, __ATOMIC_ACQUIRE) != key) return false;
    // Ours alone: the kernel touches a socket's heads only through its
    // record, which the caller has taken out of the table.
    std::memcpy(&heads, &slot->heads, sizeof(heads));
    __atomic_store_n(&slot->cookie, uint64_t{0}, __ATOMIC_RELEASE);
    return true;
}

void Tracer::hand_over(uint64_t key, const close_record& rec, const RecordFn& fn) {
    http_record heads;
    if (!take_heads(key, heads)) {
        fn(&rec, sizeof(rec));  // its http_notes, if any, came through the ring
        return;
    }
    const std::vector<char> sample = encode_record_with_heads(rec, heads);
    fn(sample.data(), sample.size());
}

void Tracer::drain_closed(const RecordFn& fn) {
    for (auto& [key, seen] : read_table()) {
        if (seen.nstates == 0 || seen.states[seen.nstates - 1] != WC_TCP_CLOSE) continue;
        close_record rec;
        if (!take_record(key, rec)) continue;  // destroyed meanwhile: the hook emitted it
        rec.flags |= WC_F_FLUSHED;
        hand_over(key, rec, fn);
    }
}

uint64_t Tracer::other_netns_records(const std::function<bool(const close_record&)>& wanted) const {
    uint64_t n = 0;
    for (const auto& [key, rec] : read_table())
        if (rec.netns != own_netns_ && wanted(rec)) ++n;
    return n;
}

int Tracer::sweep_stale(const RecordFn& fn, bool final_pass, std::string& error) {
    if (!own_netns_) {
        error = "cannot read /proc/self/ns/net";
        return -1;
    }
    // The table first, then the kernel's sockets: a socket that closes in
    // between is destroyed by then, and its record is emitted by the hook.
    auto table = read_table();
    if (table.empty()) return 0;
    std::vector<uint64_t> candidates = stale_.candidates(table, own_netns_, final_pass);
    if (candidates.empty()) return 0;
    auto live = dump_live_tcp_sockets(error);
    if (!live) return -1;
    std::vector<uint64_t> keys = stale_.gone(candidates, *live);
    if (keys.empty()) return 0;
    // A destroy hook that ran meanwhile has emitted and deleted its record:
    // read each again and drain the ring before taking over what is left.
    poll(0, fn);
    int done = 0;
    const uint64_t now = boot_now_ns();
    for (uint64_t key : keys) {
        close_record rec{};
        if (!take_record(key, rec)) continue;  // the hook won
        auto it = live->find(key);
        complete_stale_record(rec, it != live->end() && it->second == WC_TCP_TIME_WAIT, now);
        hand_over(key, rec, fn);
        ++done;
    }
    recovered_ += static_cast<uint64_t>(done);
    return done;
}

}  // namespace whoclosed
