// SPDX-License-Identifier: GPL-2.0
/* whoclosed kernel side. Every attach mode has thin wrappers here; the
 * loader enables exactly one mode's programs (see userspace/loader). */
#include "track.bpf.h"
#include "tls.bpf.h"
#include "go_tls.bpf.h"
#include "go_net.bpf.h"
#include "libc.bpf.h"
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* Calibration only (scripts/bench.sh, config `hooks`): every program returns
 * at once, so a run measures what attaching the hooks costs by itself. The
 * verifier drops the test when it is off (read-only data). */
const volatile bool empty_programs = false;
#define WC_EMPTY_RETURN_WITH(value)	\
	do {				\
		if (empty_programs)	\
			return (value);	\
	} while (0)
#define WC_EMPTY_RETURN() WC_EMPTY_RETURN_WITH(0)

/* ---- mode tp_btf (kernel >= 5.5 with BTF): the primary path ---- */

static __always_inline void btf_state(void *ctx, const struct sock *sk, int oldstate, int newstate)
{
	__u64 cookie;

	if (!is_tcp_inet(true, sk))
		return;
	cookie = read_cookie(true, sk);
	if (!cookie) /* the first copy, which makes it, did not run */
		cookie = bpf_get_socket_cookie((void *)sk);
	on_state(true, ctx, sk, cookie, oldstate, newstate);
}

