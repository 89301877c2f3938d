#!/usr/bin/env bash
# Installs dependencies, builds, then runs whoclosed with the given arguments
# (default: demo). Setup and build talk only on stderr, so stdout is the
# tool's own: `sudo ./scripts/run.sh trace | jq` works.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ${EUID} -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  exec sudo "$0" "$@"
fi

scripts/setup.sh >&2
scripts/build.sh >&2

if (($# == 0)); then
  set -- demo
fi
exec build/whoclosed "$@"
