#!/usr/bin/env bash
# Runs the whole ctest suite N times while two busy loops keep both cores
# loaded, to find tests that race the clock. Prints pass/fail per run and
# "K of N passed"; exits 1 if any run failed, keeping that run's ctest log
# in build/stress-logs/run-K.log.
#
#   tools/stress-tests.sh [N] [extra ctest arguments...]
#
# Uses an existing build/ (configured and built first if it is missing).
# BUILD_DIR and LOADERS (number of busy loops, default 2) can be set.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
shift || true
case $runs in
  '' | *[!0-9]* | 0)
    echo "stress-tests: N must be a whole number >= 1, got '$runs'" >&2
    exit 2
    ;;
esac
build=${BUILD_DIR:-build}
loaders=${LOADERS:-2}

if [ ! -f "$build/CTestTestfile.cmake" ]; then
  echo "stress-tests: no $build/, configuring it"
  cmake -S . -B "$build" -G Ninja || exit 2
fi
# Bring the build up to date: the runs must test the sources as they are.
cmake --build "$build" || exit 2

logs=$build/stress-logs
mkdir -p "$logs"
rm -f "$logs"/run-*.log

# The busy loops. Each runs in its own process; the trap ends exactly these
# (by process id), whether the script ends, fails or is interrupted.
pids=()
stop_load() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  wait "${pids[@]}" 2>/dev/null
  pids=()
}
trap stop_load EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$loaders"); do
  yes >/dev/null &
  pids+=($!)
done
echo "stress-tests: $runs runs of ctest with $loaders busy loops" \
  "(pids ${pids[*]})"

passed=0
for k in $(seq "$runs"); do
  log=$logs/run-$k.log
  start=$SECONDS
  if ctest --test-dir "$build" --output-on-failure "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "run $k: pass ($((SECONDS - start)) s)"
    rm -f "$log"
  else
    failed=$(grep -E '^[[:space:]]*[0-9]+ - ' "$log" | sed 's/^[[:space:]]*//' \
      | tr '\n' ';' | sed 's/;$//')
    echo "run $k: FAIL ($((SECONDS - start)) s): ${failed:-see log}; log: $log"
  fi
done

echo "$passed of $runs passed"
[ "$passed" -eq "$runs" ]
