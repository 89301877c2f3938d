/* SPDX-License-Identifier: GPL-2.0 */
/* Per-socket tracking shared by every attach mode: the wrappers in
 * whoclosed.bpf.c turn their hook's arguments into (sk, key) and call here. */
#ifndef WHOCLOSED_TRACK_BPF_H
#define WHOCLOSED_TRACK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "whoclosed.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000
#define VM_EXEC 0x00000004

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __weak __ksym;

#ifndef READ_ONCE
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))
#endif

/* Set by userspace before load. */
const volatile __u32 filter_pid = 0;
const volatile char filter_comm[WC_COMM_LEN] = {};
const volatile __u64 filter_cgroup = 0;
const volatile __u64 filter_netns = 0;
const volatile __u32 filter_nports = 0;
const volatile __u16 filter_ports[WC_MAX_PORT_FILTERS] = {};
const volatile __u64 wakeup_threshold = 1 << 20;
const volatile bool io_hooks = false;
const volatile bool capture_stacks = false;
const volatile bool rx_hook = false; /* sk_data_ready times received payload */
/* in_task() may tell softirqs by the stack (x86-64, not PREEMPT_RT): set by
 * the loader, which otherwise attaches the softirq_entry/exit hooks. */
const volatile bool stack_context = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct close_record);
} socks SEC(".maps");

/* The socket table's direct-mapped part, in front of `socks`: a socket's
 * record lives in slot (cookie & slot_mask) when that slot was free at its
 * first transition, else in `socks`. A slot hit is an inlined array index
 * and one compare, where a hash-map lookup costs ~60 ns here (hash, bucket
 * and element in two cache lines); record creation and removal are one
 * compare-and-swap instead of the hash map's locked insert and delete.
 * Memory-mapped: userspace's sweeps read slots and take records out of
 * them with the same compare-and-swap (see WC_COOKIE_TAKEN). BTF modes
 * only (there the key is always the cookie). */
const volatile bool use_slots = false;
const volatile __u32 slot_mask = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* set by the loader */
	__type(key, __u32);
	__type(value, struct close_record);
} slots SEC(".maps");

/* HTTP heads kept per socket until its close (struct http_slot), so that
 * a connection reaches the reader as one ring sample instead of one per
 * request and response: direct-mapped by cookie like `slots`, smaller (a
 * socket uses one only once it carries HTTP), and a socket whose slot
 * another holds sends its heads as http_notes instead. BTF modes with HTTP
 * capture only. */
const volatile bool use_heads = false;
const volatile __u32 heads_mask = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* set by the loader */
	__type(key, __u32);
	__type(value, struct http_slot);
} http_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Closing kernel stacks, de-duplicated by the kernel: their meaning never
 * changes, so an id stays valid and userspace reads each one once. User
 * stacks ride in the record (close_record.ustack). Build-id frames were
 * measured at several microseconds per close here (a VMA walk and build-id
 * read per frame) and are not used. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 8192);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, WC_STACK_DEPTH * sizeof(__u64));
} kstacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WC_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Where a new record is built before insertion: one slot for process
 * context and one for softirq, so a softirq that creates a record while a
 * task is half-way through building another never overwrites it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct close_record);
} scratch SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

/* Per-CPU flag: this CPU is serving a softirq, kept by the softirq_entry/exit
 * hooks. Only the attach modes without BTF arguments need it (see in_task):
 * this kernel exports no per-CPU data symbols (no KALLSYMS_ALL), so
 * preempt_count cannot be read directly. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} in_softirq SEC(".maps");

static __always_inline void set_softirq(__u32 on)
{
	__u32 zero = 0;
	__u32 *v = bpf_map_lookup_elem(&in_softirq, &zero);

	if (v)
		*v = on;
}

/* Where a task's saved user registers lie above its stack base: the same for
 * every task (THREAD_SIZE less the registers), so the first hit learns it
 * and the others skip the helper call. */
__u64 regs_offset = 0;
volatile __u64 regs_at = 0; /* turns the helper's pointer into a number */

static __always_inline __u64 task_regs_offset(struct task_struct *t)
{
	__u64 off = regs_offset;

	if (off)
		return off;
	regs_at = (__u64)bpf_task_pt_regs(t);
	off = regs_at - (__u64)t->stack;
	regs_offset = off;
	return off;
}

/* The current task's saved user registers: a read-only cast of its stack
 * base plus regs_offset instead of a helper call (Linux >= 6.2). */
static __always_inline const struct pt_regs *current_regs(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	if (!bpf_rdonly_cast) /* a weak kfunc this kernel lacks resolves to 0 */
		return (const struct pt_regs *)bpf_task_pt_regs(t);
	return bpf_rdonly_cast((void *)((__u64)t->stack + task_regs_offset(t)),
			       bpf_core_type_id_kernel(struct pt_regs));
}

/* True only when the CPU runs a task in process context, not while serving a
 * softirq, where `current` is just whatever task the interrupt landed on.
 * TCP never changes state in hard IRQ or NMI context.
 *
 * With BTF arguments (tp_btf, fentry) `ctx` is the argument array the
 * tracing glue keeps on the stack it runs on, and x86-64 serves softirqs
 * on the per-CPU IRQ stack (do_softirq_own_stack, and irq_exit through
 * it): a hit is at task level exactly when ctx lies in the current task's
 * stack, between its base and the user registers saved at its top. That
 * costs two loads, where the softirq_entry/exit hooks cost two program runs
 * per softirq on every CPU. Softirqs served by kernel threads (ksoftirqd,
 * threaded NAPI) run on those threads' stacks: see set_closer().
 * Elsewhere (other architectures, PREEMPT_RT, where softirqs run in task
 * context) the loader sets no stack_context and attaches the hooks. */
static __always_inline bool task_level(bool btf, const void *ctx, struct task_struct *t)
{
	__u32 zero = 0;
	__u32 *v;

	if (btf && stack_context) {
		__u64 base = (__u64)t->stack;

		return (__u64)ctx >= base && (__u64)ctx < base + task_regs_offset(t);
	}
	v = bpf_map_lookup_elem(&in_softirq, &zero);
	return v && !*v;
}

/* task_level() of the current task. A caller that already holds the task
 * passes it to task_level() instead, saving a helper call. */
static __always_inline bool in_task(bool btf, const void *ctx)
{
	return task_level(btf, ctx, btf && stack_context ? bpf_get_current_task_btf() : NULL);
}


