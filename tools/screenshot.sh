#!/usr/bin/env bash
# Renders an HTML file (a `troupe report --html` page) to a PNG with headless
# Chromium, to look at it. Needs `bash tools/setup.sh --with-browser`.
#   bash tools/screenshot.sh report.html report.png [width] [height]
set -euo pipefail
html=$(realpath "$1")
png=$(realpath -m "$2")
width=${3:-1000}
height=${4:-3000}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars \
  --window-size="$width,$height" --screenshot="$png" "file://$html" \
  >/dev/null 2>&1
echo "$png"
