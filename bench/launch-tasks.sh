#!/usr/bin/env bash
# B4 (docs/benchmarks.md): time to launch and finish N trivial tasks (`true`)
# through one agent via the master, against a bare `xargs -P 2` running the
# same N commands. Starts its own master and agent on free loopback ports in
# a temporary directory, runs each side RUNS times and prints the medians and
# their ratio. Bounded: each Mezzo run times out after 300 s.
#
#   bench/launch-tasks.sh [--tasks N] [--runs R] [--isolation LIST] [--command CMD]
#                         [--agent-resources RES] [--keep-work-dir]
# Each task takes cpus:0.01;mem:4. The default agent (cpus:2;mem:4096) fits
# 200 at a time, so the rest are launched on re-offers of freed resources;
# --agent-resources 'cpus:10;mem:8192;disk:1024' fits all 1,000 in one offer.
# --keep-work-dir leaves the temporary directory (its path is printed): on
# ext4 without a journal, creating files is slow for minutes after a mass
# deletion, so back-to-back invocations would slow each other down.
# Environment: BUILD_DIR (default build; needs mezzo-master, mezzo-agent,
# mezzo-executor, mezzo-launch and mezzo-launch-tasks-bench built there).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BIN=$(realpath "$BUILD_DIR/bin")
TASKS=1000
RUNS=3
ISOLATION="posix/cpu,posix/mem"
COMMAND=true
AGENT_RESOURCES="cpus:2;mem:4096;disk:1024"
KEEP_WORK_DIR=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --tasks) TASKS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --isolation) ISOLATION=$2; shift 2 ;;
    --command) COMMAND=$2; shift 2 ;;
    --agent-resources) AGENT_RESOURCES=$2; shift 2 ;;
    --keep-work-dir) KEEP_WORK_DIR=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
for binary in mezzo-master mezzo-agent mezzo-executor mezzo-launch mezzo-launch-tasks-bench; do
  [[ -x $BIN/$binary ]] || { echo "missing $BIN/$binary (build it first)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/mezzo-launch-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rmdir /sys/fs/cgroup/*/"mezzo-bench-$$" 2>/dev/null || true
  if [[ $KEEP_WORK_DIR == 1 ]]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

MASTER_PORT=$(free_port)
AGENT_PORT=$(free_port)
"$BIN/mezzo-master" --ip=127.0.0.1 --port="$MASTER_PORT" --work_dir="$WORK/master" --registry=in_memory \
  --allocation_interval=100ms --log_level=warn >"$WORK/master.log" 2>&1 &
PIDS+=($!)
"$BIN/mezzo-agent" --master=127.0.0.1:"$MASTER_PORT" --ip=127.0.0.1 --port="$AGENT_PORT" \
  --work_dir="$WORK/agent" --resources="$AGENT_RESOURCES" --isolation="$ISOLATION" \
  --cgroups_root="mezzo-bench-$$" --log_level=warn >"$WORK/agent.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$MASTER_PORT/state" 2>/dev/null | grep -q '"activated_slaves":1' && break
  sleep 0.1
done

echo "B4: $TASKS tasks of '$COMMAND', agent $AGENT_RESOURCES, isolation $ISOLATION, $RUNS runs"
MEZZO_TIMES=()
for run in $(seq "$RUNS"); do
  line=$("$BIN/mezzo-launch-tasks-bench" --master 127.0.0.1:"$MASTER_PORT" --tasks "$TASKS" --command "$COMMAND" |
    grep '^tasks=' || true)
  echo "  mezzo run $run: $line"
  MEZZO_TIMES+=("$(sed -E 's/.*wall_s=([0-9.]+).*/\1/' <<<"$line")")
done
BARE_TIMES=()
for run in $(seq "$RUNS"); do
  start=$(date +%s.%N)
  seq "$TASKS" | xargs -P 2 -I{} sh -c "$COMMAND"
  end=$(date +%s.%N)
  BARE_TIMES+=("$(echo "$end - $start" | bc -l)")
  echo "  bare  run $run: wall_s=${BARE_TIMES[-1]}"
done
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
echo "cpu seconds used by the daemons over all runs: master $(cpu "${PIDS[0]}"), agent $(cpu "${PIDS[1]}")"
MEZZO=$(printf '%s\n' "${MEZZO_TIMES[@]}" | median)
BARE=$(printf '%s\n' "${BARE_TIMES[@]}" | median)
printf 'median: mezzo %.3f s, bare xargs -P 2 %.3f s, ratio %.2fx\n' "$MEZZO" "$BARE" "$(echo "$MEZZO / $BARE" | bc -l)"