/* tp_btf programs skip a hit that arrives while the same program is already
 * running on this CPU: a softirq on top of a process-context hit, including
 * in the instants before the program's first and after its last instruction.
 * Each such hook therefore has WC_COPIES copies attached to the same
 * tracepoint, and whichever copy runs first for a hit handles it: the first
 * copy, whenever it runs, notes the hit in a per-CPU, per-level (task or
 * softirq) slot; the last copy skips a hit it finds noted in either slot and
 * clears the note, and handles any other (one the guard kept from the first
 * copy).
 * What no copy saw is counted as lost.
 * Two copies cover every nesting TCP can produce: state changes happen in
 * process context or softirq, never in hard IRQ or NMI, so at most one hit
 * (a softirq's) can arrive while a copy runs, and then the other copy is
 * free. A third copy was measured at ~150 ns per state change for nothing. */
enum wc_hook { WC_HOOK_STATE, WC_HOOK_DESTROY, WC_HOOK_RST_SENT, WC_HOOK_RST_RECV, WC_HOOK_MAX };
#define WC_COPIES 2

struct hit_id {
	__u64 cookie;
	__u64 what; /* the transition, or 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WC_HOOK_MAX * 2);
	__type(key, __u32);
	__type(value, struct hit_id);
} last_hit SEC(".maps");

/* Whether this copy handles the hit: the socket's cookie and what happened to
 * it. The note lives only from the first copy to the last, so the same hit
 * seen again later is a new one: a socket that connect()s again after a
 * refusal repeats CLOSE -> SYN_SENT, maybe with nothing else at task level
 * on this CPU in between. */
static __always_inline bool claim_hit(const void *ctx, __u32 hook, int copy, __u64 cookie, __u64 what)
{
	struct hit_id *h;
	__u32 slot;

	if (copy == 0) {
		slot = hook * 2 + (in_task(true, ctx) ? 0 : 1);
		h = bpf_map_lookup_elem(&last_hit, &slot);
		if (h) {
			h->cookie = cookie;
			h->what = what;
		}
		return true;
	}
	/* The last copy needs no level: a note lives only between the copies of
	 * one hit, and a softirq's hit is done before the task's resumes. */
	for (__u32 level = 0; level < 2; level++) {
		slot = hook * 2 + level;
		h = bpf_map_lookup_elem(&last_hit, &slot);
		if (h && h->cookie == cookie && h->what == what) {
			h->cookie = 0;
			h->what = 0;
			return false;
		}
	}
	return true;
}

/* A field of a kernel object. `btf` is true where the verifier knows the
 * pointer's BTF type (tp_btf and fentry arguments): a direct load, a few
 * nanoseconds. Elsewhere (classic tracepoints, kprobes, pointers read out of
 * memory) a probe-read helper call. `btf` is a constant at every call site,
 * so the branch not taken compiles away after inlining. */
#define KREAD(btf, ptr, field) ((btf) ? (ptr)->field : BPF_CORE_READ(ptr, field))

static __always_inline __u64 read_cookie(bool btf, const struct sock *sk)
{
	return KREAD(btf, sk, __sk_common.skc_cookie.counter);
}

/* The map key of a socket: its cookie, which the tp_btf state hook generates
 * at first sight. Hooks that cannot generate cookies (classic tracepoints,
 * kprobes) fall back to the socket's address, unique until tcp_destroy_sock,
 * where the entry is deleted; such keys are never shown to users. */
static __always_inline __u64 sock_key(bool btf, const struct sock *sk)
{
	__u64 cookie = read_cookie(btf, sk);

	if (btf) /* these modes generate cookies: 0 means never tracked */
		return cookie;
	return cookie ? cookie : (__u64)sk;
}

/* The slot a cookie maps to (never NULL but for the verifier's sake). */
static __always_inline struct close_record *slot_of(__u64 key)
{
	__u32 i = (__u32)key & slot_mask;

	return bpf_map_lookup_elem(&slots, &i);
}

/* The heads slot a cookie maps to, likewise. */
static __always_inline struct http_slot *heads_slot_of(__u64 key)
{
	__u32 i = (__u32)key & heads_mask;

	return bpf_map_lookup_elem(&http_slots, &i);
}

/* The record of socket `key`: its slot if it holds it, else `socks`. */
static __always_inline struct close_record *find_record(__u64 key)
{
	/* A socket with no cookie (never seen change state: created and closed
	 * unconnected, or any non-TCP socket at the I/O hooks) has no record,
	 * and a free slot's cookie word is 0 too. */
	if (!key)
		return NULL;
	if (use_slots) {
		struct close_record *r = slot_of(key);

		if (r && READ_ONCE(r->cookie) == key)
			return r;
	}
	return bpf_map_lookup_elem(&socks, &key);
}

/* The record of a socket we track; NULL for sockets we never saw change state. */
static __always_inline struct close_record *tracked(bool btf, const struct sock *sk, __u64 *key)
{
	if (!sk)
		return NULL;
	*key = sock_key(btf, sk);
	return find_record(*key);
}

static __always_inline bool is_tcp_inet(bool btf, const struct sock *sk)
{
	__u16 family = KREAD(btf, sk, __sk_common.skc_family);

	if (family != AF_INET && family != AF_INET6)
		return false;
	return KREAD(btf, sk, sk_protocol) == IPPROTO_TCP;
}

/* The kernel unhashes a socket (zeroing its local port) before it reports
 * CLOSE, and connect() reports SYN_SENT before a local port is picked: keep
 * whatever each hook saw last while a port was set. */
static __always_inline void copy_v6(bool btf, unsigned char *dst, const struct in6_addr *src)
{
	__u32 *d = (__u32 *)dst;

	if (!btf) {
		bpf_core_read(dst, 16, src);
		return;
	}
	d[0] = src->in6_u.u6_addr32[0];
	d[1] = src->in6_u.u6_addr32[1];
	d[2] = src->in6_u.u6_addr32[2];
	d[3] = src->in6_u.u6_addr32[3];
}

static __always_inline void capture_addrs(bool btf, struct close_record *rec, const struct sock *sk)
{
	__u16 family = KREAD(btf, sk, __sk_common.skc_family);
	__u16 sport = KREAD(btf, sk, __sk_common.skc_num);
	__u16 dport = KREAD(btf, sk, __sk_common.skc_dport);

	if (!rec->family)
		rec->family = family;
	if (dport) {
		rec->dport = bpf_ntohs(dport);
		if (family == AF_INET)
			*(__u32 *)rec->daddr = KREAD(btf, sk, __sk_common.skc_daddr);
		else
			copy_v6(btf, rec->daddr, &sk->__sk_common.skc_v6_daddr);
	}
	/* At CLOSE the port is already released (inet_put_port zeroes
	 * skc_num): a socket older than the trace, first seen there, still
	 * has it in inet_sport. Not one seen from its connect(): before the
	 * port is bound, inet_sport can be a failed earlier attempt's. */
	if (!sport && dport && !(rec->flags & WC_F_SEEN_OPEN))
		sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	if (sport) {
		rec->sport = sport;
		if (family == AF_INET)
			*(__u32 *)rec->saddr = KREAD(btf, sk, __sk_common.skc_rcv_saddr);
		else
			copy_v6(btf, rec->saddr, &sk->__sk_common.skc_v6_rcv_saddr);
	}
}

/* Per-CPU first-level caches in front of the shared LRU maps below: a
 * PERCPU_ARRAY lookup is a few instructions (the verifier inlines it),
 * where builds that skipped one LRU lookup of a close saved ~100 ns on the
 * nginx load here. Direct-mapped: a slot holds one key, a colliding key
 * just takes the shared map's path, so a miss costs what it cost without
 * them. */
#define L1_SLOTS 64

static __always_inline __u32 l1_slot(__u64 a, __u64 b)
{
	return ((a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full)) >> 58; /* top 6 bits */
}

/* Processes already announced to the reader (see struct process_note). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} processes_noted SEC(".maps");

extern int bpf_iter_task_vma_new(struct bpf_iter_task_vma *it, struct task_struct *task, __u64 addr) __weak __ksym;
extern struct vm_area_struct *bpf_iter_task_vma_next(struct bpf_iter_task_vma *it) __weak __ksym;
extern void bpf_iter_task_vma_destroy(struct bpf_iter_task_vma *it) __weak __ksym;


/* The current process's executable file mappings (Linux >= 6.7 has the VMA
 * iterator; elsewhere the note carries none and the reader's snapshot is
 * all there is). Only where the task is a BTF pointer (tp_btf). */
static __always_inline void walk_modules(struct process_note *note)
{
	struct bpf_iter_task_vma it;
	struct vm_area_struct *vma;

	if (!bpf_iter_task_vma_new) /* a weak kfunc this kernel lacks resolves to 0 */
		return;
	bpf_iter_task_vma_new(&it, bpf_get_current_task_btf(), 0);
	while ((vma = bpf_iter_task_vma_next(&it))) {
		__u32 n = note->nmodules;
		struct module_entry *m;
		struct file *file;

		if (n >= WC_MAX_MODULES)
			break;
		file = vma->vm_file;
		if (!(vma->vm_flags & VM_EXEC) || !file)
			continue;
		m = &note->modules[n];
		m->start = vma->vm_start;
		m->end = vma->vm_end;
		m->pgoff = vma->vm_pgoff;
		m->inode = file->f_inode->i_ino;
		m->dev = file->f_inode->i_sb->s_dev;
		bpf_probe_read_kernel_str(m->name, sizeof(m->name), file->f_path.dentry->d_name.name);
		note->nmodules = n + 1;
	}
	bpf_iter_task_vma_destroy(&it);
}

/* This CPU's last processes found noted, each as one process image: the
 * exec count and the leader's start time tell an exec'd image (whose entry
 * forget_process deleted) and a reused pid from the image that was noted,
 * with no need to clear slots on other CPUs. */
struct noted_image {
	__u64 exec_id;
	__u64 start_time;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, L1_SLOTS);
	__type(key, __u32);
	__type(value, struct noted_image);
} processes_noted_l1 SEC(".maps");

