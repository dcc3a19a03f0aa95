#!/usr/bin/env bash
# Installs everything troupe needs to build, test and benchmark on Debian 12,
# as root, with apt-get. Does nothing when every package is already there.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make ninja-build pkgconf clang-format git
  # libraries: CAF 0.17.6, Boost 1.81 (headers, JSON, Test), libcurl, OpenSSL
  libcaf-dev
  libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev
  libcurl4-openssl-dev libssl-dev libjemalloc-dev
  # command lines (CLI11, header-only) and formatting (fmt)
  libcli11-dev libfmt-dev
  # fuzzing (tools/fuzz.sh): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # tests and benchmarks: certificates, load generator, bench scripts
  openssl procps wrk python3
  # B9's second part (bench/aiohttp_streams.py): the Python client that
  # troupe's streams are measured beside (Debian's 3.8.4)
  python3-aiohttp
  # tests: JUnit XML checked against tests/schemas/junit.xsd (xmllint); the
  # summary JSON against docs/summary.schema.json and manifests against
  # config/manifest.schema.json with Debian's jsonschema (draft 2020-12)
  libxml2-utils python3-jsonschema
)

# Optional: a headless browser to look at `troupe report --html` output
# (tools/screenshot.sh). Not needed to build or test.
for flag in "$@"; do
  case "$flag" in
    --with-browser) packages+=(chromium) ;;
    # file: CPackDeb needs it for dpkg-shlibdeps, and dpkg-dev does not
    # pull it in.
    --with-deb) packages+=(dpkg-dev debootstrap file) ;;
    *) echo "setup.sh: unknown flag $flag (--with-browser, --with-deb)" >&2
       exit 2 ;;
  esac
done

# Optional: the .deb (cpack -G DEB derives its Depends with dpkg-shlibdeps,
# from dpkg-dev) and tools/test-deb.sh, which installs it in a clean Debian
# 12 root made by debootstrap. Not needed to build or test.

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "setup: missing packages (${missing[*]}); run this script as root" >&2
    exit 1
  fi
else
  SUDO=
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
