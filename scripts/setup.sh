#!/usr/bin/env bash
# Installs actsearch's dependencies from Debian's packages (idempotent) and builds it into build/.
# Says what it does: the packages it installs, configuring, and the build's progress (one updating line
# on a terminal, a line per 10% otherwise, e.g. in CI); the full log goes to build.log, whose tail is
# shown on failure.
# Usage: bash scripts/setup.sh [--portable] [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

packages=(
  g++ cmake make pkg-config
  libboost-dev          # Spirit X3 (headers only)
  libfmt-dev libsqlite3-dev sqlite3 libeigen3-dev libcli11-dev zlib1g-dev nlohmann-json3-dev
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
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: the ${#packages[@]} Debian packages needed are installed"
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

# The build's output (make's "[ 42%]" or ninja's "[12/80]" lines) as a percentage: one line rewritten in
# place on a terminal, one line per 10% otherwise.
progress() {
  local tty=0
  [ -t 1 ] && tty=1
  awk -v tty="$tty" '
    function show(p) {
      if (p <= best) return
      best = p
      if (tty) { printf "\rsetup: building %3d%%", p; fflush() }
      else if (int(p / 10) > int(shown / 10)) { printf "setup: building %d%%\n", p; fflush(); shown = p }
    }
    match($0, /^\[ *[0-9]+%\]/) { show(substr($0, RSTART + 1, RLENGTH - 3) + 0) }
    match($0, /^\[[0-9]+\/[0-9]+\]/) { split(substr($0, 2, RLENGTH - 2), n, "/"); if (n[2] > 0) show(int(100 * n[1] / n[2])) }
    END { if (tty && best > 0) printf "\n" }'
}

echo "setup: configuring build/ ($type, native $native; log: build.log)"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$type" -DACTSEARCH_NATIVE="$native" > build.log 2>&1 || { cat build.log; exit 1; }
echo "setup: building with $(nproc) jobs (several minutes on a small machine)"
if ! cmake --build build -j"$(nproc)" 2>&1 | tee -a build.log | progress; then
  tail -n 60 build.log
  echo "setup: build failed (full log: build.log)" >&2
  exit 1
fi
echo "setup: built build/actsearch ($(build/actsearch --version)) in $((SECONDS - start))s"