/* Whether the current process image was announced, per the L1 slot or the
 * shared map (which then fills the slot). `slot` is NULL without BTF. */
static __always_inline bool process_noted(__u32 tgid, struct noted_image *slot, const struct noted_image *img)
{
	if (slot && slot->tgid == tgid && slot->exec_id == img->exec_id && slot->start_time == img->start_time)
		return true;
	if (!bpf_map_lookup_elem(&processes_noted, &tgid))
		return false;
	if (slot)
		*slot = *img;
	return true;
}

/* Tells the reader, once per process (and again after an exec, see
 * forget_process), to snapshot the process's mappings while it lives. The
 * wake-up is forced: a short-lived client may be gone within milliseconds. */
static __always_inline void note_process(__u32 tgid, bool btf)
{
	struct noted_image img = { .tgid = tgid }, *slot = NULL;
	struct process_note *note;
	__u8 one = 1;
	__u32 idx;

	if (!capture_stacks)
		return;
	if (btf) {
		const struct task_struct *t = bpf_get_current_task_btf();

		img.exec_id = t->self_exec_id;
		img.start_time = t->group_leader->start_time;
		idx = l1_slot(tgid, img.start_time);
		slot = bpf_map_lookup_elem(&processes_noted_l1, &idx);
	}
	if (process_noted(tgid, slot, &img))
		return;
	note = bpf_ringbuf_reserve(&events, sizeof(*note), 0);
	if (!note)
		return; /* its frames may print as [unknown]; no event is lost */
	note->pid = tgid;
	note->magic = WC_PROCESS_NOTE_MAGIC;
	note->nmodules = 0;
	if (btf)
		walk_modules(note);
	bpf_ringbuf_submit(note, BPF_RB_FORCE_WAKEUP);
	bpf_map_update_elem(&processes_noted, &tgid, &one, BPF_ANY);
	if (slot)
		*slot = img;
}

static __always_inline void forget_process(__u32 tgid)
{
	if (capture_stacks)
		bpf_map_delete_elem(&processes_noted, &tgid);
}

/* A task's name (BTF pointer): two loads (the kernel keeps it
 * NUL-terminated; a rename racing us may tear it, as it may the helper's
 * copy) instead of the helper's string copy. */
static __always_inline void task_comm(const struct task_struct *t, char *dst)
{
	const __u64 *src = (const __u64 *)t->comm;

	((__u64 *)dst)[0] = src[0];
	((__u64 *)dst)[1] = src[1];
}

/* The cgroup v2 id of a task (a BTF pointer): the loads the helper
 * bpf_get_current_cgroup_id() makes (css_set, default-hierarchy cgroup, its
 * kernfs node), without the helper call. The css_set pointer is RCU's, and
 * these programs run inside an RCU read section. */
static __always_inline __u64 task_cgroup_id(const struct task_struct *t)
{
	return t->cgroups->dfl_cgrp->kn->id;
}

/* The current task as owner. With BTF, its ids and name are loads from the
 * task instead of two more helper calls. */
static __always_inline void set_owner(struct close_record *rec, bool btf)
{
	if (btf) {
		const struct task_struct *t = bpf_get_current_task_btf();

		rec->owner_pid = t->tgid;
		task_comm(t, rec->owner_comm);
		rec->owner_cgroup = task_cgroup_id(t);
	} else {
		rec->owner_pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(rec->owner_comm, WC_COMM_LEN);
		rec->owner_cgroup = bpf_get_current_cgroup_id();
	}
	note_process(rec->owner_pid, btf);
	rec->flags |= WC_F_HAS_OWNER;
}

/* The user registers at the system call and the stack words above them, in
 * place of a frame-pointer walk that found next to nothing (see
 * WC_F_USTACK_RAW): userspace unwinds them with .eh_frame rules. */
