#!/usr/bin/env bash
# Configures and builds whoclosed into build/ (binary: build/whoclosed).
# Idempotent: re-running only rebuilds what changed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=build
BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo}

# Always (re)configure: it takes a second on an existing tree and recovers
# a build directory whose last configure failed.
cmake -S . -B "${BUILD_DIR}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE}" >/dev/null
cmake --build "${BUILD_DIR}" -j "$(nproc)" >&2

if [[ ! -x ${BUILD_DIR}/whoclosed ]]; then
  printf 'build: %s/whoclosed was not produced\n' "${BUILD_DIR}" >&2
  exit 1
fi
