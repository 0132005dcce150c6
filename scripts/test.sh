#!/usr/bin/env bash
# README command 2: installs what is needed, builds, and runs every test,
# first in the release build, then unit tests and end-to-end tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer.
# Set MEZZO_SKIP_ASAN=1 to skip the sanitizer pass locally.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
start=$SECONDS

bash scripts/build.sh release
(cd build && ctest --output-on-failure -j 2 --timeout 600)
echo "test.sh: release build and tests took $((SECONDS - start)) s"

if [[ -z "${MEZZO_SKIP_ASAN:-}" ]]; then
  bash scripts/build.sh asan
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-asan && ctest --output-on-failure -j 2 --timeout 900)
  echo "test.sh: with the sanitizer pass, $((SECONDS - start)) s"
fi
echo "test.sh: all tests passed"
