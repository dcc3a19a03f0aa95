#!/usr/bin/env bash
# Builds troupe's libFuzzer harnesses (tests/fuzz/, clang with ASan and
# UBSan) into build-fuzz/ and runs each for S seconds (default 20) on a copy
# of its seed corpus and its past crashes (tests/fuzz/regressions/<name>/).
# Prints pass/fail per harness; exits 1 if any found a crash, leak, hang or
# sanitizer report. The input that did it is kept as build-fuzz/artifacts/.
#
#   bash tools/fuzz.sh [seconds]
set -euo pipefail
seconds=${1:-20}
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build-fuzz
harnesses=(manifest dataset_jsonl dataset_csv sse dify_response results wire)

if [ ! -f "$build/CMakeCache.txt" ]; then
  args=(-S "$root" -B "$build" -DTROUPE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  if command -v ninja >/dev/null 2>&1; then
    args+=(-G Ninja)
  fi
  if command -v ccache >/dev/null 2>&1; then
    args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  CC=clang CXX=clang++ cmake "${args[@]}" >/dev/null
fi
# Quiet unless it fails: then its last lines say why.
if ! cmake --build "$build" --parallel "${FUZZ_BUILD_JOBS:-2}" >"$build/build.log" 2>&1; then
  tail -40 "$build/build.log" >&2
  echo "fuzz: the harnesses did not build (whole log: $build/build.log)" >&2
  exit 1
fi

mkdir -p "$build/artifacts"
failed=0
for name in "${harnesses[@]}"; do
  work=$build/run/$name
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/cwd"
  cp "$root/tests/fuzz/corpus/$name"/* "$work/corpus/"
  if [ -d "$root/tests/fuzz/regressions/$name" ]; then
    cp "$root/tests/fuzz/regressions/$name"/* "$work/corpus/"
  fi
  # The manifest harness finds the example datasets by relative path.
  cp "$root"/config/examples/*.jsonl "$work/cwd/"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
           -artifact_prefix="$build/artifacts/$name-" -print_final_stats=1)
  case $name in
    sse) ;;
    *) options+=(-dict="$root/tests/fuzz/json.dict") ;;
  esac
  if (cd "$work/cwd" \
      && UBSAN_OPTIONS=print_stacktrace=1 \
         "$build/tests/fuzz/fuzz_$name" "${options[@]}" "$work/corpus" \
         >"$work/log" 2>&1); then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" \
           | grep -o '[0-9]*$' || echo '?')
    echo "fuzz $name: pass ($runs inputs in ${seconds}s)"
  else
    failed=1
    echo "fuzz $name: FAIL (log: $work/log)"
    grep -E 'ERROR|runtime error|invariant|Test unit written' "$work/log" \
      | head -n 5 | sed 's/^/  /' || true
  fi
done
exit "$failed"
