/* SPDX-License-Identifier: GPL-2.0 */
/* TLS plaintext of Go programs: uprobes on crypto/tls.(*Conn).Write and
 * (*Conn).Read (Go >= 1.17 register ABI on amd64).
 *
 * uretprobes crash Go programs (the runtime moves and copies goroutine
 * stacks, and a rewritten return address breaks it), so the loader puts one
 * uprobe on the function entry and one on each RET instruction. A call is
 * matched across them by goroutine (g lives in R14), never by thread:
 * goroutines migrate between threads. A Read's plaintext is captured at
 * RET, with the byte count it returned; a Write's at entry (see go_enter in
 * go_net.bpf.h for why, and for the entry probe firing twice per call).
 *
 * The socket is read from the *tls.Conn itself (Go 1.19 layouts, checked
 * against its source): tls.Conn starts with `conn net.Conn` (itab, data);
 * for a *net.TCPConn, data points to `conn{fd *netFD}`; netFD starts with
 * poll.FD, whose Sysfd follows fdMutex{state uint64; rsema, wsema uint32}. */
#ifndef WHOCLOSED_GO_TLS_BPF_H
#define WHOCLOSED_GO_TLS_BPF_H

#include "http.bpf.h"

#define GO_IFACE_DATA 8     /* net.Conn interface: itab, then data */
#define GO_POLL_FD_SYSFD 16 /* poll.FD.Sysfd after the 16-byte fdMutex */

struct go_call_key {
	__u64 g;
	__u32 tgid; /* g addresses repeat across processes of one binary */
	__u32 pad;
};

struct go_call {
	__u64 conn; /* *tls.Conn */
	__u64 buf;
	__u8 write;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH); /* a goroutine that dies mid-call leaves its entry */
	__uint(max_entries, 16384);
	__type(key, struct go_call_key);
	__type(value, struct go_call);
} go_calls SEC(".maps");

/* New processes, for the loader to inspect their executable; drained on the
 * reader's timer (no wake-ups). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 10);
} execs SEC(".maps");

static __always_inline struct go_call_key go_call_key_of(const struct pt_regs *regs)
{
	struct go_call_key k = {
		.g = regs->r14,
		.tgid = bpf_get_current_pid_tgid() >> 32,
	};
	return k;
}

/* The socket key of a *tls.Conn over a *net.TCPConn, or 0. */
static __always_inline __u64 go_tls_socket(__u64 conn)
{
	__u64 data = 0, netfd = 0;
	__s64 sysfd = -1;
	struct sock *sk;

	if (bpf_probe_read_user(&data, sizeof(data), (void *)(conn + GO_IFACE_DATA)) || !data)
		return 0;
	if (bpf_probe_read_user(&netfd, sizeof(netfd), (void *)data) || !netfd)
		return 0;
	if (bpf_probe_read_user(&sysfd, sizeof(sysfd), (void *)(netfd + GO_POLL_FD_SYSFD)))
		return 0;
	sk = fd_socket(sysfd);
	return sk ? sock_key(false, sk) : 0;
}

static __always_inline void go_exec_seen(__u32 tgid)
{
	__u32 *slot;

	if (filter_pid && tgid != filter_pid)
		return;
	slot = bpf_ringbuf_reserve(&execs, sizeof(*slot), 0);
	if (!slot)
		return; /* the loader rescans nothing: a missed exec stays uncovered */
	*slot = tgid;
	bpf_ringbuf_submit(slot, BPF_RB_NO_WAKEUP);
}

#endif
