/* SPDX-License-Identifier: GPL-2.0 */
/* Plaintext HTTP of Go programs (--http uprobe): uprobes on the entry and on
 * every RET of net.(*conn).Read and net.(*conn).Write, the methods every
 * *net.TCPConn read and write goes through (Go >= 1.17 register ABI, amd64).
 * Calls are matched by goroutine as for crypto/tls (see go_tls.bpf.h), in a
 * map of their own: a TLS Write calls the net Write on the same goroutine,
 * and one pending call must not overwrite the other. The ciphertext such a
 * nested call moves never looks like HTTP, so it is dropped by
 * http_capture's first look.
 *
 * Go 1.19 layouts, checked against its source: net.conn is {fd *netFD};
 * netFD starts with poll.FD, whose Sysfd follows the 16-byte fdMutex. */
#ifndef WHOCLOSED_GO_NET_BPF_H
#define WHOCLOSED_GO_NET_BPF_H

#include "go_tls.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH); /* a goroutine that dies mid-call leaves its entry */
	__uint(max_entries, 16384);
	__type(key, struct go_call_key);
	__type(value, struct go_call);
} go_net_calls SEC(".maps");

/* The socket key of a *net.conn, or 0. */
static __always_inline __u64 go_net_socket(__u64 conn)
{
	__u64 netfd = 0;
	__s64 sysfd = -1;
	struct sock *sk;

	if (!conn || bpf_probe_read_user(&netfd, sizeof(netfd), (void *)conn) || !netfd)
		return 0;
	if (bpf_probe_read_user(&sysfd, sizeof(sysfd), (void *)(netfd + GO_POLL_FD_SYSFD)))
		return 0;
	sk = fd_socket(sysfd);
	return sk ? sock_key(false, sk) : 0;
}

/* The pending calls and socket of one probe family: crypto/tls.(*Conn)
 * (`tls`) or net.(*conn). `tls` is a constant at every call site. */
#define GO_CALLS(tls) ((tls) ? (void *)&go_calls : (void *)&go_net_calls)

static __always_inline __u64 go_conn_socket(bool tls, __u64 conn)
{
	return tls ? go_tls_socket(conn) : go_net_socket(conn);
}

/* Entry of Write or Read: receiver in RAX, b.ptr in RBX, b.len in RCX.
 * A Write's bytes are known here and captured now, not at RET: when another
 * goroutine closes the connection while the Write runs, Go's poll.FD defers
 * the close(2) to the writer's unlock, inside the Write, so the socket is
 * destroyed (and its record emitted) before any RET. A second entry for the
 * same call (a stack-growth prologue restarts the function) finds the call
 * pending with the same receiver and buffer and captures nothing. */
static __always_inline void go_enter(bool tls, const struct pt_regs *regs, bool write)
{
	struct go_call_key k = go_call_key_of(regs);
	struct go_call call = {.conn = regs->ax, .buf = regs->bx, .write = write};
	struct go_call *pending;
	__u64 key;

	if (!tls && regs->cx < 8) /* shorter than any request or status line's start */
		return;
	if (write) {
		pending = bpf_map_lookup_elem(GO_CALLS(tls), &k);
		if (pending && pending->write && pending->conn == call.conn && pending->buf == call.buf)
			return;
		key = go_conn_socket(tls, call.conn);
		if (key && regs->cx > 0)
			http_capture(key, (const void *)call.buf, regs->cx, true, WC_HTTP_SRC_GO);
	}
	bpf_map_update_elem(GO_CALLS(tls), &k, &call, BPF_ANY);
}

/* A RET of either function: n (bytes moved) in RAX. Reads capture here,
 * once the bytes have arrived. */
static __always_inline void go_return(bool tls, const struct pt_regs *regs)
{
	struct go_call_key k = go_call_key_of(regs);
	struct go_call *call = bpf_map_lookup_elem(GO_CALLS(tls), &k);
	__s64 n = regs->ax;
	__u64 key;

	if (!call)
		return;
	if (n > 0 && !call->write) { /* writes were captured at entry */
		key = go_conn_socket(tls, call->conn);
		if (key)
			http_capture(key, (const void *)call->buf, n, call->write, WC_HTTP_SRC_GO);
	}
	bpf_map_delete_elem(GO_CALLS(tls), &k);
}

#endif
