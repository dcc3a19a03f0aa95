#!/usr/bin/env bash
# The README's demo: starts `troupe fake-dify` on 127.0.0.1:5001 with a few
# realistic faults (latency, 5 % server errors, and Dify's own throttle: at
# most 30 calls at once, the rest answered 400 "Too many requests" without
# Retry-After), runs config/examples/dify-workflow.json against it
# (concurrency 32), then the three-turn conversations of
# config/examples/dify-chat-conversation.json, and stops the server. No Dify
# account needed. Exits with the first run's code if it failed, else the
# second's.
set -euo pipefail
cd "$(dirname "$0")/.."
troupe=build/troupe
[ -x "$troupe" ] || { echo "demo: build first (cmake --build build)" >&2; exit 2; }

log=$(mktemp)
"$troupe" fake-dify --listen 127.0.0.1:5001 --api-key app-demo \
  --latency-ms 20-80 --failure-rate 0.05 --max-active 30 \
  --seed 7 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$log" && break
  if ! kill -0 $server 2>/dev/null; then
    echo "demo: fake-dify did not start:" >&2; cat "$log" >&2; exit 2
  fi
  sleep 0.05
done
echo "demo: $(cat "$log")"
rc=0
DIFY_API_KEY=app-demo "$troupe" run config/examples/dify-workflow.json \
  --out build/demo.jsonl --force "$@" || rc=$?
echo
echo "demo: three-turn conversations (config/examples/dify-chat-conversation.json)"
conv=0
DIFY_API_KEY=app-demo "$troupe" run config/examples/dify-chat-conversation.json \
  --out build/demo-conversation.jsonl --force "$@" || conv=$?
exit $(( rc != 0 ? rc : conv ))