static __always_inline void capture_raw_user_stack(struct close_record *rec, const struct pt_regs *regs)
{
	__u64 sp = regs->sp;

	rec->ustack[0] = regs->ip;
	rec->ustack[1] = sp;
	rec->ustack[2] = regs->bp;
	if (!rec->ustack[0] || bpf_probe_read_user(&rec->ustack[3], sizeof(rec->ustack) - 3 * sizeof(__u64),
						   (const void *)sp))
		return; /* keep the frame-pointer walk's frames */
	rec->ustack_len = WC_USTACK_DEPTH;
	rec->flags |= WC_F_USTACK_RAW;
}

static long exec_mapping_cb(struct task_struct *task, struct vm_area_struct *vma, void *found)
{
	*(bool *)found = (vma->vm_flags & VM_EXEC) && vma->vm_file;
	return 0;
}

/* Whether a frame-pointer walk's first return address lies in executable
 * file-backed code. In code built without frame pointers rbp is an
 * ordinary register, and a walk that follows it can run through data
 * that only looks like a chain of frames. */
static __always_inline bool plausible_return(__u64 addr)
{
	bool found = false;

	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_find_vma))
		return true;
	bpf_find_vma(bpf_get_current_task_btf(), addr, exec_mapping_cb, &found, 0);
	return found;
}

/* Code sites (process, user address of the system call) whose frame-pointer
 * walk came out useless: their next closes go straight to the raw capture,
 * skipping a walk through garbage and the VMA lookup (~1.5 µs per close).
 * Keyed by the site, not the process alone: a Go program's own closes walk
 * fine even if a C library it loaded (without frame pointers) closes too. */
struct fp_site {
	__u64 ip;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct fp_site);
	__type(value, __u8);
} fp_less_sites SEC(".maps");

/* This CPU's last frame-pointer-less sites (an L1, see L1_SLOTS). A site
 * stays frame-pointer-less for its process's life, like the shared map's
 * entries, which nothing deletes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, L1_SLOTS);
	__type(key, __u32);
	__type(value, struct fp_site);
} fp_less_l1 SEC(".maps");

static __always_inline bool fp_less(const struct fp_site *site, struct fp_site *slot)
{
	if (slot && slot->ip == site->ip && slot->tgid == site->tgid)
		return true;
	if (!bpf_map_lookup_elem(&fp_less_sites, site))
		return false;
	if (slot)
		*slot = *site;
	return true;
}

/* Kernel paths to a FIN or RST, remembered: unwinding the kernel stack
 * costs ~4 µs per close here (ORC, ~15 frames), while the frames between
 * the system call and the state change are fixed by what happened: which
 * system call, which hook and transition, and for a RST whether SO_LINGER 0
 * sent it. A path's stack id is used without unwinding once two unwinds of
 * it agreed, and is unwound again at every 256th use: a path that unwinds
 * differently is never remembered again (WC_CNT_KSTACK_VARIED). Exits and
 * closes outside a system call (a signal at an interrupt's return) are
 * always unwound: their frames depend on how the task got there. */
struct kpath {
	__u32 nr;   /* system call number; bit 31 for 32-bit tasks */
	__u32 what; /* hook, transition, linger: see closer_path() */
};

enum kpath_state { KPATH_LEARNING, KPATH_KNOWN, KPATH_VARIES };

struct kpath_memo {
	int id;
	__u32 uses;
	__u32 state; /* enum kpath_state */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct kpath);
	__type(value, struct kpath_memo);
} kpaths SEC(".maps");

#define KPATH_RECHECK 256

/* This CPU's known paths (an L1, see L1_SLOTS), each with its own use count:
 * every use counts in the slot or, where it misses, in the shared memo, so
 * a path is unwound again within a few hundred uses either way. */
struct kpath_known {
	struct kpath key; /* what 0: empty (memoized paths have a nonzero what) */
	int id;
	__u32 uses;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, L1_SLOTS);
	__type(key, __u32);
	__type(value, struct kpath_known);
} kpaths_l1 SEC(".maps");

static __always_inline int unwind_kernel(void *ctx, __u64 flags, struct kpath_memo *memo)
{
	int id = bpf_get_stackid(ctx, &kstacks, flags);

	if (id >= 0 && memo && id != memo->id && memo->state != KPATH_VARIES) {
		memo->state = KPATH_VARIES;
		count(WC_CNT_KSTACK_VARIED);
	}
	return id;
}

static __always_inline int closer_kernel_stack(bool btf, void *ctx, const struct pt_regs *regs, __u32 what,
					       bool exiting)
{
	/* With BTF arguments the unwind starts at the helper's call site in
	 * our program, which differs between the places that call it: skip
	 * that frame so that a path has one stack id (the tracing frames
	 * below it are dropped in userspace anyway). */
	const __u64 flags = btf ? 1 : 0;
	struct kpath key = { .what = what };
	struct kpath_memo *memo, fresh = {};
	struct kpath_known *known;
	bool recheck = false;
	__u32 idx;
	int id;

#if defined(__TARGET_ARCH_x86)
	key.nr = regs->orig_ax;
	if (exiting || (long)regs->orig_ax < 0 || !what)
		return bpf_get_stackid(ctx, &kstacks, flags);
	if (regs->cs != 0x33 /* __USER_CS: 32-bit tasks number their calls apart */)
		key.nr |= 1u << 31;
#else
	return bpf_get_stackid(ctx, &kstacks, flags);
#endif
	idx = l1_slot(key.nr, key.what);
	known = bpf_map_lookup_elem(&kpaths_l1, &idx);
	if (known && known->key.what == key.what && known->key.nr == key.nr) {
		if (++known->uses % KPATH_RECHECK)
			return known->id;
		known->key.what = 0; /* refilled below if the check agrees */
		recheck = true;
	}
	memo = bpf_map_lookup_elem(&kpaths, &key);
	if (!memo) {
		id = bpf_get_stackid(ctx, &kstacks, flags);
		if (id >= 0) {
			fresh.id = id;
			bpf_map_update_elem(&kpaths, &key, &fresh, BPF_NOEXIST);
		}
		return id;
	}
	switch (memo->state) {
	case KPATH_KNOWN:
		id = recheck || !(++memo->uses % KPATH_RECHECK) ? unwind_kernel(ctx, flags, memo) : memo->id;
		if (known && memo->state == KPATH_KNOWN) {
			known->key = key;
			known->id = memo->id;
			known->uses = 0;
		}
		return id;
	case KPATH_LEARNING:
		id = unwind_kernel(ctx, flags, memo);
		if (id >= 0 && memo->state == KPATH_LEARNING)
			memo->state = KPATH_KNOWN;
		return id;
	default:
		return bpf_get_stackid(ctx, &kstacks, flags);
	}
}

