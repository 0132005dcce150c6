#!/usr/bin/env bash
# README command 1: installs what is needed, builds, then starts a local
# cluster (one master, two agents, embedded defaults) and runs a sample
# workload through it. Extra arguments go to `mezzo local`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release mezzo mezzo-master mezzo-agent mezzo-executor >/dev/null
exec build/bin/mezzo local --run-sample "$@"
