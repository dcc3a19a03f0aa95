#!/usr/bin/env bash
# Checks that dependencies point one way (README, "Design"): every
# `#include "folder/..."` of a layer must name a layer it may use.
#   tools -> runtime -> actors -> messages; config (messages only) is used by
#   runtime and tools. Inside actors/, no folder reaches into the
#   supervisor, and results/ (used by the supervisor and runtime) into no
#   other actor folder. Also: no source file over the size limit.
# Usage: tools/check-layers.sh [SOURCE_DIR]   (ctest: `layers`)
set -uo pipefail
cd "${1:-$(dirname "$0")/..}" || exit 2

max_lines=450
status=0
fail() { echo "layers: $*" >&2; status=1; }

# layer -> the include prefixes it may use
declare -A allowed=(
  [messages]="messages/"
  [config]="config/ messages/"
  [actors]="actors/ messages/"
  [runtime]="runtime/ actors/ config/ messages/"
)

for layer in messages config actors runtime; do
  while IFS=: read -r file _ inc; do
    ok=0
    for prefix in ${allowed[$layer]}; do
      [[ $inc == "$prefix"* ]] && ok=1
    done
    [ $ok = 1 ] || fail "$file includes \"$inc\": $layer/ may include only ${allowed[$layer]}"
  done < <(grep -rnoE '^#include "[a-z_]+/[^"]+"' "$layer" --include='*.[ch]pp' \
             | sed -E 's/#include "([^"]+)"/\1/')
done

# Inside actors/.
while IFS=: read -r file _ inc; do
  folder=${file#actors/}; folder=${folder%%/*}
  case $inc in
    actors/supervisor/*) [ "$folder" = supervisor ] \
      || fail "$file includes \"$inc\": only the supervisor's folder may" ;;
  esac
  if [ "$folder" = results ]; then
    case $inc in
      actors/results/* | messages/*) ;;
      *) fail "$file includes \"$inc\": results/ may use only itself and messages/" ;;
    esac
  fi
done < <(grep -rnoE '^#include "[a-z_]+/[^"]+"' actors --include='*.[ch]pp' \
           | sed -E 's/#include "([^"]+)"/\1/')

# File size: "files under ~400 lines" (issue 11); the check allows a margin.
while read -r lines file; do
  [ "$file" = total ] && continue
  [ "$lines" -gt "$max_lines" ] && fail "$file has $lines lines (limit $max_lines)"
done < <(find actors messages config runtime tools tests -name '*.[ch]pp' \
           -exec wc -l {} + | sort -n)

[ $status = 0 ] && echo "layers: dependencies point one way; no file over $max_lines lines"
exit $status
