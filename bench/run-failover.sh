#!/usr/bin/env bash
# Builds the daemons and the failover benchmark in build/ and prints one line
# per run plus the medians: time from `kill -9` of the leading master to a
# standby serving SUBSCRIBE, and to the first offer (docs/benchmarks.md).
#
#   bench/run-failover.sh [runs=5] [session_timeout=1secs]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja >/dev/null
nice -n 10 ninja -C "$BUILD_DIR" -j"${JOBS:-2}" mezzo_failover_bench >/dev/null
MEZZO_BIN_DIR="$PWD/$BUILD_DIR/bin" "$BUILD_DIR/bin/mezzo_failover_bench" "${1:-5}" "${2:-1secs}"
