#!/usr/bin/env python3
"""Markdown table of the proxy recipes measured by scripts/fidelity_sweep.sh.

Usage: python3 scripts/fidelity_table.py [scripts/results/fidelity/*.json] > scripts/results/fidelity.md
One row per recipe: Spearman against the reference with its 95% bootstrap interval, the median
per-seed standard deviation (points of accuracy), the diverged share, and CPU seconds per
candidate-seed (measured when the evaluations were trained; 'reused' when all came from the database).
"""
import glob
import json
import os
import sys


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def main(paths):
    if not paths:
        paths = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "results", "fidelity", "*.json")))
    print("| recipe | task | fidelity | seeds | Spearman [95% CI] | median seed std (points) | diverged | CPU-s / candidate-seed |")
    print("|---|---|---|---:|---|---:|---:|---:|")
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        name = os.path.splitext(os.path.basename(p))[0]
        lo, hi = d["spearman_ci95"]
        rho = d["spearman"]
        std = d["median_seed_std"]
        cpu = d["cpu_seconds_per_eval"]
        print(f"| {name} | {d['task']} | `{d['fidelity']}` | {d['seeds']} | "
              f"{fmt(rho, '.2f')} [{fmt(lo, '.2f')}, {fmt(hi, '.2f')}] | "
              f"{fmt(None if std is None else 100 * std, '.2f')} | {100 * d['diverged_share']:.0f}% | "
              f"{fmt(cpu, '.2f') if cpu is not None else 'reused'} |")


if __name__ == "__main__":
    main(sys.argv[1:])
