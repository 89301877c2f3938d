/* SPDX-License-Identifier: MIT */
/* The kernel/userspace ABI of whoclosed: plain C, fixed-size structs only,
 * largest fields first. Included by bpf/whoclosed.bpf.c and by userspace. */
#ifndef WHOCLOSED_ABI_H
#define WHOCLOSED_ABI_H

#ifdef __cplusplus
#define WC_STATIC_ASSERT static_assert
#else
#define WC_STATIC_ASSERT _Static_assert
#endif

#define WC_COMM_LEN 16
#define WC_MAX_STATES 14
#define WC_MAX_PORT_FILTERS 16
#define WC_HTTP_HEAD 512       /* bytes kept of the last request and response head */
#define WC_STACK_DEPTH 48      /* frames kept of a closing kernel stack */
#define WC_USTACK_DEPTH 32     /* frames kept of a closing user stack (in the record) */
#define WC_USTACK_FP_MIN 2     /* a frame-pointer walk this short means no frame pointers */

/* TCP states as the kernel numbers them (include/net/tcp_states.h). */
enum wc_tcp_state {
	WC_TCP_ESTABLISHED = 1,
	WC_TCP_SYN_SENT = 2,
	WC_TCP_SYN_RECV = 3,
	WC_TCP_FIN_WAIT1 = 4,
	WC_TCP_FIN_WAIT2 = 5,
	WC_TCP_TIME_WAIT = 6,
	WC_TCP_CLOSE = 7,
	WC_TCP_CLOSE_WAIT = 8,
	WC_TCP_LAST_ACK = 9,
	WC_TCP_LISTEN = 10,
	WC_TCP_CLOSING = 11,
	WC_TCP_NEW_SYN_RECV = 12,
};

/* close_record.flags */
enum wc_record_flags {
	WC_F_HAS_OWNER = 1u << 0,      /* owner_* learned in process context */
	WC_F_HAS_CLOSER = 1u << 1,     /* closer_* set: a task sent our FIN/RST */
	WC_F_CLOSER_EXITING = 1u << 2, /* that task was inside do_exit() */
	WC_F_RST_SENT = 1u << 3,
	WC_F_RST_RECEIVED = 1u << 4,
	WC_F_IO_TRACKED = 1u << 5,     /* bytes_* and ts_last_payload_ns are meaningful */
	WC_F_STATES_TRUNCATED = 1u << 6,
	WC_F_SEEN_OPEN = 1u << 7,      /* the record starts at connect()/SYN_RECV */
	WC_F_FLUSHED = 1u << 8,        /* emitted by the final map sweep, not at destroy */
	WC_F_HAS_COOKIE = 1u << 9,
	WC_F_PEER_FIN_COUNTED = 1u << 10, /* kernel bookkeeping: the peer's FIN left rx_mark */
	WC_F_HAS_HTTP = 1u << 11,      /* http_notes were sent for it (kept only under filters) */
	WC_F_STACKS = 1u << 12,        /* kstack_id/ustack were attempted */
	/* Userspace only: completed by the stale-record sweep (the socket was
	 * gone, its last hook runs never arrived), see correlate/stale_records.h. */
	WC_F_RECOVERED = 1u << 13,
	WC_F_TIME_WAIT_SEEN = 1u << 14, /* with RECOVERED or TW_CHECKED: a timewait socket has its cookie */
	/* ustack holds the closer's user ip, sp and bp at the system call, then
	 * the stack words from sp up: its frame-pointer walk found at most
	 * WC_USTACK_FP_MIN frames (code built without frame pointers), and
	 * userspace unwinds with the binaries' .eh_frame instead. */
	WC_F_USTACK_RAW = 1u << 15,
	/* The kernel's filters dropped this socket after its http_notes went
	 * out: the reader forgets them and prints nothing. */
	WC_F_FILTERED_OUT = 1u << 16,
	/* At its CLOSE from FIN_WAIT2 or CLOSING the kernel side looked for the
	 * timewait socket that takes over (same cookie, in the established
	 * hash): TIME_WAIT_SEEN says whether it was there. It is not when
	 * net.ipv4.tcp_max_tw_buckets is full (TcpExtTCPTimeWaitOverflow). */
	WC_F_TW_CHECKED = 1u << 17,
	/* Kernel bookkeeping: the socket's heads slot (map http_slots) was
	 * held by another socket at its first HTTP head, so its heads go to
	 * the ring as http_notes, all of them (not split between the two). */
	WC_F_HEADS_RING = 1u << 18,
	/* The socket's heads follow the record in the same ring sample (see
	 * WC_HEADS_FIXED below). */
	WC_F_HEADS_FOLLOW = 1u << 19,
};

