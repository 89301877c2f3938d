// Uprobes on user-space libraries (OpenSSL for TLS plaintext, libc for
// plaintext with --http uprobe). They are
// attached per library file, so every process mapping that file is covered,
// including processes started after `trace`.
#pragma once

#include <string>
#include <vector>

struct whoclosed_bpf;
struct bpf_link;

namespace whoclosed {

// The system's libssl.so.3, or "" if none is installed.
std::string find_libssl();

// The system's libc.so.6, or "" if none is found.
std::string find_libc();

// Attaches SSL_read/SSL_write (and _ex) probes to `libssl`. Appends the links
// (the caller destroys them); on failure returns false with `error` set.
bool attach_openssl_probes(struct whoclosed_bpf* skel, const std::string& libssl,
                           std::vector<bpf_link*>& links, std::string& error);

// Attaches entry probes on libc's write/send/sendto/writev/sendmsg and
// read/recv/recvfrom/readv/recvmsg to `libc`, as attach_openssl_probes.
bool attach_libc_probes(struct whoclosed_bpf* skel, const std::string& libc,
                        std::vector<bpf_link*>& links, std::string& error);

}  // namespace whoclosed
