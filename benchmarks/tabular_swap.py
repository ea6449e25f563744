"""Tabular rows before and after the neighbour swap: the single-view estimators' default runs on the tabular sets.

Usage::

    python benchmarks/tabular_swap.py        # reads results/runs.jsonl, writes results/tabular_swap.md

Since commit ``SINCE``, HaDis, SeCu and MTDC make an augmented copy of a tabular row by taking each entry, with
probability 0.5, from one of the row's 10 nearest rows before the feature noise (``augment.NeighborSwap``); before
it, they replaced a fifth of the entries by the feature mean. Image fits are unchanged. The runs are ``run_all.py``'s
default rows (``--force`` reruns a cell at the current commit; earlier runs stay in the file): *before* is, per seed,
the latest run made before ``SINCE``, *after* the latest one made from it on. The best baseline is the suite's.
"""

from __future__ import annotations

import json

import numpy as np
from _table import code_of, mean_std
from run_all import BASELINES, RESULTS, SUITE, TABULAR, row_of
from suite_report import _descends

SINCE = "6e7486f"
METHODS = ("HaDis", "SeCu", "MTDC")
OUT = RESULTS / "tabular_swap.md"


def _runs() -> dict:
    """``{(row, dataset): {"before": {seed: run}, "after": {seed: run}}}``, the latest run per seed on each side."""
    out = {}
    for line in (RESULTS / "runs.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        row = row_of(r)
        if row is None or r["dataset"] not in TABULAR:
            continue
        side = "after" if r.get("commit") and _descends(r["commit"], SINCE) else "before"
        out.setdefault((row, r["dataset"]), {"before": {}, "after": {}})[side][r["seed"]] = r
    return out


def _cell(runs: dict) -> tuple[str, str, str, str]:
    if not runs:
        return "not run", "", "", ""
    seeds = sorted(runs)
    accs = [runs[s]["acc"] for s in seeds]
    sec = np.mean([runs[s]["sec"] for s in seeds])
    return (mean_std(accs, 3), ",".join(map(str, seeds)), f"{sec:.0f}", code_of(list(runs.values())))


def main() -> None:
    runs = _runs()
    lines = ["# Tabular rows: the neighbour swap", "", __doc__.split("\n\n", 2)[2].strip().replace("``SINCE``",
             f"`{SINCE}`").replace("``", "`"), "",
             "ACC, mean ± sample standard deviation over the seeds listed; CPU seconds per fit, one torch thread.", "",
             "| half | set | estimator | before | seeds | after | seeds | change | best baseline | margin after "
             "| s before | s after | code after |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for half in ("development", "validation"):
        for ds in [d for d in SUITE[half] if d in TABULAR]:
            base = {b: np.mean([r["acc"] for r in s["before"].values()] + [r["acc"] for r in s["after"].values()])
                    for (b, d), s in runs.items() if d == ds and b in BASELINES}
            best = max(base, key=base.get) if base else None
            for m in METHODS:
                sides = runs.get((m, ds), {"before": {}, "after": {}})
                b, a = _cell(sides["before"]), _cell(sides["after"])
                both = sorted(set(sides["before"]) & set(sides["after"]))
                change = (f"{np.mean([sides['after'][s]['acc'] - sides['before'][s]['acc'] for s in both]):+.3f}"
                          if both else "")
                margin = (f"{np.mean([r['acc'] for r in sides['after'].values()]) - base[best]:+.3f}"
                          if best and sides["after"] else "")
                lines.append(f"| {half[:3]} | {ds} | {m} | {b[0]} | {b[1]} | {a[0]} | {a[1]} | {change} | "
                             f"{f'{best} {base[best]:.3f}' if best else ''} | {margin} | {b[2]} | {a[2]} | {a[3]} |")
    lines += ["", "`change`: mean over the seeds run on both sides of after minus before."]
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
