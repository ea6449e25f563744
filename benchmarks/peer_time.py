"""Time beside the peers: fit seconds and ACC of the defaults against mvlearn and ClustPy at theirs, and how soon a
default fit passes the best peer.

Usage::

    python benchmarks/peer_time.py    # reads results/runs.jsonl and results/convergence/, writes results/peer_time.md

No fit runs here. Every number comes from a cached run of ``run_all.py`` (one torch thread; peer rows with
``--methods``, see ``results/studies/peers.md``) or from a per-epoch trajectory of ``convergence.py record`` (the
CPU seconds at which a default fit's labels first reach a given ACC; those seconds include the per-epoch labelling
and scoring that the recording adds, so they are upper bounds).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _table import mean_std
from convergence import fit_cpu
from run_all import PEERS, RESULTS, _cache

#: the three sets of the table: two image sets where ClustPy ran, one multi-view set where mvlearn ran
SETS = {"digits": ["SeCu", "MTDC", "HaDis", "SPC"], "COIL-20": ["SeCu", "MTDC", "HaDis", "SPC"],
        "digits-views": ["DistilMVC"]}
TRAJECTORIES = RESULTS / "convergence"


def _cpu(r: dict) -> float | None:
    return r.get("cpu_sec")


def _rows(runs: list[dict], dataset: str, row: str) -> list[dict]:
    return [r for r in runs if r["dataset"] == dataset and r["method"] == row]


def _line(name: str, rs: list[dict], note: str = "") -> str:
    cpu = [c for c in map(_cpu, rs) if c is not None]
    seeds = ",".join(str(r["seed"]) for r in sorted(rs, key=lambda r: r["seed"]))
    return (f"| {name} | {mean_std([r['acc'] for r in rs], 3)} | {seeds} | {np.mean([r['sec'] for r in rs]):.0f} | "
            + (f"{np.mean(cpu):.0f}" if cpu else "not recorded") + f" | {note} |")


def time_to(estimator: str, dataset: str, acc: float) -> str:
    """CPU seconds and epoch at which the recorded default fit's labels first reach ``acc`` (seed 0)."""
    path = TRAJECTORIES / f"{estimator}_{dataset}_0.json"
    if not path.exists():
        return ""
    rows = json.loads(path.read_text())["rows"]
    cpu = fit_cpu(rows)
    for r, spent in zip(rows, cpu, strict=True):
        if r["acc"] >= acc:
            return (f"{spent:.0f} CPU s (stage {r['stage']!r}, epoch {r['epoch']}; the whole fit: "
                    f"{len(rows)} epochs, {cpu[-1]:.0f} CPU s; seed 0)")
    return f"never reaches {acc:.3f} (seed 0)"


def report(runs: list[dict]) -> str:
    """The Markdown table of every set in ``SETS`` from the cached runs."""
    lines = ["# Time beside the peers", "",
             "ACC (mean ± sample std over the seeds listed) and seconds per fit, one torch thread, each package at its "
             "defaults (skdeepclust's rows are the benchmark report's main rows, SPC with its CPU configuration). "
             "`s` is wall-clock seconds on a shared 2-core machine (other jobs ran beside many of these fits); "
             "`CPU s` is the fit's own CPU seconds where the run recorded them. The last column gives, where a "
             "per-epoch trajectory of the default fit was recorded (`benchmarks/convergence.py record`), the CPU "
             "seconds after which its labels first reach the best peer's ACC. Written by "
             "`benchmarks/peer_time.py` from `results/runs.jsonl`.", ""]
    peers = list(PEERS)
    for ds, ours in SETS.items():
        peer_rows = {p: _rows(runs, ds, p) for p in peers}
        peer_rows = {p: rs for p, rs in peer_rows.items() if rs}
        if not peer_rows:
            continue
        best_peer = max(peer_rows, key=lambda p: np.mean([r["acc"] for r in peer_rows[p]]))
        best_acc = float(np.mean([r["acc"] for r in peer_rows[best_peer]]))
        lines += [f"## {ds}", "", "| method | ACC | seeds | s | CPU s | time to the best peer's ACC |",
                  "|---|---|---|---|---|---|"]
        for p, rs in peer_rows.items():
            lines.append(_line(p, rs))
        for m in ours:
            rs = _rows(runs, ds, m)
            if rs:
                lines.append(_line(f"skdeepclust {m}", rs, time_to(m, ds, best_acc)))
        lines += ["", f"Best peer: {best_peer} ({best_acc:.3f}).", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=RESULTS / "runs.jsonl")
    ap.add_argument("--out", type=Path, default=RESULTS / "peer_time.md")
    args = ap.parse_args()
    text = report(_cache(args.cache))
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
