#!/usr/bin/env bash
# The distributed demo (README, "Running across machines"): starts
# `troupe fake-dify` on 127.0.0.1:5001 and two `troupe node`s on loopback
# (4 and 12 workers, each with the API key in its own environment), runs
# config/examples/dify-workflow.json across both nodes, prints how many
# tasks each node ran, and stops everything on exit. No Dify account needed.
#
#   tools/demo-nodes.sh [extra troupe run arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
troupe=build/troupe
[ -x "$troupe" ] || { echo "demo-nodes: build first (cmake --build build)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Waits for "listening on" in log $1 of process $2; prints the line.
await_listening() {
  for _ in $(seq 200); do
    if grep -q "listening on" "$1"; then grep "listening on" "$1"; return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then
      echo "demo-nodes: a process did not start:" >&2; cat "$1" >&2; exit 2
    fi
    sleep 0.05
  done
  echo "demo-nodes: no \"listening on\" after 10 s:" >&2; cat "$1" >&2; exit 2
}

"$troupe" fake-dify --listen 127.0.0.1:5001 --api-key app-demo \
  --latency-ms 20-80 --failure-rate 0.05 --rate-429 0.05 --retry-after 1 \
  --seed 7 >"$work/server.log" 2>&1 &
pids+=($!)
echo "demo-nodes: $(await_listening "$work/server.log" $!)"

# Port 0: the system picks a free port, which the node prints.
addresses=()
for workers in 4 12; do
  DIFY_API_KEY=app-demo "$troupe" node --listen 127.0.0.1:0 \
    --workers "$workers" 2>"$work/node-$workers.log" &
  pids+=($!)
  line=$(await_listening "$work/node-$workers.log" $!)
  echo "demo-nodes: $line"
  address=${line#*listening on }
  addresses+=("${address%% with*}")
done
nodes=$(IFS=,; echo "${addresses[*]}")

# The supervisor needs no key: each node reads its own.
status=0
"$troupe" run config/examples/dify-workflow.json --nodes "$nodes" \
  --out build/demo-nodes.jsonl --force "$@" || status=$?
for address in "${addresses[@]}"; do
  echo "demo-nodes: node $address ran" \
    "$(grep -c "\"node\":\"$address\"" build/demo-nodes.jsonl || true) tasks"
done
exit $status