/* Indexes of the per-CPU drop/health counters (map "counters"). */
enum wc_counter {
	WC_CNT_RING_FULL = 0,   /* a close record could not be reserved: event lost */
	WC_CNT_MAP_FULL = 1,    /* a socket could not be tracked: event lost */
	WC_CNT_EMITTED = 2,     /* records submitted to the ring */
	WC_CNT_WAKEUPS = 3,     /* forced reader wake-ups (ring past threshold) */
	WC_CNT_FILTERED = 4,    /* closes dropped on purpose by a filter */
	WC_CNT_COVERED = 5,     /* hook runs the recursion guard skipped but a backup handled */
	WC_CNT_HTTP_LOST = 6,   /* an http_note could not be queued (ring full): that head is missing */
	WC_CNT_STACK_LOST = 7,  /* a closing stack could not be stored: its frames are empty */
	WC_CNT_UNTRACKED_DESTROY = 8, /* diagnostics: a TCP socket destroyed without a record */
	WC_CNT_LATE_RECORD = 9,  /* diagnostics: a record begun after the socket opened */
	WC_CNT_KSTACK_VARIED = 10, /* diagnostics: a remembered kernel path unwound differently */
	WC_CNT_MAX = 11,
};

/* One record per closed socket, submitted once to the ring buffer.
 *
 * Laid out for the socket table, not by size: a socket's hooks run on both
 * CPUs of a connection (its task's and the peer's softirqs), so each cache
 * line they write moves between CPUs. The map entry's header and key take
 * the first 56 bytes of a cache line and `cookie` ends it (read-only after
 * the record is made); everything a state change or an I/O hook writes
 * fills the next 64 bytes; the rest is written at most once. The record's
 * size keeps map entries cache-line aligned (see the static assert). */
struct close_record {
	unsigned long long cookie;
	/* hot: one cache line */
	unsigned int flags;                   /* enum wc_record_flags */
	unsigned short sport;                 /* host order */
	unsigned short dport;
	unsigned char nstates;
	unsigned char states[WC_MAX_STATES];  /* enum wc_tcp_state, in order */
	unsigned char family;                 /* AF_INET or AF_INET6 */
	unsigned long long ts_first_fin_ns;   /* first FIN (either way) or RST; 0 if none */
	unsigned long long ts_last_payload_ns;/* last send/recv of payload; 0 if none */
	unsigned long long bytes_sent;
	unsigned long long bytes_received;
	unsigned long long rx_mark;           /* kernel bookkeeping: tcp bytes_received last seen */
	/* written once or twice */
	unsigned long long netns;             /* network namespace inode */
	unsigned long long ts_open_ns;        /* CLOCK_BOOTTIME of the first transition seen */
	unsigned long long ts_close_ns;       /* reached TCP_CLOSE */
	unsigned long long owner_cgroup;      /* cgroup v2 id */
	unsigned long long closer_cgroup;
	unsigned char saddr[16];              /* network order; IPv4 in the first 4 bytes */
	unsigned char daddr[16];
	unsigned int owner_pid;
	unsigned int closer_pid;
	unsigned int closer_tid;
	int kstack_id;                        /* closer's kernel stack in map kstacks, or -1 */
	int ustack_len;                       /* frames in ustack[], or -1 if not captured */
	unsigned int pad;
	char owner_comm[WC_COMM_LEN];
	char closer_comm[WC_COMM_LEN];
	/* The closer's user stack, innermost first, inline: its addresses mean
	 * something only in the closer's address space, so a shared stack map
	 * would churn ids and cost userspace a lookup per event. */
	unsigned long long ustack[WC_USTACK_DEPTH];
};

/* Map entry = 56 bytes of header and key + the record: a multiple of 64
 * keeps every entry's hot line from straddling two. */
WC_STATIC_ASSERT((56 + sizeof(struct close_record)) % 64 == 0, "close_record: keep map entries aligned");
/* The ring's copy of a record without a user stack (ustack_len <= 0) stops
 * where ustack[] begins; the reader reads the rest as empty. */
#define WC_RECORD_SHORT __builtin_offsetof(struct close_record, ustack)
/* The bytes of a record in a ring sample, by its ustack_len. */
#define WC_RECORD_LEN(ustack_len) ((ustack_len) > 0 ? sizeof(struct close_record) : WC_RECORD_SHORT)
WC_STATIC_ASSERT(__builtin_offsetof(struct close_record, rx_mark) + 8 == 72, "close_record: hot fields in one line");

