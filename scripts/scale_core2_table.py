#!/usr/bin/env python3
"""The table of the paper-core2 scale test (scripts/scale_core2.sh): per strategy, over its runs, the best
score found, the mean of the 10 best, and the diverged share of what it trained; each as the mean over
runs with the runs' minimum and maximum, and every run's value.

Usage: python3 scripts/scale_core2_table.py [scripts/results/scale-core2]
"""
import glob
import os
import re
import sqlite3
import statistics
import sys

folder = sys.argv[1] if len(sys.argv) > 1 else "scripts/results/scale-core2"
runs = {}
for path in sorted(glob.glob(os.path.join(folder, "*.db"))):
    m = re.match(r"(.+)-(\d+)\.db$", os.path.basename(path))
    if not m:
        continue
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = db.execute("SELECT status, val_acc FROM evaluations WHERE task = 'fmnist-cnn14'").fetchall()
    db.close()
    scores = sorted((v for s, v in rows if s == "ok" and v is not None), reverse=True)
    trained = sum(1 for s, _ in rows if s in ("ok", "diverged"))
    if not scores:
        continue
    runs.setdefault(m.group(1), []).append({
        "seed": int(m.group(2)), "trained": trained, "best": scores[0],
        "top10": statistics.mean(scores[:10]), "diverged": 1 - len(scores) / trained})


def cell(values, digits=4):
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} [{min(values):.{digits}f}, {max(values):.{digits}f}]"


print("| strategy | runs | trained per run | best found: mean [min, max] | top-10 mean: mean [min, max] | diverged | per run (best / top-10) |")
print("|---|---:|---:|---|---|---:|---|")
for s in ("random", "evolution", "rl", "surrogate"):
    if s not in runs:
        continue
    r = sorted(runs[s], key=lambda x: x["seed"])
    per_run = "; ".join(f"seed {x['seed']}: {x['best']:.4f} / {x['top10']:.4f}" for x in r)
    print(f"| {s} | {len(r)} | {', '.join(str(x['trained']) for x in r)} | {cell([x['best'] for x in r])} | "
          f"{cell([x['top10'] for x in r])} | {statistics.mean(x['diverged'] for x in r):.0%} | {per_run} |")
