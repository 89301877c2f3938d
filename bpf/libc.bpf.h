/* SPDX-License-Identifier: GPL-2.0 */
/* Plaintext HTTP from uprobes on libc's read/write family (--http uprobe).
 *
 * The entry probe only notes the caller's buffer in a per-thread pending
 * call; nothing else runs for file I/O. The socket-layer hooks, which fire
 * inside the syscall only for sockets, pick the call up there: by then a
 * write's bytes are in the buffer (they were at entry) and a read's have
 * just been copied in (the recv tracepoint fires after the copy), so one
 * place captures both and no uretprobe is needed. The pending call names
 * the syscall it expects, so a stale one (a file write that never met a
 * socket) is never applied to an unrelated socket syscall such as sendfile.
 * A TLS call pending on the thread wins (see tls_syscall): libc then moves
 * ciphertext. */
#ifndef WHOCLOSED_LIBC_BPF_H
#define WHOCLOSED_LIBC_BPF_H

#include "http.bpf.h"

const volatile bool libc_probes = false;

struct libc_call {
	const void *buf;
	__u32 len;   /* bytes the buffer holds (for readv/writev: iov[0]) */
	__u16 nr;    /* the syscall libc makes for this call */
	__u8 write;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH); /* threads that exit leave their entry */
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct libc_call);
} libc_calls SEC(".maps");

static __always_inline void libc_enter(const void *buf, __u64 len, __u16 nr, bool write)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct libc_call call = {
		.buf = buf, .len = len > 0xffffffffu ? 0xffffffffu : len, .nr = nr, .write = write,
	};

	if (buf && len >= 8)
		bpf_map_update_elem(&libc_calls, &tid, &call, BPF_ANY);
}

/* readv/writev: the first iovec. */
static __always_inline void libc_enter_iov(const struct user_iovec *iov, __u16 nr, bool write)
{
	struct user_iovec first;

	if (!bpf_probe_read_user(&first, sizeof(first), iov))
		libc_enter(first.base, first.len, nr, write);
}

/* sendmsg/recvmsg: the first iovec of the message. */
static __always_inline void libc_enter_msg(const struct user_msghdr_head *msg, __u16 nr, bool write)
{
	struct user_msghdr_head head;

	if (!bpf_probe_read_user(&head, sizeof(head), msg))
		libc_enter_iov(head.iov, nr, write);
}

/* Called from the socket-layer hooks after tls_syscall(): the pending libc
 * call of this thread, if it made this very syscall, moved `ret` bytes over
 * socket `key`. Returns true when libc probes run (the syscall path then
 * stays out). */
static __always_inline bool libc_syscall(__u64 key, int ret, bool outbound)
{
#if defined(__TARGET_ARCH_x86)
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pt_regs *regs;
	struct libc_call *call;

	if (!libc_probes)
		return false;
	call = bpf_map_lookup_elem(&libc_calls, &tid);
	if (!call)
		return true;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (call->write == outbound && regs->orig_ax == call->nr && ret > 0)
		http_capture(key, call->buf, (__u32)ret < call->len ? (__u32)ret : call->len, outbound,
			     WC_HTTP_SRC_LIBC);
	bpf_map_delete_elem(&libc_calls, &tid);
	return true;
#else
	return libc_probes;
#endif
}

#endif