static __always_inline void capture_closer_stacks(bool btf, void *ctx, struct close_record *rec, __u32 what,
						  bool exiting)
{
	struct fp_site site = { .tgid = rec->closer_pid }, *slot;
	const struct pt_regs *regs;
	__u8 one = 1;
	__u32 idx;
	long n;

	if (!capture_stacks)
		return;
	regs = current_regs();
	site.ip = regs->ip;
	rec->flags |= WC_F_STACKS;
	rec->kstack_id = closer_kernel_stack(btf, ctx, regs, what, exiting);
	if (rec->kstack_id < 0)
		count(WC_CNT_STACK_LOST);
	idx = l1_slot(site.ip, site.tgid);
	slot = bpf_map_lookup_elem(&fp_less_l1, &idx);
	if (fp_less(&site, slot)) {
		capture_raw_user_stack(rec, regs);
		if (!(rec->flags & WC_F_USTACK_RAW))
			count(WC_CNT_STACK_LOST);
		return;
	}
	n = bpf_get_stack(ctx, rec->ustack, sizeof(rec->ustack), BPF_F_USER_STACK);
	rec->ustack_len = n >= 0 ? n / sizeof(rec->ustack[0]) : -1;
	if (n < 0)
		count(WC_CNT_STACK_LOST);
	if (n > 0 && (rec->ustack_len <= WC_USTACK_FP_MIN || !plausible_return(rec->ustack[1]))) {
		capture_raw_user_stack(rec, regs);
		if (rec->flags & WC_F_USTACK_RAW) {
			bpf_map_update_elem(&fp_less_sites, &site, &one, BPF_ANY);
			if (slot)
				*slot = site;
		}
	}
}

/* What the kernel did to send the FIN or RST, for the kernel path memo:
 * the hook (1 state change, 2 RST sent) and the transition, or whether
 * SO_LINGER 0 is set (tcp_disconnect sends that RST, __tcp_close the one
 * for unread data). */
static __always_inline __u32 closer_path(__u32 hook, int oldstate, int newstate)
{
	return hook << 16 | ((__u32)oldstate & 0xff) << 8 | ((__u32)newstate & 0xff);
}

static __always_inline int linger_zero(bool btf, const struct sock *sk)
{
	unsigned long flags = KREAD(btf, sk, __sk_common.skc_flags);
	long lingertime = KREAD(btf, sk, sk_lingertime);

	return (flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_LINGER))) && !lingertime;
}

/* The closer, in process context, of an accepted socket (one the kernel
 * grafted onto a file: never a child a closing listener drops unaccepted)
 * whose acceptor was not seen (accept() without the peer's address, no I/O
 * since): the process that held it is its owner. */
static __always_inline void owner_from_closer(bool btf, struct close_record *rec, const struct sock *sk)
{
	if ((rec->flags & WC_F_HAS_OWNER) || !KREAD(btf, sk, sk_socket))
		return;
	rec->owner_pid = rec->closer_pid;
	__builtin_memcpy(rec->owner_comm, rec->closer_comm, WC_COMM_LEN);
	rec->owner_cgroup = rec->closer_cgroup;
	rec->flags |= WC_F_HAS_OWNER;
}

/* The task now in process context sent this socket's FIN or RST. A kernel
 * thread is never named: it may be serving softirqs on its own stack
 * (ksoftirqd, threaded NAPI) on behalf of whatever socket the packet was
 * for, and a socket a kernel thread really closes (a deferred fput) has no
 * task to blame: closer stays null, as for a timer. */
static __always_inline void set_closer(bool btf, void *ctx, struct close_record *rec, const struct sock *sk,
				       __u32 what)
{
	struct task_struct *task;
	unsigned int task_flags;
	__u64 id;

	if (rec->flags & WC_F_HAS_CLOSER)
		return;
	/* With BTF one helper call gives the task, and the rest are loads. */
	task = btf ? bpf_get_current_task_btf() : (struct task_struct *)bpf_get_current_task();
	if (!task_level(btf, ctx, task))
		return;
	task_flags = KREAD(btf, task, flags);
	if (task_flags & PF_KTHREAD)
		return;
	if (btf) {
		rec->closer_pid = task->tgid;
		rec->closer_tid = task->pid;
		task_comm(task, rec->closer_comm);
		rec->closer_cgroup = task_cgroup_id(task);
	} else {
		id = bpf_get_current_pid_tgid();
		rec->closer_pid = id >> 32;
		rec->closer_tid = (__u32)id;
		bpf_get_current_comm(rec->closer_comm, WC_COMM_LEN);
		rec->closer_cgroup = bpf_get_current_cgroup_id();
	}
	if (task_flags & PF_EXITING)
		rec->flags |= WC_F_CLOSER_EXITING;
	rec->flags |= WC_F_HAS_CLOSER;
	owner_from_closer(btf, rec, sk);
	capture_closer_stacks(btf, ctx, rec, what, task_flags & PF_EXITING);
}

static __always_inline void push_state(struct close_record *rec, int state)
{
	__u32 n = rec->nstates;

	if (n < WC_MAX_STATES) {
		rec->states[n] = state;
		rec->nstates = n + 1;
		return;
	}
	/* Keep the final state truthful; the middle is what gets lost. */
	rec->states[WC_MAX_STATES - 1] = state;
	rec->flags |= WC_F_STATES_TRUNCATED;
}

