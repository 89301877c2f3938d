/* SPDX-License-Identifier: GPL-2.0 */
/* HTTP/1.x heads, read from the user buffer of the syscall that moved them.
 *
 * The socket-layer tracepoints (sock_send_length/sock_recv_length) already
 * fire inside the syscall, with the socket in hand; the syscall's own
 * arguments are still in the task's saved user registers. Reading the
 * buffer there costs nothing for non-socket I/O, unlike hooking every
 * read/write syscall on the host. */
#ifndef WHOCLOSED_HTTP_BPF_H
#define WHOCLOSED_HTTP_BPF_H

#include "track.bpf.h"

const volatile bool http_syscall = false;

/* x86-64 syscall numbers whose second argument points at the payload. */
#define NR_READ 0
#define NR_WRITE 1
#define NR_READV 19
#define NR_WRITEV 20
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47

struct user_iovec {
	void *base;
	__u64 len;
};

struct user_msghdr_head {
	void *name;
	int namelen;
	int pad;
	struct user_iovec *iov;
};

/* The user address of the first bytes this syscall moved, or NULL; `*room`
 * is lowered to what that buffer holds (the first iovec's length), so a
 * head is never read past the buffer the program handed over. */
static __always_inline const void *syscall_payload(__u32 *room)
{
#if defined(__TARGET_ARCH_x86)
	const struct pt_regs *regs = current_regs();
	__u64 nr = regs->orig_ax;
	const void *arg = (const void *)regs->si;
	struct user_msghdr_head msg;
	struct user_iovec iov;

	switch (nr) {
	case NR_READ:
	case NR_WRITE:
	case NR_SENDTO:
	case NR_RECVFROM:
		return arg;
	case NR_READV:
	case NR_WRITEV:
		break;
	case NR_SENDMSG:
	case NR_RECVMSG:
		if (bpf_probe_read_user(&msg, sizeof(msg), arg))
			return NULL;
		arg = msg.iov;
		break;
	default:
		return NULL; /* sendfile, splice, io_uring...: no user buffer */
	}
	if (bpf_probe_read_user(&iov, sizeof(iov), arg))
		return NULL;
	if (iov.len < *room)
		*room = iov.len;
	return iov.base;
#else
	return NULL;
#endif
}

enum http_kind { HTTP_NONE, HTTP_REQUEST, HTTP_RESPONSE };

static __always_inline bool starts(const char *p, const char *lit, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] != lit[i])
			return false;
	return true;
}

/* A cheap look at the first 8 bytes; userspace parses for real. */
static __always_inline enum http_kind http_kind_of(const char *p)
{
	if (starts(p, "HTTP/1.", 7))
		return HTTP_RESPONSE;
	if (starts(p, "GET ", 4) || starts(p, "PUT ", 4) || starts(p, "POST ", 5) ||
	    starts(p, "HEAD ", 5) || starts(p, "PATCH ", 6) || starts(p, "DELETE ", 7) ||
	    starts(p, "OPTIONS ", 8) || starts(p, "CONNECT ", 8) || starts(p, "TRACE ", 6))
		return HTTP_REQUEST;
	return HTTP_NONE;
}

/* Under filters, a socket whose heads went out is marked, so that the
 * reader hears of it (WC_F_FILTERED_OUT) if the filters then drop it.
 * `rec` is the socket's record when the caller holds it, else NULL. */
static __always_inline void mark_http(__u64 key, struct close_record *rec)
{
	if (!filters_set())
		return;
	if (!rec)
		rec = find_record(key);
	if (rec)
		rec->flags |= WC_F_HAS_HTTP;
}

/* A head the syscall path already copied out of user memory (see
 * head_stage): one read of up to WC_HTTP_HEAD - 1 bytes instead of an
 * 8-byte look and then the head (~80 ns per user read here). The socket
 * tracepoints run with preemption off, and the kernel never nests a run of
 * a program inside another run of it on one CPU: one buffer per CPU for
 * each of the two programs (send, receive) that use them. */
struct head_stage {
	char buf[WC_HTTP_HEAD];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2); /* [outbound] */
	__type(key, __u32);
	__type(value, struct head_stage);
} head_stage SEC(".maps");

/* Copies the first `n` bytes of a staged head, in whole words (the slot and
 * the note have room for them; only `n` bytes are ever read out). */
static __always_inline void copy_staged(char *dst, const struct head_stage *st, __u32 n)
{
	for (__u32 i = 0; i < WC_HTTP_HEAD / 8; i++) {
		if (i * 8 >= n)
			break;
		((__u64 *)dst)[i] = ((const __u64 *)st->buf)[i];
		barrier(); /* a word loop, not a memcpy() of variable size */
	}
}

/* Copies a head of `n` bytes into `dst`: from the stage if there is one,
 * else from user memory at `buf`. False if the user read failed. */