/* The socket table's direct-mapped part (map `slots`, indexed by cookie):
 * a slot's `cookie` says who holds it: 0 free, the socket's cookie once
 * its record is complete, and that cookie with this bit set while one
 * party (a hook, or userspace's sweep) builds or takes the record out.
 * Cookies count up from 1 and never reach it. A record taken out of a slot
 * may carry the bit into the ring: readers clear it. */
#define WC_COOKIE_TAKEN (1ull << 63)

/* Where HTTP bytes were read from (http_record.source). */
enum wc_http_source {
	WC_HTTP_SRC_NONE = 0,
	WC_HTTP_SRC_SYSCALL = 1,  /* the syscall's user buffer, at the socket layer */
	WC_HTTP_SRC_OPENSSL = 2,  /* SSL_read/SSL_write plaintext */
	WC_HTTP_SRC_GO = 3,       /* Go crypto/tls or net plaintext */
	WC_HTTP_SRC_LIBC = 4,     /* uprobes on libc read/write/send/recv... */
};

/* One HTTP/1.x head (the first bytes of a request or response) moved over a
 * socket whose heads slot another socket holds (or that has no record): a
 * ring sample of its own, submitted without a wake-up like close records.
 * The reader keeps the last request and response per cookie until the
 * socket's close record arrives, after them in the same ring. */
enum wc_http_kind { WC_HTTP_REQUEST = 1, WC_HTTP_RESPONSE = 2 };

struct http_note {
	unsigned long long cookie;
	unsigned int magic;        /* WC_HTTP_NOTE_MAGIC */
	unsigned short len;        /* bytes valid in head[] */
	unsigned char kind;        /* enum wc_http_kind */
	unsigned char outbound;    /* sent (1) or received (0) */
	unsigned char source;      /* enum wc_http_source */
	unsigned char pad[7];
	char head[WC_HTTP_HEAD];
};
#define WC_HTTP_NOTE_MAGIC 0x48545450u /* "HTTP" */

/* The HTTP/1.x heads seen on one socket: kept by the kernel in the
 * socket's heads slot (struct http_slot) and sent with its close record
 * (WC_F_HEADS_FOLLOW), or gathered by the reader from http_notes when that
 * slot was held by another socket. */
struct http_record {
	unsigned int requests;     /* payloads that began with a request line */
	unsigned int responses;    /* payloads that began with a status line */
	unsigned short req_len;    /* bytes valid in req[] */
	unsigned short resp_len;
	unsigned char req_outbound;  /* the last request was sent (1) or received (0) */
	unsigned char source;        /* enum wc_http_source */
	unsigned char pad[2];
	char req[WC_HTTP_HEAD];
	char resp[WC_HTTP_HEAD];
};

/* The kernel's table of heads (map http_slots, indexed by cookie &
 * heads_mask, memory-mapped): `cookie` is 0 when free, else the socket
 * whose heads these are. A socket claims its slot (compare-and-swap from 0)
 * at its first HTTP head; whoever takes the socket's record out (its
 * destroy hook, or the reader's drain or sweep) takes the heads with it
 * and frees the slot. */
struct http_slot {
	unsigned long long cookie;
	struct http_record heads;
};

/* A close record whose socket's heads were in the kernel is one ring
 * sample with WC_F_HEADS_FOLLOW set: the record (WC_RECORD_SHORT bytes
 * without a user stack, else all of it), then the http_record's first
 * WC_HEADS_FIXED bytes (counts, lengths, source), then req_len bytes of the
 * request head and resp_len bytes of the response head: only what means
 * something is copied into the ring and out of it. */
#define WC_HEADS_FIXED __builtin_offsetof(struct http_record, req)

/* A process was first seen owning a socket while stacks are captured: the
 * reader snapshots its mappings now, while it lives, so that its frames
 * resolve even if it exits right after closing (curl). In case it is gone
 * by the time the reader gets to it, the note also carries the process's
 * executable file mappings as the kernel saw them. Ring samples of exactly
 * this size are notes; close records have other sizes. */
#define WC_MAX_MODULES 48
#define WC_MODULE_NAME 56
struct module_entry {
	unsigned long long start, end;  /* [start, end) in the process */
	unsigned long long pgoff;       /* file offset of start, in pages */
	unsigned long long inode;
	unsigned int dev;               /* kernel dev_t: major << 20 | minor */
	char name[WC_MODULE_NAME];      /* the file's name (no directory) */
	unsigned int pad;
};

struct process_note {
	unsigned int pid;     /* thread-group id */
	unsigned int magic;   /* WC_PROCESS_NOTE_MAGIC */
	unsigned int nmodules;
	unsigned int pad;
	struct module_entry modules[WC_MAX_MODULES];
};
#define WC_PROCESS_NOTE_MAGIC 0x50524f43u /* "PROC" */


#endif
