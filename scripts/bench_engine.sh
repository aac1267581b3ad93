#!/usr/bin/env bash
# Engine benchmark: actsearch vs PyTorch on fmnist-mlp and fmnist-cnn, one thread each (a benchmark,
# not a test; see scripts/bench_engine.py for what is measured). Prints a markdown report on stdout.
#   scripts/bench_engine.sh [--quick] [--tasks fmnist-mlp,fmnist-cnn] [--bin build/actsearch] [--data-dir DIR]
# Installs Debian's python3-torch and GNU time when missing (used only by this benchmark).
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

exec /usr/bin/python3 scripts/bench_engine.py "$@"
