#!/usr/bin/env bash
# Builds the master and the re-registration benchmark in build/ and prints
# one line per run plus the median: time from a restarted master's first
# answer until it shows every emulated agent and task re-registered
# (docs/benchmarks.md).
#
#   bench/run-reregistration.sh [agents=10000] [tasks_per_agent=10] [concurrency=1000] [runs=3]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja >/dev/null
nice -n 10 ninja -C "$BUILD_DIR" -j"${JOBS:-1}" mezzo_reregistration_bench >/dev/null
echo "open files: $(ulimit -n) (the emulator needs agents + 512)"
MEZZO_BIN_DIR="$PWD/$BUILD_DIR/bin" "$BUILD_DIR/bin/mezzo_reregistration_bench" "${1:-10000}" "${2:-10}" \
  "${3:-1000}" "${4:-3}"
