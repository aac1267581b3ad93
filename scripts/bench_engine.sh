#!/usr/bin/env bash
# Engine benchmark: actsearch vs PyTorch (with OpenBLAS) on fmnist-mlp and fmnist-cnn, one thread each,
# interleaved, CPU seconds per seed, plus a per-layer breakdown of both training steps (a benchmark, not
# a test; see scripts/bench_engine.py for what is measured). Prints a markdown report on stdout.
#   scripts/bench_engine.sh [--quick] [--rounds N] [--tasks fmnist-mlp,fmnist-cnn] [--bin build/actsearch]
#                           [--baseline-bin OLD/actsearch] [--bf16] [--layers-bin build/tests/bench_layers] [--data-dir DIR]
# --bf16 also times actsearch with --precision bf16 on fmnist-cnn (PyTorch stays fp32).
# Installs Debian's python3-torch and GNU time when missing (used only by this benchmark).
#
# Debian's python3-torch does its matrix products through the system libblas.so.3, which is the
# reference (netlib) BLAS unless an optimised one is installed: PyTorch would then run GEMMs at a few
# GFLOP/s and any comparison would flatter actsearch. So PyTorch always gets OpenBLAS for this run: the
# script fetches Debian's libopenblas0-pthread package with `apt-get download` into
# ~/.cache/actsearch/bench-openblas, unpacks it there and puts it first on PyTorch's library path
# (nothing is installed; the system's BLAS alternative is left alone). PyTorch's convolutions run on
# its own bundled oneDNN.
set -euo pipefail
cd "$(dirname "$0")/.."

install_missing() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench_engine: missing $*; install with: sudo apt-get install -y $*" >&2
        exit 1
    fi
    apt-get install -y "$@" >&2
}

/usr/bin/python3 -c 'import torch' 2>/dev/null || install_missing python3-torch
[ -x /usr/bin/time ] || install_missing time

cache="${XDG_CACHE_HOME:-$HOME/.cache}/actsearch/bench-openblas"
lib="$cache/root/usr/lib/x86_64-linux-gnu/openblas-pthread"
if [ ! -e "$lib/libblas.so.3" ]; then
    mkdir -p "$cache"
    (cd "$cache" && apt-get download libopenblas0-pthread >&2)
    dpkg-deb -x "$cache"/libopenblas0-pthread_*.deb "$cache/root"
fi
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# --torch-openblas (what this used to need) is now always on: accepted and dropped.
args=()
for a in "$@"; do [ "$a" = "--torch-openblas" ] || args+=("$a"); done

export ACTSEARCH_BENCH_COMMAND="scripts/bench_engine.sh $*"
exec /usr/bin/python3 scripts/bench_engine.py ${args[@]+"${args[@]}"}
