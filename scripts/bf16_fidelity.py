#!/usr/bin/env python3
"""Summarises scripts/bf16_fidelity.sh: bf16 against fp32 convolutions on the judge recipe.

For each reference function, the paired difference bf16 - fp32 over the same seeds, and across
functions: each precision's Spearman rho with the Swish paper (and its bootstrap interval, from
`actsearch fidelity`), the rho between the two precisions' means, their median seed std, and the CPU
seconds per seed from the interleaved timing.
"""
import csv
import json
import math
import os
import statistics
import sys

from rank_stats import spearman


def per_seed(fn):
    # A diverged seed scores 0, as a search's reward counts it.
    return {s["seed"]: (s["val_acc"] if s["status"] == "ok" else 0.0) for s in fn["seeds"]}


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "scripts/results/bf16"
    runs = {p: json.load(open(os.path.join(folder, f"{p}.json"))) for p in ("fp32", "bf16")}
    fp32 = {f["canonical"]: f for f in runs["fp32"]["functions"]}
    bf16 = {f["canonical"]: f for f in runs["bf16"]["functions"]}
    names = [n for n in fp32 if n in bf16]
    lines = ["# bf16 against fp32 convolutions on the judge (fmnist-cnn, cnn-cos-recal)", "",
             f"`bash scripts/bf16_fidelity.sh` ({runs['bf16']['fidelity']}; seeds {runs['bf16']['seeds']}); "
             "differences are paired: the same seed in both precisions (a diverged seed counts 0).", "",
             "| function | fp32 mean | bf16 mean | bf16 - fp32 (mean, points) | paired std (points) |",
             "|---|---:|---:|---:|---:|"]
    diffs, within = [], 0
    for n in names:
        a, b = per_seed(fp32[n]), per_seed(bf16[n])
        common = sorted(set(a) & set(b))
        d = [100 * (b[s] - a[s]) for s in common]
        md = statistics.mean(d)
        sd = statistics.stdev(d) if len(d) > 1 else float("nan")
        se = sd / math.sqrt(len(d)) if len(d) > 1 else float("nan")
        within += abs(md) <= 2 * se
        diffs.append(md)
        lines.append(f"| `{n}` | {statistics.mean(a[s] for s in common):.4f} | {statistics.mean(b[s] for s in common):.4f} "
                     f"| {md:+.2f} | {sd:.2f} |")
    mean_a = [fp32[n]["score"] for n in names]
    mean_b = [bf16[n]["score"] for n in names]
    lines += ["",
              f"- Spearman with the paper: fp32 **{runs['fp32']['spearman']:.3f}** {runs['fp32']['spearman_ci95']}, "
              f"bf16 **{runs['bf16']['spearman']:.3f}** {runs['bf16']['spearman_ci95']} (bootstrap 95%)",
              f"- Spearman between the two precisions' means over the {len(names)} functions: "
              f"**{spearman(mean_a, mean_b):.3f}**",
              f"- median per-function seed std: fp32 {100 * runs['fp32']['median_seed_std']:.2f} points, "
              f"bf16 {100 * runs['bf16']['median_seed_std']:.2f} points",
              f"- paired difference bf16 - fp32: mean over functions {statistics.mean(diffs):+.2f} points, "
              f"largest |difference| {max(abs(x) for x in diffs):.2f}; {within} of {len(names)} functions "
              "within 2 standard errors of 0",
              f"- diverged share: fp32 {runs['fp32']['diverged_share']:.3f}, bf16 {runs['bf16']['diverged_share']:.3f}"]
    timing = os.path.join(folder, "timing.csv")
    if os.path.exists(timing):
        cpu = {}
        for row in csv.reader(open(timing)):
            rnd, expr, p, t = row[0], row[1], row[2], row[3]
            user, sys_ = (float(x) for x in t.split())
            cpu.setdefault(expr, {}).setdefault(p, []).append(user + sys_)
        lines += ["", "CPU seconds of one seed (training, validation and data loading; 1 thread; median over "
                  "interleaved rounds):", "", "| function | fp32 s | bf16 s | fp32 / bf16 |", "|---|---:|---:|---:|"]
        ratios = []
        for expr, v in cpu.items():
            a, b = statistics.median(v["fp32"]), statistics.median(v["bf16"])
            ratios.append(a / b)
            lines.append(f"| `{expr}` | {a:.2f} | {b:.2f} | {a / b:.2f}x |")
        lines.append(f"\nMedian speed-up of bf16: **{statistics.median(ratios):.2f}x**")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
