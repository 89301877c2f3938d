#!/usr/bin/env bash
# Installs dependencies, builds, then runs every test (labels unit, bpf,
# e2e). Kernel tests need root; with WHOCLOSED_REQUIRE_BPF=1 they fail
# instead of skipping when a kernel feature is missing. Extra arguments go
# to ctest (e.g. `-L unit`, `-R bpf.Close`).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ${EUID} -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  exec sudo --preserve-env=WHOCLOSED_REQUIRE_BPF,CI "$0" "$@"
fi

started=$(date +%s)
scripts/setup.sh
scripts/build.sh

# A hung kernel or e2e test must not eat CI's budget: 300 s per test, and
# ctest stops every test once the whole run (setup and build included)
# reaches WHOCLOSED_TEST_BUDGET_S, 30 min by default. No tests found is a
# failure: a broken discovery must not pass CI.
budget=${WHOCLOSED_TEST_BUDGET_S:-1800}
stop_time=$(date -d "@$((started + budget))" '+%H:%M:%S')
exec ctest --test-dir build --output-on-failure --no-tests=error --timeout 300 \
  --stop-time "${stop_time}" "$@"
