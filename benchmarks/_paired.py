"""The command line of the paired studies: each variant of one fit in its own process, records in JSON lines.

``distill_scale.py`` and ``secu_dual_step.py`` compare two settings of one estimator on the same data set and seed.
Each fit runs in a fresh process (a variant that patches the package cannot leak into the other) and prints its
record; the parent appends it to the study's JSON-lines file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np


def mean_of(records: list[dict], key: str) -> float:
    """The mean of one field over records."""
    return float(np.mean([r[key] for r in records]))


def latest_runs(runs: Path, rename: dict | None = None) -> dict:
    """The latest record of each ``(set, seed, variant)`` in ``runs`` (variant names mapped through ``rename``)."""
    latest = {}
    for line in runs.read_text().splitlines():
        r = json.loads(line)
        latest[(r["set"], r["seed"], (rename or {}).get(r["variant"], r["variant"]))] = r
    return latest


def paired(runs: dict, dataset: str, base: str, other: str) -> tuple[list[int], list[dict], list[dict]]:
    """The seeds of ``dataset`` where both variants ran, and the records of ``base`` and of ``other`` on them."""
    seeds = sorted(s for (d, s, v) in runs if d == dataset and v == other and (d, s, base) in runs)
    return seeds, [runs[(dataset, s, base)] for s in seeds], [runs[(dataset, s, other)] for s in seeds]


def main(script: str, doc: str, variants: list[str], fit: Callable[[str, int, str], dict], report: Callable[[], str],
         runs: Path) -> None:
    """``SET SEED [--variants ...]``: fit each variant in its own process and append its record to ``runs``;
    ``--report``: write and print the report; ``--one SET SEED VARIANT`` (internal): one fit, its record printed."""
    argv = sys.argv[1:]
    if argv == ["--report"]:
        print(report())
        return
    if len(argv) == 4 and argv[0] == "--one":
        print(json.dumps(fit(argv[1], int(argv[2]), argv[3])))
        return
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("seed", type=int)
    ap.add_argument("--variants", nargs="+", default=variants, choices=variants)
    args = ap.parse_args(argv)
    for variant in args.variants:
        out = subprocess.run([sys.executable, script, "--one", args.dataset, str(args.seed), variant],
                             capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        with runs.open("a") as f:
            f.write(out + "\n")
        print(out, flush=True)
