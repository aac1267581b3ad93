#!/usr/bin/env bash
# Installs actsearch's dependencies from Debian's packages (idempotent) and builds it into build/.
# Usage: bash scripts/setup.sh [--portable] [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make pkg-config
  libboost-dev          # Spirit X3 (headers only)
  libfmt-dev libsqlite3-dev sqlite3 libeigen3-dev libcli11-dev zlib1g-dev nlohmann-json3-dev
  libdnnl-dev ocl-icd-opencl-dev  # oneDNN: convolutions (its CMake config looks for OpenCL, a Recommends)
  libgtest-dev libbenchmark-dev
  libopenmpi-dev openmpi-bin
  dataset-fashion-mnist # /usr/share/datasets/fashion-mnist
)

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

native=ON
type=Release
for arg in "$@"; do
  case "$arg" in
    --portable) native=OFF ;;
    --debug) type=Debug ;;
    *) echo "setup: unknown option $arg (use --portable or --debug)" >&2; exit 2 ;;
  esac
done

cmake -S . -B build -DCMAKE_BUILD_TYPE="$type" -DACTSEARCH_NATIVE="$native" > build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build -j"$(nproc)" >> build.log 2>&1 || { tail -n 60 build.log; echo "setup: build failed (full log: build.log)" >&2; exit 1; }
echo "setup: built build/actsearch ($(build/actsearch --version))"
