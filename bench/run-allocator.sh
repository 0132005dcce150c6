#!/usr/bin/env bash
# Builds the allocator benchmarks (Release) and prints one line per benchmark:
# the median over repetitions of the mean time per cycle (B1) or per re-offer
# (B3). Workloads and anchor figures: docs/benchmarks.md.
#
#   bench/run-allocator.sh [--repetitions N] [extra google-benchmark flags]
# Environment: BUILD_DIR (default build-bench), JOBS (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
JOBS=${JOBS:-1}
REPETITIONS=5
if [[ ${1:-} == --repetitions ]]; then REPETITIONS=$2; shift 2; fi

# Release at -O2: GCC 12's -O3 reports a false -Wrestrict inside
# libstdc++'s std::string (GCC PR 105329), and warnings are errors.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DMEZZO_BUILD_TESTS=OFF -DMEZZO_BUILD_BENCHMARKS=ON >/dev/null
nice -n 10 ninja -C "$BUILD_DIR" -j"$JOBS" mezzo_allocator_bench >"$BUILD_DIR/bench-build.log" 2>&1 ||
  { tail -20 "$BUILD_DIR/bench-build.log"; exit 1; }

"$BUILD_DIR/bin/mezzo_allocator_bench" --benchmark_repetitions="$REPETITIONS" \
  --benchmark_report_aggregates_only=true --benchmark_format=csv "$@" 2>/dev/null |
  awk -F, '$1 ~ /_median"$/ {
    name = $1; gsub(/"/, "", name); sub(/_median$/, "", name);
    sub(/\/iterations:[0-9]+/, "", name); sub(/\/manual_time/, "", name);
    printf "%-36s median %10.3f %s\n", name, $3, $5
  }'