static __always_inline bool comm_matches(const char *comm)
{
	for (int i = 0; i < WC_COMM_LEN; i++) {
		if (comm[i] != filter_comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

static __always_inline bool filters_set(void)
{
	return filter_pid || filter_comm[0] || filter_cgroup || filter_netns || filter_nports;
}

static __always_inline bool passes_filters(const struct close_record *rec)
{
	if (filter_pid && rec->owner_pid != filter_pid && rec->closer_pid != filter_pid)
		return false;
	if (filter_comm[0] && !comm_matches(rec->owner_comm) && !comm_matches(rec->closer_comm))
		return false;
	if (filter_cgroup && rec->owner_cgroup != filter_cgroup && rec->closer_cgroup != filter_cgroup)
		return false;
	if (filter_netns && rec->netns != filter_netns)
		return false;
	if (filter_nports) {
		bool hit = false;

		for (int i = 0; i < WC_MAX_PORT_FILTERS; i++) {
			if (i >= filter_nports)
				break;
			if (filter_ports[i] == rec->sport || filter_ports[i] == rec->dport)
				hit = true;
		}
		if (!hit)
			return false;
	}
	return true;
}

/* Submitting without a wake-up and letting the reader drain on a short timer
 * keeps the cost per connection to in-kernel work; a wake-up is forced only
 * when the ring fills past the threshold. */
static __always_inline __u64 wake_flags(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_threshold)
		return BPF_RB_NO_WAKEUP;
	count(WC_CNT_WAKEUPS);
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline void submit(void *out)
{
	bpf_ringbuf_submit(out, wake_flags());
}

/* The heads slot socket `key` holds, or NULL. */
static __always_inline struct http_slot *heads_held(__u64 key)
{
	struct http_slot *h;

	if (!use_heads)
		return NULL;
	h = heads_slot_of(key);
	return h && READ_ONCE(h->cookie) == key ? h : NULL;
}

/* A record and the heads its socket kept: one sample, then the slot is
 * free. Only the bytes that mean something are copied (see
 * WC_F_HEADS_FOLLOW), through a dynptr: a sample of any size, and the
 * kernel's memcpy where a probe read copies 8 bytes a turn. */
static __always_inline void emit_with_heads(struct close_record *rec, __u32 rec_len, struct http_slot *h)
{
	__u32 req_len = h->heads.req_len & (WC_HTTP_HEAD - 1);
	__u32 resp_len = h->heads.resp_len & (WC_HTTP_HEAD - 1);
	struct bpf_dynptr out;

	rec->flags |= WC_F_HEADS_FOLLOW;
	if (bpf_ringbuf_reserve_dynptr(&events, rec_len + WC_HEADS_FIXED + req_len + resp_len, 0, &out)) {
		bpf_ringbuf_discard_dynptr(&out, 0);
		WRITE_ONCE(h->cookie, 0);
		count(WC_CNT_RING_FULL);
		return;
	}
	bpf_dynptr_write(&out, 0, rec, rec_len, 0);
	bpf_dynptr_write(&out, rec_len, &h->heads, WC_HEADS_FIXED + req_len, 0);
	bpf_dynptr_write(&out, rec_len + WC_HEADS_FIXED + req_len, h->heads.resp, resp_len, 0);
	WRITE_ONCE(h->cookie, 0);
	bpf_ringbuf_submit_dynptr(&out, wake_flags());
	count(WC_CNT_EMITTED);
}

/* One ring record per socket, with its HTTP heads if it kept them in the
 * kernel (else they went ahead, see http_note). Without a user stack it
 * ends where ustack[] begins (WC_RECORD_SHORT): 256 bytes less to copy into
 * the ring and out of it. */
static __always_inline void emit(struct close_record *rec, __u64 key)
{
	bool keep = passes_filters(rec);
	__u64 size = WC_RECORD_LEN(rec->ustack_len);
	struct http_slot *heads = heads_held(key);

	if (!keep) {
		count(WC_CNT_FILTERED);
		if (heads)
			WRITE_ONCE(heads->cookie, 0);
		if (!(rec->flags & WC_F_HAS_HTTP))
			return;
		/* Its heads are queued: the reader must hear to forget them. */
		rec->flags |= WC_F_FILTERED_OUT;
	} else if (heads) {
		emit_with_heads(rec, size, heads);
		return;
	}
	if (bpf_ringbuf_output(&events, rec, size, wake_flags())) {
		if (keep)
			count(WC_CNT_RING_FULL);
		return;
	}
	if (keep)
		count(WC_CNT_EMITTED);
}

/* Hands `rec` (socket `key`'s record, from find_record) to the ring and
 * frees its place. A slot is taken first, so that userspace's sweep, which
 * takes stale records the same way, and the hook never both emit it. */
static __always_inline void emit_and_forget(struct close_record *rec, __u64 key)
{
	if (use_slots) {
		struct close_record *s = slot_of(key);

		if (s == rec) {
			if (__sync_val_compare_and_swap(&s->cookie, key, key | WC_COOKIE_TAKEN) != key)
				return; /* the sweep took it */
			emit(s, key);
			WRITE_ONCE(s->cookie, 0);
			return;
		}
	}
	emit(rec, key);
	bpf_map_delete_elem(&socks, &key);
}

/* Where a socket's first record is built. */
enum record_place { IN_SCRATCH, IN_SLOT, BEING_MADE };

/* A socket's first record: built in its slot when that is free (claimed
 * with the taken bit; on_state publishes it once its first transition is
 * written), else in scratch, which on_state then inserts into `socks` (one
 * map operation, not an insert and a lookup). NULL with *place BEING_MADE
 * when the slot holds this very socket's record, made by another hit. In a
 * slot only the part before ustack[] is cleared: ustack_len says how much
 * of it means anything, and the ring and the reader go by that. */
static __always_inline struct close_record *new_record(bool btf, bool at_task, const struct sock *sk,
							__u64 key, int oldstate, int newstate,
							enum record_place *place)
{
	__u32 slot = at_task ? 0 : 1;
	struct close_record *rec = use_slots ? slot_of(key) : NULL;
	__u64 held;

	*place = IN_SCRATCH;
	if (rec) {
		held = __sync_val_compare_and_swap(&rec->cookie, 0, key | WC_COOKIE_TAKEN);
		if (!held) {
			*place = IN_SLOT;
		} else if ((held & ~WC_COOKIE_TAKEN) == key) {
			*place = BEING_MADE;
			return NULL;
		}
	}
	if (*place == IN_SLOT) {
		__builtin_memset((char *)rec + sizeof(rec->cookie), 0, WC_RECORD_SHORT - sizeof(rec->cookie));
	} else {
		rec = bpf_map_lookup_elem(&scratch, &slot);
		if (!rec)
			return NULL;
		__builtin_memset(rec, 0, sizeof(*rec));
	}
	rec->flags = io_hooks ? WC_F_IO_TRACKED : 0;
	rec->kstack_id = rec->ustack_len = -1;
	if (read_cookie(btf, sk) == key) {
		if (*place == IN_SCRATCH)
			rec->cookie = key;
		rec->flags |= WC_F_HAS_COOKIE;
	}
	rec->ts_open_ns = bpf_ktime_get_boot_ns();
	rec->netns = btf ? sk->__sk_common.skc_net.net->ns.inum
			 : BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if ((oldstate == WC_TCP_CLOSE && newstate == WC_TCP_SYN_SENT) ||
	    (oldstate == WC_TCP_LISTEN && newstate == WC_TCP_SYN_RECV)) {
		rec->flags |= WC_F_SEEN_OPEN;
	} else {
		push_state(rec, oldstate); /* opened before tracing: say where we found it */
		count(WC_CNT_LATE_RECORD);
	}
	return rec;
}

#define TW_CHAIN_MAX 16

/* Whether a timewait socket now stands for `sk` (1), none (0), or cannot be
 * told (-1). tcp_time_wait() puts it in the established hash, in sk's
 * chain and with sk's cookie, before the full socket reaches CLOSE; when
 * tcp_max_tw_buckets is full it allocates none and the connection keeps no
 * TIME_WAIT at all. Once per such close: with BTF, direct loads and one
 * probe read per chain link (the links are numbers to test for the nulls
 * marker); elsewhere, probe reads. */
static __always_inline int timewait_kept(bool btf, const struct sock *sk, __u64 cookie)
{
	const __u32 node_off = bpf_core_field_offset(struct sock_common, skc_nulls_node);
	const struct inet_hashinfo *h;
	__u64 node = 0;
	__u32 hash;

	/* Linux >= 6.1 keeps the hash per network namespace, in the death row. */
	if (!bpf_core_field_exists(((struct net *)0)->ipv4.tcp_death_row.hashinfo))
		return -1;
	if (btf && bpf_rdonly_cast) { /* a weak kfunc this kernel lacks resolves to 0 */
		h = sk->__sk_common.skc_net.net->ipv4.tcp_death_row.hashinfo;
		hash = sk->__sk_common.skc_hash;
		if (!h || bpf_probe_read_kernel(&node, sizeof(node), &h->ehash[hash & h->ehash_mask].chain.first))
			return -1;
	} else {
		struct inet_ehash_bucket *ehash;

		h = BPF_CORE_READ(sk, __sk_common.skc_net.net, ipv4.tcp_death_row.hashinfo);
		if (!h)
			return -1;
		ehash = BPF_CORE_READ(h, ehash);
		hash = BPF_CORE_READ(sk, __sk_common.skc_hash) & BPF_CORE_READ(h, ehash_mask);
		if (!ehash || bpf_probe_read_kernel(&node, sizeof(node), &ehash[hash].chain.first))
			return -1;
	}
	for (int i = 0; i < TW_CHAIN_MAX; i++) {
		if (!node || (node & 1)) /* a nulls marker ends the chain */
			return 0;
		if (btf && bpf_rdonly_cast) {
			const struct sock_common *skc =
				bpf_rdonly_cast((void *)(node - node_off), bpf_core_type_id_kernel(struct sock_common));

			if (skc->skc_state == WC_TCP_TIME_WAIT && skc->skc_cookie.counter == cookie)
				return 1;
		} else {
			const struct sock_common *skc = (const void *)(node - node_off);

			if (BPF_CORE_READ(skc, skc_state) == WC_TCP_TIME_WAIT &&
			    BPF_CORE_READ(skc, skc_cookie.counter) == cookie)
				return 1;
		}
		/* next is the node's first word */
		if (bpf_probe_read_kernel(&node, sizeof(node), (const void *)node))
			return -1;
	}
	return -1;
}

/* Writes one transition into the socket's record. */
static __always_inline void apply_state(bool btf, void *ctx, struct close_record *rec, const struct sock *sk,
					int oldstate, int newstate)
{
	if (!rec->sport || !rec->dport) /* both known: the 4-tuple cannot change */
		capture_addrs(btf, rec, sk);
	/* close() after shutdown(SHUT_WR) re-enters FIN_WAIT1: one state, one FIN. */
	if (oldstate == newstate)
		return;
	push_state(rec, newstate);
	/* The clock and the context are read only by the transitions that
	 * need them. */
	switch (newstate) {
	case WC_TCP_SYN_SENT:
		if (in_task(btf, ctx))
			set_owner(rec, btf);
		break;
	case WC_TCP_FIN_WAIT1: /* our FIN went first */
	case WC_TCP_LAST_ACK:  /* our FIN answers theirs */
		if (!rec->ts_first_fin_ns)
			rec->ts_first_fin_ns = bpf_ktime_get_boot_ns();
		set_closer(btf, ctx, rec, sk, closer_path(1, oldstate, newstate));
		break;
	case WC_TCP_CLOSE_WAIT:
		if (!rec->ts_first_fin_ns)
			rec->ts_first_fin_ns = bpf_ktime_get_boot_ns();
		break;
	case WC_TCP_CLOSE:
		rec->ts_close_ns = bpf_ktime_get_boot_ns();
		/* Not for a record born at this very transition (a socket older
		 * than the trace): the timewait socket copied the cookie before
		 * this hook made it, and cannot match. */
		if ((oldstate == WC_TCP_FIN_WAIT2 || oldstate == WC_TCP_CLOSING) && (rec->flags & WC_F_HAS_COOKIE) &&
		    ((rec->flags & WC_F_SEEN_OPEN) || rec->nstates > 2)) {
			/* A record being built in its slot has the taken bit set. */
			int kept = timewait_kept(btf, sk, rec->cookie & ~WC_COOKIE_TAKEN);

			if (kept >= 0)
				rec->flags |= WC_F_TW_CHECKED | (kept ? WC_F_TIME_WAIT_SEEN : 0);
		}
		break;
	}
}

static __always_inline void on_state(bool btf, void *ctx, const struct sock *sk, __u64 key, int oldstate,
				     int newstate)
{
	enum record_place place;
	struct close_record *rec;
	long err;

	if (!key || newstate == WC_TCP_LISTEN || (oldstate == WC_TCP_LISTEN && newstate == WC_TCP_CLOSE))
		return;
	/* A child socket's first transition: its cookie was made just now (the
	 * clone of the listener starts without one), so it has no record yet. */
	if (btf && oldstate == WC_TCP_LISTEN && newstate == WC_TCP_SYN_RECV)
		rec = NULL;
	else
		rec = find_record(key);
	if (rec && oldstate == WC_TCP_CLOSE && newstate == WC_TCP_SYN_SENT) {
		/* connect() again on a socket whose first attempt failed: a new life. */
		emit_and_forget(rec, key);
		rec = NULL;
	}
	if (rec) {
		apply_state(btf, ctx, rec, sk, oldstate, newstate);
		return;
	}
	if (newstate == WC_TCP_CLOSE && oldstate == WC_TCP_CLOSE)
		return;
	rec = new_record(btf, in_task(btf, ctx), sk, key, oldstate, newstate, &place);
	if (rec) {
		apply_state(btf, ctx, rec, sk, oldstate, newstate);
		if (place == IN_SLOT) {
			WRITE_ONCE(rec->cookie, key);
			return;
		}
		err = bpf_map_update_elem(&socks, &key, rec, BPF_NOEXIST);
		if (err != -17 /* EEXIST */) {
			if (err)
				count(WC_CNT_MAP_FULL);
			return;
		}
	} else if (place != BEING_MADE) {
		return;
	}
	/* Another hit made the record first (one socket's transitions are
	 * serialized by its lock, so this should not happen): the state goes
	 * there. Not the whole transition: a second inlined copy of it would
	 * double the program's code for nothing. */
	rec = find_record(key);
	if (rec && oldstate != newstate)
		push_state(rec, newstate);
}

static __always_inline void on_reset(bool btf, void *ctx, const struct sock *sk, bool sent)
{
	__u64 key;
	struct close_record *rec = tracked(btf, sk, &key);

	if (!rec)
		return;
	capture_addrs(btf, rec, sk);
	rec->flags |= sent ? WC_F_RST_SENT : WC_F_RST_RECEIVED;
	if (!rec->ts_first_fin_ns)
		rec->ts_first_fin_ns = bpf_ktime_get_boot_ns();
	if (sent)
		set_closer(btf, ctx, rec, sk, closer_path(2, 0, linger_zero(btf, sk)));
}

/* A retransmitted SYN is the last sight of a failing connect()'s local port. */
static __always_inline void on_retransmit(bool btf, const struct sock *sk)
{
	__u64 key;
	struct close_record *rec = tracked(btf, sk, &key);

	if (rec && !rec->sport)
		capture_addrs(btf, rec, sk);
}

static __always_inline void on_destroy(bool btf, const struct sock *sk)
{
	__u64 key;
	struct close_record *rec = tracked(btf, sk, &key);

	if (!rec) {
		count(WC_CNT_UNTRACKED_DESTROY); /* listeners, and sockets older than the trace */
		return;
	}
	if (!rec->ts_close_ns) /* its CLOSE transition was never seen */
		rec->ts_close_ns = bpf_ktime_get_boot_ns();
	emit_and_forget(rec, key);
}

/* Now, as the time of the last payload. Payload still flowing after the first
 * FIN (read after the peer's FIN, or crossing ours) leaves no idle gap before
 * that FIN: it counts as moved at the FIN itself. */
static __always_inline __u64 payload_time(const struct close_record *rec)
{
	__u64 now = bpf_ktime_get_boot_ns();

	return rec->ts_first_fin_ns && now > rec->ts_first_fin_ns ? rec->ts_first_fin_ns : now;
}

/* Payload moved by a syscall on `sk`. Returns the socket's record (its key
 * in *key), or NULL when the socket is not tracked or nothing was moved. */
static __always_inline struct close_record *on_io(bool btf, const void *ctx, const struct sock *sk, int ret,
						   int flags, bool sent, __u64 *key)
{
	struct close_record *rec;

	if (ret <= 0 || (flags & 2 /* MSG_PEEK */))
		return NULL;
	rec = tracked(btf, sk, key);
	if (!rec)
		return NULL;
	if (sent)
		__sync_fetch_and_add(&rec->bytes_sent, ret);
	else
		__sync_fetch_and_add(&rec->bytes_received, ret);
	if (!sent && rx_hook)
		goto owner; /* arrival time comes from sk_data_ready, not from the read */
	rec->ts_last_payload_ns = payload_time(rec);
owner:
	if (!(rec->flags & WC_F_HAS_OWNER) && in_task(btf, ctx))
		set_owner(rec, btf);
	return rec;
}

/* tcp_sock lies beyond the BTF type of sk. With BTF, a read-only cast (the
 * verifier turns it into a plain move, Linux >= 6.2) makes it a direct
 * load; elsewhere a probe read. */
static __always_inline __u64 tcp_bytes_received(bool btf, const struct sock *sk)
{
	if (btf && bpf_rdonly_cast) { /* a weak kfunc this kernel lacks resolves to 0 */
		const struct tcp_sock *tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));

		return tp->bytes_received;
	}
	return BPF_CORE_READ((struct tcp_sock *)sk, bytes_received);
}

/* Data (or the peer's FIN) was queued on the socket, in softirq. Payload the
 * application never reads still ends the idle gap: compare the kernel's
 * bytes_received with what we saw last, less the FIN's sequence number. */
static __always_inline void on_data_ready(bool btf, const struct sock *sk)
{
	struct close_record *rec;
	__u64 key, rx;

	rec = tracked(btf, sk, &key);
	if (!rec)
		return;
	rx = tcp_bytes_received(btf, sk);
	if (rx <= rec->rx_mark)
		return;
	if (!(rec->flags & WC_F_PEER_FIN_COUNTED) &&
	    (KREAD(btf, sk, sk_shutdown) & 1 /* RCV_SHUTDOWN */)) {
		rec->flags |= WC_F_PEER_FIN_COUNTED;
		rec->rx_mark++;
	}
	if (rx > rec->rx_mark)
		rec->ts_last_payload_ns = payload_time(rec);
	rec->rx_mark = rx;
}

#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* The TCP socket behind file descriptor `fd` of the current task, or NULL. */
static __always_inline struct sock *fd_socket(__s64 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fds, *file;
	struct socket *sock;
	struct sock *sk;

	if (fd < 0 || fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	/* private_data is a struct socket only on socket files. */
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	return sk && is_tcp_inet(false, sk) ? sk : NULL;
}

/* fd_socket() with BTF: the same walk in direct loads, one probe read (the
 * descriptor slot) and no helper call per pointer (~0.6 µs less per accept). */
static __always_inline const struct sock *fd_socket_btf(__s64 fd)
{
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	const struct socket *sock;
	const struct file *file;
	struct file *slot;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&slot, sizeof(slot), (void *)((__u64)fdt->fd + fd * sizeof(slot))) || !slot)
		return NULL;
	file = bpf_rdonly_cast(slot, bpf_core_type_id_kernel(struct file));
	/* private_data is a struct socket only on socket files. */
	if ((file->f_inode->i_mode & S_IFMT) != S_IFSOCK || !file->private_data)
		return NULL;
	sock = bpf_rdonly_cast(file->private_data, bpf_core_type_id_kernel(struct socket));
	return sock->sk;
}