static __always_inline bool copy_head(char *dst, const struct head_stage *st, const void *buf, __u32 n)
{
	if (st) {
		copy_staged(dst, st, n);
		return true;
	}
	return !bpf_probe_read_user(dst, n, buf);
}

/* Keeps a head of `n` bytes (staged in `st`, else at user address `buf`)
 * in the heads slot of socket `key` (record `rec`), claiming the slot at
 * the socket's first head. False if the slot is another socket's: the head
 * goes to the ring instead, and so do the socket's later ones
 * (WC_F_HEADS_RING). */
static __always_inline bool keep_head(__u64 key, struct close_record *rec, const struct head_stage *st,
				      const void *buf, __u32 n, enum http_kind kind, bool outbound, __u8 source)
{
	struct http_slot *h = heads_slot_of(key);
	__u64 old;

	if (!h)
		return false;
	if (READ_ONCE(h->cookie) != key) {
		if (rec->flags & WC_F_HEADS_RING)
			return false;
		old = __sync_val_compare_and_swap(&h->cookie, 0, key);
		if (old && old != key) {
			rec->flags |= WC_F_HEADS_RING;
			return false;
		}
		if (!old) {
			h->heads.requests = h->heads.responses = 0;
			h->heads.req_len = h->heads.resp_len = 0;
			h->heads.req_outbound = 0;
		}
	}
	h->heads.source = source;
	if (kind == HTTP_REQUEST) {
		/* A failed read leaves zeros: that head is missing, as a note's would be. */
		h->heads.req_len = copy_head(h->heads.req, st, buf, n) ? n : 0;
		h->heads.req_outbound = outbound;
		h->heads.requests++;
	} else {
		h->heads.resp_len = copy_head(h->heads.resp, st, buf, n) ? n : 0;
		h->heads.responses++;
	}
	return true;
}

/* `len` bytes at user address `buf` just moved over the socket `key`, whose
 * record the caller may hold (`rec`, else NULL). `staged` (a constant) reads
 * them once into this CPU's head_stage: only for callers that run with
 * preemption off (the socket tracepoints), not uprobes, where another task
 * on this CPU could run the same program half-way through. */
static __always_inline void http_capture_at(__u64 key, struct close_record *rec, const void *buf, __u32 len,
					    bool outbound, __u8 source, bool staged)
{
	struct head_stage *st = NULL;
	char prefix[8] = {};
	const char *look = prefix;
	struct http_note *note;
	enum http_kind kind;
	__u32 dir = outbound;
	/* At most WC_HTTP_HEAD - 1 bytes, as a mask the verifier can follow
	 * into the copy (a plain clamp gets lost in the compiler's code). */
	__u32 n = len > WC_HTTP_HEAD - 1 ? WC_HTTP_HEAD - 1 : len;

	barrier_var(n); /* or the compiler drops the mask as redundant */
	n &= WC_HTTP_HEAD - 1;

	if (n < 8)
		return;
	if (staged) {
		st = bpf_map_lookup_elem(&head_stage, &dir);
		if (!st || bpf_probe_read_user(st->buf, n, buf))
			return;
		look = st->buf;
	} else if (bpf_probe_read_user(prefix, sizeof(prefix), buf)) {
		return;
	}
	kind = http_kind_of(look);
	if (kind == HTTP_NONE)
		return;
	if (use_heads) {
		if (!rec)
			rec = find_record(key);
		if (rec && keep_head(key, rec, st, buf, n, kind, outbound, source))
			return;
	}
	note = bpf_ringbuf_reserve(&events, sizeof(*note), 0);
	if (!note) {
		count(WC_CNT_HTTP_LOST);
		return;
	}
	if (!copy_head(note->head, st, buf, n)) {
		bpf_ringbuf_discard(note, BPF_RB_NO_WAKEUP);
		return;
	}
	note->cookie = key;
	note->magic = WC_HTTP_NOTE_MAGIC;
	note->len = n;
	note->kind = kind == HTTP_REQUEST ? WC_HTTP_REQUEST : WC_HTTP_RESPONSE;
	note->outbound = outbound;
	note->source = source;
	__builtin_memset(note->pad, 0, sizeof(note->pad));
	submit(note);
	mark_http(key, rec);
}

static __always_inline void http_capture(__u64 key, const void *buf, __u32 len, bool outbound, __u8 source)
{
	http_capture_at(key, NULL, buf, len, outbound, source, false);
}

/* The socket-layer hooks hold the record already (see on_io). */
static __always_inline void http_from_syscall(__u64 key, struct close_record *rec, int ret, bool outbound)
{
	const void *buf;
	__u32 room = ret;

	if (!http_syscall)
		return;
	buf = syscall_payload(&room);
	if (buf)
		http_capture_at(key, rec, buf, room, outbound, WC_HTTP_SRC_SYSCALL, true);
}

#endif
