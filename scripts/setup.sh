#!/usr/bin/env bash
# Installs actsearch's dependencies from Debian's packages (idempotent) and builds it into build/.
# Usage: bash scripts/setup.sh [--portable] [--debug] [--no-browser]
# --no-browser: do not install chromium (the HTML report's browser test then skips).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make pkg-config
  libboost-dev          # Spirit X3 (headers only)
  libfmt-dev libsqlite3-dev sqlite3 libeigen3-dev libcli11-dev zlib1g-dev nlohmann-json3-dev
  libgtest-dev libbenchmark-dev
  libopenmpi-dev openmpi-bin
  dataset-fashion-mnist # /usr/share/datasets/fashion-mnist
  help2man              # the man page
  dpkg-dev file         # cpack -G DEB: dpkg-shlibdeps finds the package's Depends
)
# For the tests only: the HTML report is checked in a real (headless) browser.
test_packages=(chromium)

native=ON
type=Release
browser=1
for arg in "$@"; do
  case "$arg" in
    --portable) native=OFF ;;
    --debug) type=Debug ;;
    --no-browser) browser=0 ;;
    *) echo "setup: unknown option $arg (use --portable, --debug or --no-browser)" >&2; exit 2 ;;
  esac
done
if ((browser)); then packages+=("${test_packages[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE="$type" -DACTSEARCH_NATIVE="$native" > build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build -j"$(nproc)" >> build.log 2>&1 || { tail -n 60 build.log; echo "setup: build failed (full log: build.log)" >&2; exit 1; }
echo "setup: built build/actsearch ($(build/actsearch --version))"
