/* SPDX-License-Identifier: GPL-2.0 */
/* TLS plaintext from uprobes on OpenSSL's SSL_read/SSL_write (and _ex).
 *
 * The plaintext is in the caller's buffer; the socket is learned from the
 * syscall OpenSSL makes inside the call on the same thread (the socket-layer
 * hooks see it), and remembered per SSL* for calls served from OpenSSL's own
 * buffer without a syscall. */
#ifndef WHOCLOSED_TLS_BPF_H
#define WHOCLOSED_TLS_BPF_H

#include "http.bpf.h"

const volatile bool tls_probes = false;

struct tls_call {
	const void *buf;
	__u64 ssl;
	__u64 key;             /* socket learned inside the call, 0 until then */
	const __u64 *nread;    /* SSL_read_ex's out-parameter, or NULL */
	__u32 len;             /* SSL_write's length */
	__u8 write;
	__u8 captured;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);   /* SSL* in the process (with the tgid: see ssl_id) */
	__type(value, __u64); /* socket key */
} ssl_socks SEC(".maps");

/* Entries in tls_calls: while none is open (no TLS call under way on any
 * thread), every socket send and receive skips the tls_calls lookup. A
 * thread's own SSL entry precedes its syscalls, so it always sees its own
 * count. A return the kernel never ran leaves the count high: lookups then
 * just keep happening. */
__u64 tls_calls_open = 0;

static __always_inline __u64 ssl_id(__u64 ssl)
{
	/* SSL* values repeat across processes: mix in the tgid. */
	return ssl ^ ((bpf_get_current_pid_tgid() >> 32) << 48);
}

static __always_inline void tls_enter(const void *ssl, const void *buf, __u32 len, bool write,
				      const __u64 *nread)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct tls_call call = {
		.buf = buf, .ssl = (__u64)ssl, .len = len, .write = write, .nread = nread,
	};
	__u64 *known = bpf_map_lookup_elem(&ssl_socks, &(__u64){ssl_id((__u64)ssl)});

	if (known && write) {
		http_capture(*known, buf, len, true, WC_HTTP_SRC_OPENSSL);
		call.captured = 1;
	}
	if (known)
		call.key = *known;
	if (!bpf_map_update_elem(&tls_calls, &tid, &call, BPF_NOEXIST))
		__sync_fetch_and_add(&tls_calls_open, 1);
	else
		bpf_map_update_elem(&tls_calls, &tid, &call, BPF_ANY);
}

static __always_inline void tls_call_done(__u32 tid)
{
	if (!bpf_map_delete_elem(&tls_calls, &tid))
		__sync_fetch_and_sub(&tls_calls_open, 1);
}

/* Called from the socket-layer hooks: a syscall inside an SSL call on this
 * thread ties that SSL* to the socket. Returns true if a TLS call is under
 * way, so the syscall's own (encrypted) bytes are not inspected. */
static __always_inline bool tls_syscall(__u64 key)
{
	struct tls_call *call;
	__u32 tid;

	if (!tls_probes || !tls_calls_open)
		return false;
	tid = (__u32)bpf_get_current_pid_tgid();
	call = bpf_map_lookup_elem(&tls_calls, &tid);
	if (!call)
		return false;
	if (call->key != key) {
		call->key = key;
		bpf_map_update_elem(&ssl_socks, &(__u64){ssl_id(call->ssl)}, &key, BPF_ANY);
	}
	if (call->write && !call->captured) {
		http_capture(key, call->buf, call->len, true, WC_HTTP_SRC_OPENSSL);
		call->captured = 1;
	}
	return true;
}

static __always_inline void tls_read_return(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct tls_call *call = bpf_map_lookup_elem(&tls_calls, &tid);
	__u64 n = ret > 0 ? ret : 0;

	if (!call)
		return;
	if (call->nread) { /* SSL_read_ex: 1 on success, the count in *nread */
		n = 0;
		if (ret == 1)
			bpf_probe_read_user(&n, sizeof(n), call->nread);
	}
	if (n > 0 && call->key)
		http_capture(call->key, call->buf, n, false, WC_HTTP_SRC_OPENSSL);
	tls_call_done(tid);
}

static __always_inline void tls_write_return(void)
{
	tls_call_done((__u32)bpf_get_current_pid_tgid());
}

#endif