/* One copy of a guarded hook (see claim_hit in track.bpf.h). */
#define WC_COPY(tp, hook, copy, name, what, body, ...)				\
	SEC("tp_btf/" #tp)							\
	int BPF_PROG(name, __VA_ARGS__)						\
	{									\
		const int copy_ = (copy);					\
		__u64 what_;							\
									\
		WC_EMPTY_RETURN();						\
		what_ = (what); /* first: it may generate the cookie */		\
									\
		(void)copy_;							\
									\
		if (!claim_hit(ctx, hook, copy, sk ? read_cookie(true, sk) : 0, what_)) \
			return 0;						\
		body;								\
		if (copy)							\
			count(WC_CNT_COVERED);					\
		return 0;							\
	}

#define WC_GUARDED(tp, hook, name, what, body, ...)				\
	WC_COPY(tp, hook, 0, name, what, body, __VA_ARGS__)			\
	WC_COPY(tp, hook, 1, name##_backup, what, body, __VA_ARGS__)

/* The state hook generates the cookie the others read: the first copy does
 * it before noting the hit. The backup needs no cookie made: if the first
 * copy ran, it reads the one made there; if not, nothing was noted. */
static __always_inline __u64 state_what(int copy, const struct sock *sk, int oldstate, int newstate)
{
	if (copy == 0 && !read_cookie(true, sk) && is_tcp_inet(true, sk))
		bpf_get_socket_cookie((void *)sk);
	return ((__u64)oldstate << 32) | (__u32)newstate;
}

WC_GUARDED(inet_sock_set_state, WC_HOOK_STATE, btf_set_state,
	   state_what(copy_, sk, oldstate, newstate), btf_state(ctx, sk, oldstate, newstate),
	   const struct sock *sk, int oldstate, int newstate)
WC_GUARDED(tcp_destroy_sock, WC_HOOK_DESTROY, btf_destroy, 0, on_destroy(true, sk), struct sock *sk)
/* A reset answering a packet no socket wanted has no sk: its skb tells such
 * hits apart, so a backup copy still recognizes one the first copy missed. */
WC_GUARDED(tcp_send_reset, WC_HOOK_RST_SENT, btf_send_reset, sk ? 1 : (__u64)skb,
	   on_reset(true, ctx, sk, true), const struct sock *sk, const struct sk_buff *skb)
WC_GUARDED(tcp_receive_reset, WC_HOOK_RST_RECV, btf_receive_reset, 2, on_reset(true, ctx, sk, false),
	   struct sock *sk)

SEC("tp_btf/sk_data_ready")
int BPF_PROG(btf_data_ready, const struct sock *sk)
{
	WC_EMPTY_RETURN();
	on_data_ready(true, sk);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(btf_retransmit, const struct sock *sk)
{
	WC_EMPTY_RETURN();
	on_retransmit(true, sk);
	return 0;
}

/* Payload a socket syscall moved: byte counts and times, then, outside
 * TLS and libc calls (their uprobes read the plaintext), an HTTP head. */
static __always_inline void socket_io(void *ctx, struct sock *sk, int ret, int flags, bool sent)
{
	struct close_record *rec;
	__u64 key = 0;

	rec = on_io(true, ctx, sk, ret, flags, sent, &key);
	if (rec && !tls_syscall(key) && !libc_syscall(key, ret, sent))
		http_from_syscall(key, rec, ret, sent);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(btf_send_length, struct sock *sk, int ret, int flags)
{
	WC_EMPTY_RETURN();
	socket_io(ctx, sk, ret, flags, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(btf_recv_length, struct sock *sk, int ret, int flags)
{
	WC_EMPTY_RETURN();
	socket_io(ctx, sk, ret, flags, false);
	return 0;
}

/* The softirq flag, where in_task() cannot use the stack (see track.bpf.h). */
SEC("tp_btf/softirq_entry")
int BPF_PROG(btf_softirq_entry)
{
	WC_EMPTY_RETURN();
	set_softirq(1);
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(btf_softirq_exit)
{
	WC_EMPTY_RETURN();
	set_softirq(0);
	return 0;
}

/* ---- OpenSSL uprobes (attached per library file by the loader) ---- */

SEC("uprobe")
int BPF_KPROBE(ssl_write_entry, void *ssl, const void *buf, int num)
{
	WC_EMPTY_RETURN();
	if (num > 0)
		tls_enter(ssl, buf, num, true, NULL);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_write_return)
{
	WC_EMPTY_RETURN();
	tls_write_return();
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_entry, void *ssl, void *buf, int num)
{
	WC_EMPTY_RETURN();
	tls_enter(ssl, buf, 0, false, NULL);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_entry, void *ssl, void *buf, __u64 num, __u64 *nread)
{
	WC_EMPTY_RETURN();
	tls_enter(ssl, buf, 0, false, nread);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_read_return, long ret)
{
	WC_EMPTY_RETURN();
	tls_read_return(ret);
	return 0;
}

/* ---- Go crypto/tls uprobes (attached per executable by the loader) ---- */

SEC("uprobe")
int BPF_KPROBE(go_tls_write_entry)
{
	WC_EMPTY_RETURN();
	go_enter(true, ctx, true);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(go_tls_read_entry)
{
	WC_EMPTY_RETURN();
	go_enter(true, ctx, false);
	return 0;
}

SEC("uprobe") /* on every RET of both functions */
int BPF_KPROBE(go_tls_ret)
{
	WC_EMPTY_RETURN();
	go_return(true, ctx);
	return 0;
}

/* ---- --http uprobe: libc (per library file) and Go net (per executable) ---- */

SEC("uprobe")
int BPF_KPROBE(libc_write_entry, int fd, const void *buf, __u64 len)
{
	WC_EMPTY_RETURN();
	libc_enter(buf, len, NR_WRITE, true);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(libc_send_entry, int fd, const void *buf, __u64 len)
{
	WC_EMPTY_RETURN();
	libc_enter(buf, len, NR_SENDTO, true);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(libc_writev_entry, int fd, const struct user_iovec *iov)
{
	WC_EMPTY_RETURN();
	libc_enter_iov(iov, NR_WRITEV, true);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(libc_sendmsg_entry, int fd, const struct user_msghdr_head *msg)
{
	WC_EMPTY_RETURN();
	libc_enter_msg(msg, NR_SENDMSG, true);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(libc_read_entry, int fd, void *buf, __u64 len)
{
	WC_EMPTY_RETURN();
	libc_enter(buf, len, NR_READ, false);
	return 0;
}

SEC("uprobe") /* recv, recvfrom */
int BPF_KPROBE(libc_recv_entry, int fd, void *buf, __u64 len)
{
	WC_EMPTY_RETURN();
	libc_enter(buf, len, NR_RECVFROM, false);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(libc_readv_entry, int fd, const struct user_iovec *iov)
{
	WC_EMPTY_RETURN();
	libc_enter_iov(iov, NR_READV, false);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(libc_recvmsg_entry, int fd, const struct user_msghdr_head *msg)
{
	WC_EMPTY_RETURN();
	libc_enter_msg(msg, NR_RECVMSG, false);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(go_net_write_entry)
{
	WC_EMPTY_RETURN();
	go_enter(false, ctx, true);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(go_net_read_entry)
{
	WC_EMPTY_RETURN();
	go_enter(false, ctx, false);
	return 0;
}

SEC("uprobe") /* on every RET of both functions */
int BPF_KPROBE(go_net_ret)
{
	WC_EMPTY_RETURN();
	go_return(false, ctx);
	return 0;
}

/* An exec replaces the mappings a process_note made the reader snapshot. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_exec_forget, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	WC_EMPTY_RETURN();
	forget_process(p->tgid);
	return 0;
}

/* A pid can come back as another process: forget it when its leader exits. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(btf_exit_forget, struct task_struct *p)
{
	WC_EMPTY_RETURN();
	if (p->pid == p->tgid)
		forget_process(p->tgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(go_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	WC_EMPTY_RETURN();
	go_exec_seen(p->tgid);
	return 0;
}

/* ---- softirq context for the modes without BTF arguments (see in_task),
 * owners of accepted sockets for every mode ---- */

SEC("tracepoint/irq/softirq_entry")
int tp_softirq_entry(void *ctx)
{
	WC_EMPTY_RETURN();
	set_softirq(1);
	return 0;
}

SEC("tracepoint/irq/softirq_exit")
int tp_softirq_exit(void *ctx)
{
	WC_EMPTY_RETURN();
	set_softirq(0);
	return 0;
}

/* The acceptor, where the kernel hands it the new socket: a BPF trampoline
 * costs only accept() calls, where a syscall tracepoint (below) sends every
 * system call on the host through the kernel's slower tracing path. Two
 * signatures: Linux >= 6.10 passes a struct proto_accept_arg, older kernels
 * (flags, err, kern); the loader picks the one this kernel's BTF declares. */
SEC("fexit/inet_csk_accept")
int BPF_PROG(fexit_accept, struct sock *sk, void *arg, struct sock *newsk)
{
	WC_EMPTY_RETURN();
	on_accepted(newsk);
	return 0;
}

SEC("fexit/inet_csk_accept")
int BPF_PROG(fexit_accept_old, struct sock *sk, int flags, int *err, bool kern, struct sock *newsk)
{
	WC_EMPTY_RETURN();
	on_accepted(newsk);
	return 0;
}

/* Where trampolines are missing: accept() names the peer to a caller that
 * asks (most servers do), which runs the cgroup getpeername hooks in the
 * acceptor's context. Attached at the root of the cgroup v2 hierarchy, they
 * cost only such calls. Return 1: the call proceeds unchanged. */
SEC("cgroup/getpeername4")
int cg_peer_named4(struct bpf_sock_addr *ctx)
{
	WC_EMPTY_RETURN_WITH(1);
	on_peer_named(ctx);
	return 1;
}

SEC("cgroup/getpeername6")
int cg_peer_named6(struct bpf_sock_addr *ctx)
{
	WC_EMPTY_RETURN_WITH(1);
	on_peer_named(ctx);
	return 1;
}

/* The syscall tracepoints where neither works: with BTF (tp_btf
 * mode), the descriptor is walked in direct loads; without (the classic
 * modes), in probe reads. */
#define WC_ACCEPT_EXIT(call, name, handler)					\
	SEC("tracepoint/syscalls/sys_exit_" #call)				\
	int name(struct trace_event_raw_sys_exit *ctx)				\
	{									\
		WC_EMPTY_RETURN();						\
		handler(ctx->ret);						\
		return 0;							\
	}

WC_ACCEPT_EXIT(accept4, btf_exit_accept4, on_accept_fd)
WC_ACCEPT_EXIT(accept, btf_exit_accept, on_accept_fd)
WC_ACCEPT_EXIT(accept4, tp_exit_accept4, on_accept)
WC_ACCEPT_EXIT(accept, tp_exit_accept, on_accept)

/* ---- mode tracepoint (>= 4.16 without tp_btf): classic tracepoints ---- */

SEC("tracepoint/sock/inet_sock_set_state")
int tp_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;

	WC_EMPTY_RETURN();
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	/* No cookie helper for this program type: see sock_key(). */
	on_state(false, ctx, sk, sock_key(false, sk), ctx->oldstate, ctx->newstate);
	return 0;
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int tp_destroy(struct trace_event_raw_tcp_event_sk *ctx)
{
	WC_EMPTY_RETURN();
	on_destroy(false, ctx->skaddr);
	return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int tp_send_reset(struct trace_event_raw_tcp_send_reset *ctx)
{
	WC_EMPTY_RETURN();
	on_reset(false, ctx, ctx->skaddr, true);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int tp_receive_reset(struct trace_event_raw_tcp_event_sk *ctx)
{
	WC_EMPTY_RETURN();
	on_reset(false, ctx, ctx->skaddr, false);
	return 0;
}

/* ---- mode fentry (BTF trampolines) and mode kprobe (kernels < 4.16) ---- */

SEC("fentry/tcp_set_state")
int BPF_PROG(fentry_set_state, struct sock *sk, int state)
{
	WC_EMPTY_RETURN();
	if (!is_tcp_inet(true, sk))
		return 0;
	on_state(true, ctx, sk, bpf_get_socket_cookie(sk), sk->__sk_common.skc_state, state);
	return 0;
}

SEC("fentry/tcp_v4_destroy_sock")
int BPF_PROG(fentry_destroy, struct sock *sk)
{
	WC_EMPTY_RETURN();
	on_destroy(true, sk);
	return 0;
}

SEC("fentry/tcp_send_active_reset")
int BPF_PROG(fentry_send_reset, struct sock *sk)
{
	WC_EMPTY_RETURN();
	on_reset(true, ctx, sk, true);
	return 0;
}

SEC("fentry/tcp_reset")
int BPF_PROG(fentry_receive_reset, struct sock *sk)
{
	WC_EMPTY_RETURN();
	on_reset(true, ctx, sk, false);
	return 0;
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(kprobe_set_state, struct sock *sk, int state)
{
	WC_EMPTY_RETURN();
	if (!is_tcp_inet(false, sk))
		return 0;
	on_state(false, ctx, sk, sock_key(false, sk), BPF_CORE_READ(sk, __sk_common.skc_state), state);
	return 0;
}

SEC("kprobe/tcp_v4_destroy_sock")
int BPF_KPROBE(kprobe_destroy, struct sock *sk)
{
	WC_EMPTY_RETURN();
	on_destroy(false, sk);
	return 0;
}

SEC("kprobe/tcp_send_active_reset")
int BPF_KPROBE(kprobe_send_reset, struct sock *sk)
{
	WC_EMPTY_RETURN();
	on_reset(false, ctx, sk, true);
	return 0;
}

SEC("kprobe/tcp_reset")
int BPF_KPROBE(kprobe_receive_reset, struct sock *sk)
{
	WC_EMPTY_RETURN();
	on_reset(false, ctx, sk, false);
	return 0;
}
