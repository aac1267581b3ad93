#!/usr/bin/env python3
"""Summarises the strategy benchmark's runs (see bench_strategies.sh) as a markdown table."""
import glob
import os
import sqlite3
import statistics
import sys


def table_scores(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    # A diverged candidate scores 0, as the search's reward does.
    rows = con.execute(
        """SELECT candidate, AVG(CASE WHEN status='ok' THEN val_acc ELSE 0 END) FROM evaluations
           WHERE status IN ('ok', 'diverged') GROUP BY candidate""").fetchall()
    return sorted((r[1] for r in rows), reverse=True)


def run_sequence(path):
    """Rewards of the candidates each run trained (looked up), in the order it evaluated them."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = con.execute(
        "SELECT status, val_acc FROM evaluations WHERE task LIKE 'table:%' AND status != 'invalid' ORDER BY id"
    ).fetchall()
    return [acc if status == "ok" else 0.0 for status, acc in rows]


def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    i = (len(values) - 1) * q
    lo, hi = int(i), min(int(i) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (i - lo)


def main():
    table, work, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    strategies = sys.argv[4:]
    scores = table_scores(table)
    top1 = scores[max(0, len(scores) // 100 - 1)]   # the score of the last candidate in the top 1%
    best = scores[0]
    print(f"\nTop-1% threshold: val_acc >= {top1:.4f} (best in table {best:.4f}); space = {size} trained candidates.\n")
    print("| strategy | runs | evals to first top-1% (median [p25, p75]) | found top-1% | best after 5% | best after 10% | best after 25% | new candidates' mean reward, first 150 -> last 150 | diverged, first 150 -> last 150 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in strategies:
        runs = sorted(glob.glob(os.path.join(work, f"{s}-*.db")))
        firsts, found, after = [], 0, {0.05: [], 0.10: [], 0.25: []}
        head, tail, head_div, tail_div = [], [], [], []
        for r in runs:
            seq = run_sequence(r)
            hit = next((i + 1 for i, v in enumerate(seq) if v >= top1), None)
            if hit is not None:
                found += 1
                firsts.append(hit)
            if len(seq) >= 300:
                head.append(statistics.mean(seq[:150]))
                tail.append(statistics.mean(seq[-150:]))
                head_div.append(sum(v == 0.0 for v in seq[:150]) / 150)
                tail_div.append(sum(v == 0.0 for v in seq[-150:]) / 150)
            for frac in after:
                n = int(round(frac * size))
                after[frac].append(max(seq[:n]) if seq[:n] else 0.0)
        first = (f"{statistics.median(firsts):.0f} [{pct(firsts, .25):.0f}, {pct(firsts, .75):.0f}]"
                 if firsts else "never")
        cells = [f"{statistics.median(v):.4f} ± {statistics.pstdev(v):.4f}" for v in after.values()]
        drift = (f"{statistics.median(head):.3f} -> {statistics.median(tail):.3f}" if head else "-")
        div = (f"{100 * statistics.median(head_div):.0f}% -> {100 * statistics.median(tail_div):.0f}%" if head else "-")
        print(f"| {s} | {len(runs)} | {first} | {found}/{len(runs)} | " + " | ".join(cells) + f" | {drift} | {div} |")
    print("\n'best after p%': median ± standard deviation over runs of the best table score among the first "
          "p% x space evaluations (the budget stops at 25%). The last two columns: medians over runs of the mean "
          "reward (0 when diverged) and of the diverged share among the first and the last 150 candidates each "
          "run trained; re-proposed candidates are answered from the database and do not appear there.")


if __name__ == "__main__":
    main()
