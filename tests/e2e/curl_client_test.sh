#!/usr/bin/env bash
# A v1 framework made of nothing but curl and this script, following the
# scheduler API to the letter (mesos-reference.md §1): SUBSCRIBE, take an
# offer, LAUNCH, follow TASK_STARTING/RUNNING/FINISHED, ACKNOWLEDGE each
# update (they carry uuids), check no retry arrives afterwards, TEARDOWN.
# Runs once with application/json (jq reads events) and once with
# application/x-protobuf (protoc --encode/--decode with our .proto files).
#
# Needs: MEZZO_BIN_DIR (set by ctest), curl, jq, protoc.
set -euo pipefail

BIN=${MEZZO_BIN_DIR:?set MEZZO_BIN_DIR}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PROTO_DIR=$SRC/proto
WORK=$(mktemp -d /tmp/mezzo-curl-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n "${MEZZO_KEEP_TEST_DIRS:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- master log" >&2; tail -30 "$WORK/master.log" >&2 || true; exit 1; }

# Daemons bind port 0 (the kernel picks a free one; choosing one ourselves
# races with concurrent tests) and log where they listen.
listening_port() {  # listening_port <log> -> the port from "... listening on <ip>:<port>"
  for _ in $(seq 300); do
    local port
    port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$1" 2>/dev/null | head -1 | sed 's/.*://') || true
    if [[ -n "$port" ]]; then echo "$port"; return; fi
    sleep 0.1
  done
  fail "no 'listening on' line in $1"
}

"$BIN/mezzo-master" --ip=127.0.0.1 --port=0 --work_dir="$WORK/master" >"$WORK/master.log" 2>&1 &
PIDS+=($!)
MASTER_PORT=$(listening_port "$WORK/master.log")
MASTER=127.0.0.1:$MASTER_PORT
"$BIN/mezzo-agent" --master="$MASTER" --ip=127.0.0.1 --port=0 --work_dir="$WORK/agent" \
  --resources="cpus:2;mem:1024" --status_update_retry_interval=1secs >"$WORK/agent.log" 2>&1 &
PIDS+=($!)

for _ in $(seq 300); do  # up to 30 s on a loaded machine
  if curl -sf "http://$MASTER/state" | jq -e '.activated_slaves == 1' >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -sf "http://$MASTER/state" | jq -e '.activated_slaves == 1' >/dev/null || fail "agent did not register"

# ---------------------------------------------------------------- encodings
MODE=json
content_type() { [[ $MODE == json ]] && echo application/json || echo application/x-protobuf; }

# encode_call <json-body> <text-format-body> -> file with the request body
encode_call() {
  local out=$WORK/call.bin
  if [[ $MODE == json ]]; then
    printf '%s' "$1" >"$out"
  else
    printf '%s' "$2" | protoc -I"$PROTO_DIR" --encode=mezzo.v1.scheduler.Call \
      "$PROTO_DIR/mezzo/v1/scheduler/scheduler.proto" >"$out"
  fi
  echo "$out"
}

