#!/usr/bin/env bash
# Builds troupe's .deb and installs it with apt-get in a clean Debian 12
# root, so its Depends must pull every library the binary needs; then runs
# the installed troupe on an installed example. Not part of .ci/run (slow).
#
#   build/ ──cpack──▶ troupe_X_amd64.deb ──apt-get install──▶ chroot
#   debootstrap bookworm ─▶ build/deb-test/base (kept) ─copy─▶ …/root (fresh)
#
# Usage (as root): bash tools/test-deb.sh [BUILD_DIR]   (default: build)
# Needs debootstrap (bash tools/setup.sh --with-deb) and a Debian mirror
# (TROUPE_DEB_MIRROR, default http://deb.debian.org/debian). The first run
# debootstraps the base root (about a minute); later runs copy it.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
mirror=${TROUPE_DEB_MIRROR:-http://deb.debian.org/debian}
work=$build/deb-test
root=$work/root
start=$SECONDS

step() { echo "test-deb: $* ($((SECONDS - start)) s)"; }
fail() {
  echo "test-deb: FAILED: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap and chroot need it)"
command -v debootstrap >/dev/null || fail "no debootstrap: bash tools/setup.sh --with-deb"

step "building the .deb"
cmake --build "$build" >/dev/null
rm -f "$build"/packages/troupe_*.deb
cpack --config "$build/CPackConfig.cmake" -G DEB >/dev/null
debs=("$build"/packages/troupe_*.deb)
[ -f "${debs[0]}" ] || fail "cpack wrote no troupe_*.deb under $build/packages"
deb=${debs[0]}
dpkg-deb -f "$deb" Package Version Depends

# The packed binary must not look for libraries in the build tree.
extract=$work/extract
rm -rf "$extract"
mkdir -p "$extract"
dpkg-deb -x "$deb" "$extract"
if readelf -d "$extract/usr/bin/troupe" | grep -E 'R(UN)?PATH'; then
  fail "usr/bin/troupe carries an RPATH"
fi

if [ ! -f "$work/base/.troupe-base-complete" ]; then
  step "debootstrap bookworm from $mirror"
  rm -rf "$work/base.tmp"
  debootstrap --variant=minbase bookworm "$work/base.tmp" "$mirror" \
    >"$work/debootstrap.log" 2>&1 \
    || fail "debootstrap failed, see $work/debootstrap.log"
  touch "$work/base.tmp/.troupe-base-complete"
  rm -rf "$work/base"
  mv "$work/base.tmp" "$work/base"
fi

step "a fresh root from the base"
# A run killed before its trap may have left /proc mounted in the root.
umount "$root/proc" 2>/dev/null || true
rm -rf --one-file-system "$root"
cp -a "$work/base" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root DEBIAN_FRONTEND=noninteractive "$@"; }

step "apt-get install ./$(basename "$deb")"
in_root apt-get update -qq
in_root sh -c "cd /tmp && apt-get install -y -qq --no-install-recommends ./$(basename "$deb")" \
  >"$work/apt.log" 2>&1 || fail "apt-get install failed, see $work/apt.log"

step "checking the installed troupe"
version=$(in_root troupe --version)
echo "$version"
[[ $version =~ ^troupe\ [0-9]+\.[0-9]+\.[0-9]+\ \(CAF\ [0-9.]+,\ Boost\ [0-9.]+,\ libcurl\ [0-9.]+\)$ ]] \
  || fail "troupe --version printed \"$version\""

# stub-smoke scripts one task per outcome: 47 succeed, 2 fail, 2 time out,
# 1 errors (exit 1), whatever machine it runs on.
set +e
in_root sh -c 'cd /tmp && troupe run /usr/share/troupe/examples/stub-smoke.json --out r.jsonl --progress never'
code=$?
set -e
[ $code -eq 1 ] || fail "troupe run stub-smoke.json exited $code, not 1"
summary=$(tail -n 1 "$root/tmp/r.jsonl")
[[ $summary == *'"counts":{"PENDING":0,"QUEUED":0,"RUNNING":0,"SUCCEEDED":47,"FAILED":2,"TIMEOUT":2,"CANCELLED":0,"ERROR":1}'* ]] \
  || fail "unexpected summary: $summary"
in_root troupe validate /usr/share/troupe/examples/dify-workflow.json

# An HTTP run: the binary loads libcurl only now (dlopen, not linked), so
# this checks that the Depends bring a libcurl it can load and call. The
# Dify example against troupe's own fake server, no faults: 300 tasks.
in_root sh -c 'cd /tmp && { troupe fake-dify --listen 127.0.0.1:5001 --api-key app-demo >fake.log 2>&1 & echo $! >fake.pid; }'
for _ in $(seq 100); do
  grep -q "listening on" "$root/tmp/fake.log" 2>/dev/null && break
  sleep 0.05
done
set +e
in_root sh -c 'cd /tmp && DIFY_API_KEY=app-demo troupe run /usr/share/troupe/examples/dify-workflow.json --out d.jsonl --progress never'
code=$?
set -e
kill "$(cat "$root/tmp/fake.pid")" 2>/dev/null || true
[ $code -eq 0 ] || fail "troupe run dify-workflow.json against fake-dify exited $code, not 0"
summary=$(tail -n 1 "$root/tmp/d.jsonl")
[[ $summary == *'"SUCCEEDED":300,'* ]] || fail "unexpected summary: $summary"

for f in /usr/share/man/man1/troupe.1 /usr/share/bash-completion/completions/troupe; do
  [ -s "$root$f" ] || fail "$f is missing"
done
if in_root sh -c 'command -v man' >/dev/null; then
  in_root man -w troupe
fi
in_root bash -c 'source /usr/share/bash-completion/completions/troupe && complete -p troupe' \
  || fail "the bash completion does not load"

step "ok: the .deb installs on a clean Debian 12 and runs an example"
