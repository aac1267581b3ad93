#!/usr/bin/env python3
"""Summarises the strategy benchmark's runs (see bench_strategies.sh): a markdown table on stdout and
regret curves (best-so-far against evaluations) as an SVG, written by hand (standard library only).

Usage: strategy_report.py TABLE.db RUNS_DIR SPACE_SIZE SVG_PATH STRATEGY...
"""
import glob
import os
import sqlite3
import statistics
import sys


def table_key(con):
    """The (task, fidelity) the table task replays: the one with the most scored candidates (TableTask)."""
    return con.execute(
        """SELECT task, fidelity FROM evaluations WHERE status IN ('ok', 'diverged') AND task NOT LIKE 'table:%'
           GROUP BY task, fidelity ORDER BY COUNT(DISTINCT candidate) DESC LIMIT 1""").fetchone()


def table_scores(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    # The reward a search sees (TableTask::score): the mean over the seeds, a diverged seed counting 0.
    rows = con.execute(
        """SELECT candidate, AVG(CASE WHEN status='ok' THEN val_acc ELSE 0 END) FROM evaluations
           WHERE status IN ('ok', 'diverged') AND task = ? AND fidelity = ? GROUP BY candidate""",
        table_key(con)).fetchall()
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


def first_hit(seq, threshold):
    return next((i + 1 for i, v in enumerate(seq) if v >= threshold), None)


def uniform_quantile(n, k, q):
    """Evaluations until the first of k hits among n candidates drawn uniformly without replacement: the
    smallest t with P(T <= t) >= q (exact: P(T > t) = prod_{i<t} (n - k - i) / (n - i))."""
    survive, t = 1.0, 0
    while 1.0 - survive < q:
        survive *= (n - k - t) / (n - t)
        t += 1
    return t


def uniform_cell(n, k):
    return (f"{uniform_quantile(n, k, .5)} [{uniform_quantile(n, k, .25)}, {uniform_quantile(n, k, .75)}] "
            f"(exact)")


def hits_cell(hits, runs, budget):
    """Median [p25, p75] of evaluations to the first hit; a run that never hit counts as > budget."""
    if not runs:
        return "-"
    found = [h for h in hits if h is not None]
    if len(found) * 2 <= len(runs):
        return f"> {budget} ({len(found)}/{len(runs)} found)"
    values = [h if h is not None else float("inf") for h in hits]
    fmt = lambda v: f"> {budget}" if v == float("inf") else f"{v:.0f}"
    return f"{fmt(pct(values, .5))} [{fmt(pct(values, .25))}, {fmt(pct(values, .75))}] ({len(found)}/{len(runs)})"


COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def write_svg(path, curves, best, budget, title):
    """curves: {strategy: [runs][evaluation] best-so-far}. Plots the median regret (best - best so far)
    with the interquartile band, on a log y axis, against evaluations."""
    w, h, left, right, top, bottom = 760, 440, 70, 170, 40, 50
    pw, ph = w - left - right, h - top - bottom
    floor = 1e-4  # regret 0 (the best found) is drawn at this floor of the log axis
    lo_exp, hi_exp = -4, -1
    import math

    def x_of(n):
        return left + pw * (n - 1) / max(1, budget - 1)

    def y_of(r):
        r = min(max(r, floor), 10 ** hi_exp)
        return top + ph * (hi_exp - math.log10(r)) / (hi_exp - lo_exp)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14">{title}</text>']
    for e in range(lo_exp, hi_exp + 1):
        y = y_of(10 ** e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        label = "0 (best)" if e == lo_exp else f"1e{e}"
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    step = max(1, round(budget / 5, -2)) if budget >= 500 else max(1, budget // 5)
    n = step
    while n <= budget:
        x = x_of(n)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{n}</text>')
        n += step
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 10}" text-anchor="middle">evaluations (trained candidates)</text>')
    out.append(f'<text x="16" y="{top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 {top + ph / 2})">'
               'regret: best in table - best found (log)</text>')
    for k, (name, runs) in enumerate(curves.items()):
        colour = COLOURS[k % len(COLOURS)]
        if not runs:
            continue
        stride = max(1, budget // 300)
        xs = list(range(1, budget + 1, stride)) + ([budget] if (budget - 1) % stride else [])
        med, q1, q3 = [], [], []
        for n in xs:
            regrets = [best - (r[n - 1] if n <= len(r) else r[-1]) for r in runs if r]
            med.append(pct(regrets, .5))
            q1.append(pct(regrets, .25))
            q3.append(pct(regrets, .75))
        band = [f"{x_of(n):.1f},{y_of(v):.1f}" for n, v in zip(xs, q1)] + \
               [f"{x_of(n):.1f},{y_of(v):.1f}" for n, v in zip(reversed(xs), reversed(q3))]
        out.append(f'<polygon points="{" ".join(band)}" fill="{colour}" fill-opacity="0.12" stroke="none"/>')
        line = " ".join(f"{x_of(n):.1f},{y_of(v):.1f}" for n, v in zip(xs, med))
        out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        ly = top + 14 + 18 * k
        out.append(f'<line x1="{left + pw + 12}" y1="{ly - 4}" x2="{left + pw + 36}" y2="{ly - 4}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{left + pw + 42}" y="{ly}">{name}</text>')
    out.append(f'<text x="{left + pw + 12}" y="{top + 14 + 18 * len(curves) + 10}" fill="#555">'
               'median, band: IQR</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    table, work, size, svg = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    strategies = sys.argv[5:]
    scores = table_scores(table)
    top1 = scores[max(0, len(scores) // 100 - 1)]     # the score of the last candidate in the top 1%
    top01 = scores[max(0, len(scores) // 1000 - 1)]   # ... in the top 0.1%
    best = scores[0]
    budget = (size + 3) // 4
    print(f"\nTop 1%: reward >= {top1:.4f} ({sum(v >= top1 for v in scores)} candidates); top 0.1%: reward >= "
          f"{top01:.4f} ({sum(v >= top01 for v in scores)}); best in table {best:.4f}; space = {size} trained "
          "candidates.\n")
    print("| strategy | runs | evals to first top-1%: median [p25, p75] (found) | evals to first top-0.1% | "
          "best after 5% | best after 10% | best after 25% | new candidates' mean reward, first 150 -> last 150 "
          "| diverged, first 150 -> last 150 |")
    print("|---|---|---|---|---|---|---|---|---|")
    # The reference no search should lose to: uniform draws over the functionally unique candidates, whose
    # distribution of the first hit is known exactly (the random strategy draws raw candidates instead,
    # so large equivalence classes come up more often).
    k1, k01 = sum(v >= top1 for v in scores), sum(v >= top01 for v in scores)
    print(f"| uniform over unique candidates | exact | {uniform_cell(len(scores), k1)} | "
          f"{uniform_cell(len(scores), k01)} | - | - | - | - | - |")
    curves = {}
    for s in strategies:
        runs = sorted(glob.glob(os.path.join(work, f"{s}-*.db")))
        hits1, hits01, after = [], [], {0.05: [], 0.10: [], 0.25: []}
        head, tail, head_div, tail_div = [], [], [], []
        curves[s] = []
        for r in runs:
            seq = run_sequence(r)
            hits1.append(first_hit(seq, top1))
            hits01.append(first_hit(seq, top01))
            if len(seq) >= 300:
                head.append(statistics.mean(seq[:150]))
                tail.append(statistics.mean(seq[-150:]))
                head_div.append(sum(v == 0.0 for v in seq[:150]) / 150)
                tail_div.append(sum(v == 0.0 for v in seq[-150:]) / 150)
            for frac in after:
                n = int(round(frac * size))
                after[frac].append(max(seq[:n]) if seq[:n] else 0.0)
            so_far, running = [], 0.0
            for v in seq[:budget]:
                running = max(running, v)
                so_far.append(running)
            curves[s].append(so_far)
        cells = [f"{statistics.median(v):.4f} [{pct(v, .25):.4f}, {pct(v, .75):.4f}]" for v in after.values()]
        drift = (f"{statistics.median(head):.3f} -> {statistics.median(tail):.3f}" if head else "-")
        div = (f"{100 * statistics.median(head_div):.0f}% -> {100 * statistics.median(tail_div):.0f}%" if head else "-")
        print(f"| {s} | {len(runs)} | {hits_cell(hits1, runs, budget)} | {hits_cell(hits01, runs, budget)} | "
              + " | ".join(cells) + f" | {drift} | {div} |")
    print("\nEvaluations to the first hit: median [25th, 75th percentile] over runs, (runs that found one); a "
          "run that found none within the budget counts as more than the budget. 'best after p%': median "
          "[25th, 75th percentile] over runs of the best table reward among the first p% x space evaluations "
          "(the budget stops at 25%). The last two columns: medians over runs of the mean reward (0 when "
          "diverged) and of the diverged share among the first and the last 150 candidates each run trained; "
          "re-proposed candidates are answered from the database and do not appear there.")
    write_svg(svg, curves, best, budget,
              f"Regret against evaluations, {os.path.basename(table)}, {len(next(iter(curves.values()), []))} seeds")


if __name__ == "__main__":
    main()
