#!/usr/bin/env bash
# Installs actsearch's dependencies from Debian's packages (idempotent) and builds it into build/.
# Says what it does: the packages it installs, configuring, and the build's progress (one updating line
# on a terminal, a line per 10% otherwise, e.g. in CI); the full log goes to build.log, whose tail is
# shown on failure.
# Usage: bash scripts/setup.sh [--portable] [--debug] [--no-browser]
# --no-browser: do not install chromium (the HTML report's browser test then skips).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

packages=(
  g++ cmake make pkg-config
  libboost-dev          # Spirit X3 (headers only)
  libfmt-dev libsqlite3-dev sqlite3 libeigen3-dev libcli11-dev zlib1g-dev nlohmann-json3-dev
  libtomlplusplus-dev   # task files (TOML; used header-only)
  libdnnl-dev ocl-icd-opencl-dev  # oneDNN: convolutions (its CMake config looks for OpenCL, a Recommends)
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

. scripts/lib/packages.sh
ensure_packages setup "${packages[@]}"

# The build's output (make's "[ 42%]" or ninja's "[12/80]" lines) as a percentage: one line rewritten in
# place on a terminal, one line per 10% otherwise. Read line by line in bash: awk (mawk) would buffer
# the pipe and report late.
progress() {
  local tty=0 best=0 shown=0 p line
  local make_re='^\[ *([0-9]+)%\]' ninja_re='^\[([0-9]+)/([0-9]+)\]'
  [ -t 1 ] && tty=1
  while IFS= read -r line; do
    if [[ $line =~ $make_re ]]; then
      p=$((10#${BASH_REMATCH[1]}))
    elif [[ $line =~ $ninja_re ]] && ((BASH_REMATCH[2] > 0)); then
      p=$((100 * BASH_REMATCH[1] / BASH_REMATCH[2]))
    else
      continue
    fi
    ((p > best)) || continue
    best=$p
    if ((tty)); then
      printf '\rsetup: building %3d%%' "$p"
    elif ((p / 10 > shown / 10)); then
      echo "setup: building $p%"
      shown=$p
    fi
  done
  if ((tty && best > 0)); then printf '\n'; fi
  return 0
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
