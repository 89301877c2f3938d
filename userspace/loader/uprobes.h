// Uprobes on user-space libraries (OpenSSL for TLS plaintext). They are
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

// Attaches SSL_read/SSL_write (and _ex) probes to `libssl`. Appends the links
// (the caller destroys them); on failure returns false with `error` set.
bool attach_openssl_probes(struct whoclosed_bpf* skel, const std::string& libssl,
                           std::vector<bpf_link*>& links, std::string& error);

}  // namespace whoclosed
