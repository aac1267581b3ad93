#!/usr/bin/env python3
"""Where the Swish paper's top functions land in a rediscovery run (scripts/rediscovery.sh).

Usage: python3 scripts/rediscovery_table.py DB EXPR...
Reads everything through the actsearch binary (ACTSEARCH, default build/actsearch): the ladder's rung
views (`leaderboard --rung K`), and each function's scores (`show --format json`). For each function:
its screen score and rank among every screened candidate, the highest rung it reached in
the search, its judge mean with the 95% interval over 5 seeds, its rank among the candidates judged
with 5 seeds, and whether Welch's test can tell it from the best of those (the leaderboard's `tie`).
"""
import json
import os
import subprocess
import sys

BIN = os.environ.get("ACTSEARCH", "build/actsearch")


def cli(*args):
    out = subprocess.run([BIN, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def group_of(show):
    c = show["candidate"]
    return None if c is None else (c["representative"] or c["id"])


def rank_of(rows, group, mean):
    """1-based rank of `group` in rows (best first); by mean when it is not among them."""
    for i, r in enumerate(rows):
        if r["id"] == group:
            return i + 1, True
    return 1 + sum(1 for r in rows if r["mean"] is not None and mean is not None and r["mean"] > mean), False


def main(db, exprs):
    rungs = [cli("leaderboard", "--db", db, "--rung", str(k), "--top", "0", "--format", "json") for k in (1, 2, 3)]
    screen, judge = rungs[0][0], rungs[1][0]
    s_task, s_fid, j_task, j_fid = screen["task"], screen["fidelity"], judge["task"], judge["fidelity"]
    # Every candidate with 5 judge seeds: the final rung and the functions evaluated by the script.
    five = cli("leaderboard", "--db", db, "--all", "--task", j_task, "--fidelity", j_fid, "--min-seeds", "5",
               "--top", "0", "--format", "json")
    members = [{r["id"] for r in rung} for rung in rungs]
    print(f"Screen: {s_task} `{s_fid}`, {len(rungs[0])} candidates screened; "
          f"judge: {j_task} `{j_fid}`, {len(rungs[1])} promoted (2 seeds), {len(rungs[2])} on the final rung "
          f"(5 seeds). {len(five)} candidates have 5 judge seeds (the final rung and the functions below).\n")
    print("| function | screen score | screen rank | reached | judge mean [95% CI] (5 seeds) | judge rank (of 5-seed) | tie with best |")
    print("|---|---:|---:|---|---:|---:|---|")
    for e in exprs:
        try:
            show = cli("show", e, "--db", db, "--format", "json")
        except subprocess.CalledProcessError:
            print(f"| `{e}` | not stored | | | | | |")
            continue
        g = group_of(show)
        scores = {(s["task"], s["fidelity"]): s for s in show.get("scores", [])}
        s = scores.get((s_task, s_fid))
        j = scores.get((j_task, j_fid))
        reached = "-"
        for k in (3, 2, 1):
            if g in members[k - 1]:
                reached = f"rung {k}"
                break
        s_text = "-" if not s or s["mean"] is None else f"{s['mean']:.4f}" + (
            f" +- {s['stddev']:.4f} ({s['seeds']} seeds)" if s["stddev"] is not None else "")
        s_rank = "-" if not s else "{} of {}{}".format(*rank_of(rungs[0], g, s["mean"])[:1], len(rungs[0]),
                                                      "" if rank_of(rungs[0], g, s["mean"])[1] else " (not in the space)")
        if j and j["mean"] is not None:
            ci = "" if j["ci_low"] is None else f" [{j['ci_low']:.4f}, {j['ci_high']:.4f}]"
            j_text = f"{j['mean']:.4f}{ci}"
            rank, _ = rank_of(five, g, j["mean"])
            row = next((r for r in five if r["id"] == g), None)
            tie = "-" if row is None or row["tie"] is None else ("best" if rank == 1 else ("yes" if row["tie"] else "no"))
            j_rank = f"{rank} of {len(five)}"
        else:
            j_text, j_rank, tie = "-", "-", "-"
        print(f"| `{e}` | {s_text} | {s_rank} | {reached} | {j_text} | {j_rank} | {tie} |")
    print("\nThe final rung (5 judge seeds):\n")
    print("| rank | mean [95% CI] | tie | expression |")
    print("|---:|---:|---|---|")
    for i, r in enumerate(rungs[2]):
        ci = "" if r["ci_low"] is None else f" [{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
        tie = "-" if r["tie"] is None else ("best" if i == 0 else ("yes" if r["tie"] else "no"))
        print(f"| {i + 1} | {r['mean']:.4f}{ci} | {tie} | `{r['expression']}` |")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: rediscovery_table.py DB EXPR...")
    main(sys.argv[1], sys.argv[2:])
