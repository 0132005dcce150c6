#!/usr/bin/env bash
# Configures and builds Mezzo. Usage: scripts/build.sh [release|debug|asan] [targets...]
# Build trees: build/ (release), build-debug/, build-asan/ (ASan + UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-release}
shift || true
case $kind in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  debug) dir=build-debug; flags=(-DCMAKE_BUILD_TYPE=Debug) ;;
  # Benchmarks are not tests: the sanitizer tree skips them to keep CI short.
  asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DMEZZO_SANITIZE=ON -DMEZZO_BUILD_BENCHMARKS=OFF) ;;
  *) echo "usage: $0 [release|debug|asan] [targets...]" >&2; exit 2 ;;
esac

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/mezzo-ccache}
jobs=${MEZZO_BUILD_JOBS:-$(nproc)}
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$dir" -j "$jobs" "$@"
echo "$dir"