/* The current task accepted `newsk` (a BTF pointer). */
static __always_inline void on_accepted(const struct sock *newsk)
{
	__u64 key;
	struct close_record *rec;

	if (!newsk || !is_tcp_inet(true, newsk))
		return;
	rec = tracked(true, newsk, &key);
	if (rec)
		set_owner(rec, true);
}

/* A task asked for the peer's address of a socket: accept() does so for the
 * task it hands a new socket to, whenever the caller wants the address
 * (cgroup getpeername hook, where neither BPF trampolines nor the costly
 * syscall tracepoints are used). The first such task, before any I/O, is
 * the acceptor; later calls find the owner known. */
static __always_inline void on_peer_named(void *ctx)
{
	__u64 key = bpf_get_socket_cookie(ctx);
	struct close_record *rec = find_record(key);

	if (rec && !(rec->flags & WC_F_HAS_OWNER) && !(bpf_get_current_task_btf()->flags & PF_KTHREAD))
		set_owner(rec, true);
}

/* accept()/accept4() returned fd: the calling task owns the new socket. */
static __always_inline void on_accept(long fd)
{
	__u64 key;
	struct close_record *rec = tracked(false, fd_socket(fd), &key);

	if (rec)
		set_owner(rec, false);
}

/* accept() returned fd, seen at a syscall tracepoint in a BTF mode: the
 * direct-load walk where the kernel has read-only casts (Linux >= 6.2). */
static __always_inline void on_accept_fd(long fd)
{
	if (bpf_rdonly_cast) /* a weak kfunc this kernel lacks resolves to 0 */
		on_accepted(fd_socket_btf(fd));
	else
		on_accept(fd);
}

#endif