# Reads record number $1 (0-based) of the stream file into $WORK/record;
# waits up to $2 seconds for it. RecordIO: "<size>\n<bytes>".
OFFSET=0
next_record() {
  local timeout=$1
  local deadline=$((SECONDS + timeout)) stream=$WORK/stream.raw
  while ((SECONDS <= deadline)); do
    local size_line
    size_line=$(tail -c +"$((OFFSET + 1))" "$stream" 2>/dev/null | head -n 1 || true)
    if [[ $size_line =~ ^[0-9]+$ ]]; then
      local start=$((OFFSET + ${#size_line} + 1)) total
      total=$(stat -c %s "$stream")
      if ((total >= start + size_line)); then
        tail -c +"$((start + 1))" "$stream" | head -c "$size_line" >"$WORK/record"
        OFFSET=$((start + size_line))
        return 0
      fi
    fi
    sleep 0.05
  done
  return 1
}

# Field extraction from the current record.
event_type() {
  if [[ $MODE == json ]]; then jq -r .type "$WORK/record"; else decode_event | awk '/^type:/ {print $2; exit}'; fi
}
decode_event() {
  protoc -I"$PROTO_DIR" --decode=mezzo.v1.scheduler.Event "$PROTO_DIR/mezzo/v1/scheduler/scheduler.proto" <"$WORK/record"
}

post() {  # post <body-file> -> prints HTTP status
  curl -s -o "$WORK/response" -w '%{http_code}' -X POST "http://$MASTER/api/v1/scheduler" \
    -H "Content-Type: $(content_type)" -H "Mesos-Stream-Id: $STREAM_ID" --data-binary @"$1"
}

run_flow() {
  MODE=$1
  local ct task=curl-task-$MODE
  ct=$(content_type)
  OFFSET=0
  : >"$WORK/stream.raw"
  echo "== $MODE: SUBSCRIBE"
  local body
  body=$(encode_call \
    '{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"root","name":"curl-framework"}}}' \
    'type: SUBSCRIBE subscribe { framework_info { user: "root" name: "curl-framework" } }')
  curl -sN -X POST "http://$MASTER/api/v1/scheduler" -H "Content-Type: $ct" -H "Accept: $ct" \
    --data-binary @"$body" -D "$WORK/headers" -o "$WORK/stream.raw" &
  local curl_pid=$!
  PIDS+=($curl_pid)

  next_record 10 || fail "no SUBSCRIBED record"
  grep -q '^HTTP/1.1 200' "$WORK/headers" || fail "SUBSCRIBE status: $(head -1 "$WORK/headers")"
  grep -qi "^content-type: $ct"$'\r'"\$" "$WORK/headers" || fail "SUBSCRIBE Content-Type is not exactly $ct"
  STREAM_ID=$(awk -F': ' 'tolower($1)=="mesos-stream-id" {print $2}' "$WORK/headers" | tr -d '\r')
  [[ -n $STREAM_ID ]] || fail "no Mesos-Stream-Id header"
  [[ $(event_type) == SUBSCRIBED ]] || fail "first event is $(event_type)"
  local framework_id
  if [[ $MODE == json ]]; then
    framework_id=$(jq -r .subscribed.framework_id.value "$WORK/record")
    jq -e '.subscribed.heartbeat_interval_seconds == 15' "$WORK/record" >/dev/null || fail "heartbeat interval"
  else
    framework_id=$(decode_event | awk -F'"' '/framework_id/ {getline; print $2; exit}')
  fi
  [[ -n $framework_id ]] || fail "no framework id"
  echo "   framework $framework_id, stream $STREAM_ID"

  local offer_id agent_id
  while next_record 10; do
    [[ $(event_type) == OFFERS ]] || continue
    if [[ $MODE == json ]]; then
      offer_id=$(jq -r '.offers.offers[0].id.value' "$WORK/record")
      agent_id=$(jq -r '.offers.offers[0].agent_id.value' "$WORK/record")
    else
      offer_id=$(decode_event | awk -F'"' '/^    id {/ {getline; print $2; exit}')
      agent_id=$(decode_event | awk -F'"' '/^    agent_id {/ {getline; print $2; exit}')
    fi
    break
  done
  [[ -n ${offer_id:-} && -n ${agent_id:-} ]] || fail "no offer"
  echo "== $MODE: ACCEPT offer $offer_id on agent $agent_id"

  body=$(encode_call \
    "{\"framework_id\":{\"value\":\"$framework_id\"},\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":\"$offer_id\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"$task\",\"task_id\":{\"value\":\"$task\"},\"agent_id\":{\"value\":\"$agent_id\"},\"command\":{\"shell\":true,\"value\":\"echo hello from curl; sleep 0.3\"},\"resources\":[{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":0.1}},{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":32}}]}]}}],\"filters\":{\"refuse_seconds\":1}}}" \
    "framework_id { value: \"$framework_id\" } type: ACCEPT accept { offer_ids { value: \"$offer_id\" } operations { type: LAUNCH launch { task_infos { name: \"$task\" task_id { value: \"$task\" } agent_id { value: \"$agent_id\" } command { shell: true value: \"echo hello from curl; sleep 0.3\" } resources { name: \"cpus\" type: SCALAR scalar { value: 0.1 } } resources { name: \"mem\" type: SCALAR scalar { value: 32 } } } } } filters { refuse_seconds: 1 } }")
  local status
  status=$(post "$body")
  [[ $status == 202 ]] || fail "ACCEPT answered $status: $(cat "$WORK/response")"

  local states=()
  while next_record 20; do
    [[ $(event_type) == UPDATE ]] || continue
    local state uuid ack
    if [[ $MODE == json ]]; then
      [[ $(jq -r .update.status.task_id.value "$WORK/record") == "$task" ]] || continue
      state=$(jq -r .update.status.state "$WORK/record")
      uuid=$(jq -r '.update.status.uuid // empty' "$WORK/record")
      [[ -n $uuid ]] || fail "$state update without uuid"
      ack=$(encode_call "{\"framework_id\":{\"value\":\"$framework_id\"},\"type\":\"ACKNOWLEDGE\",\"acknowledge\":{\"agent_id\":{\"value\":\"$agent_id\"},\"task_id\":{\"value\":\"$task\"},\"uuid\":\"$uuid\"}}" "")
    else
      state=$(decode_event | awk '/^    state:/ {print $2; exit}')
      uuid=$(decode_event | awk '/^    uuid:/ {sub(/^    uuid: /, ""); print; exit}')
      [[ -n $uuid ]] || fail "$state update without uuid"
      ack=$(encode_call "" "framework_id { value: \"$framework_id\" } type: ACKNOWLEDGE acknowledge { agent_id { value: \"$agent_id\" } task_id { value: \"$task\" } uuid: $uuid }")
    fi
    states+=("$state")
    status=$(post "$ack")
    [[ $status == 202 ]] || fail "ACKNOWLEDGE answered $status: $(cat "$WORK/response")"
    [[ $state == TASK_FINISHED ]] && break
  done
  [[ "${states[*]}" == "TASK_STARTING TASK_RUNNING TASK_FINISHED" ]] || fail "states were: ${states[*]}"
  echo "   states: ${states[*]} (each acknowledged)"

  # The agent retries unacknowledged updates every second here: after
  # three quiet seconds nothing more may arrive for the task.
  local deadline=$((SECONDS + 3))
  while next_record 1; do
    if [[ $(event_type) == UPDATE ]]; then fail "an update was retried after acknowledgement"; fi
    ((SECONDS < deadline)) || break
  done
  sleep 1
  while next_record 0; do [[ $(event_type) != UPDATE ]] || fail "an update was retried after acknowledgement"; done

  body=$(encode_call "{\"framework_id\":{\"value\":\"$framework_id\"},\"type\":\"TEARDOWN\"}" \
    "framework_id { value: \"$framework_id\" } type: TEARDOWN")
  status=$(post "$body")
  [[ $status == 202 ]] || fail "TEARDOWN answered $status"
  wait "$curl_pid" 2>/dev/null || true
  echo "== $MODE: ok"
}

run_flow json
run_flow protobuf
echo "PASS"
