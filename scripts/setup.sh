#!/usr/bin/env bash
# Installs every build, test and bench dependency of whoclosed from Debian
# packages and mounts tracefs. Idempotent: a re-run on a ready machine only
# runs one dpkg-query and returns in well under a second.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config clang llvm
  libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev libcli11-dev libcapstone-dev
  googletest libgtest-dev nlohmann-json3-dev libssl-dev openssl ca-certificates
  # test peers and ground truth
  golang-go nginx curl tcpdump iproute2 procps psmisc python3
  # bench: load generator, the libbpf-tools tcpstates anchor and bpftrace
  # (its in-kernel counting calibration)
  wrk libbpf-tools bpftrace
  # report: flame graph XML check (xmllint) and the HTML page in a headless browser
  libxml2-utils chromium
)

log() { printf 'setup: %s\n' "$*" >&2; }

if [[ ${EUID} -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    log "not root: re-running with sudo"
    exec sudo --preserve-env=WHOCLOSED_REQUIRE_BPF,CI "$0" "$@"
  fi
  log "must run as root (installs packages, mounts tracefs, loads BPF); sudo is not installed"
  exit 3
fi

missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "${pkg}" 2>/dev/null || true)
    [[ ${status} == ii* ]] || printf '%s\n' "${pkg}"
  done
}

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} > 0)); then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be stale or absent on a fresh machine: refresh first.
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# Classic tracepoints (the fallback attach mode and some tests) need tracefs.
if ! mountpoint -q /sys/kernel/tracing 2>/dev/null; then
  log "mounting tracefs at /sys/kernel/tracing"
  mount -t tracefs nodev /sys/kernel/tracing
fi

log "dependencies ready"
