#!/usr/bin/env bash
# Configures and builds Mezzo. Usage: scripts/build.sh [release|debug|asan] [targets...]
# Build trees: build/ (release), build-debug/, build-asan/ (ASan + UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-release}
shift || true
case $kind in
  # -g1 (line tables): backtraces keep file:line at a fraction of full -g's compile time.
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG") ;;
  debug) dir=build-debug; flags=(-DCMAKE_BUILD_TYPE=Debug) ;;
  # Benchmarks are not tests: the sanitizer tree skips them to keep CI short.
  asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" -DMEZZO_SANITIZE=ON
                              -DMEZZO_BUILD_BENCHMARKS=OFF) ;;
  *) echo "usage: $0 [release|debug|asan] [targets...]" >&2; exit 2 ;;
esac

# Unity build (CMake compiles batches of 8 sources as one file): a clean
# build parses the heavy headers (protobuf, Boost.Asio/Beast, JSON) and
# instantiates their templates once per batch instead of once per file,
# which halves it. Set MEZZO_UNITY_BUILD=0 while editing, where rebuilding
# a single file is what matters.
unity=ON
[[ ${MEZZO_UNITY_BUILD:-1} == 0 ]] && unity=OFF
flags+=("-DCMAKE_UNITY_BUILD=$unity" -DCMAKE_UNITY_BUILD_BATCH_SIZE=8)

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/mezzo-ccache}
jobs=${MEZZO_BUILD_JOBS:-$(nproc)}
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$dir" -j "$jobs" "$@"
echo "$dir"
