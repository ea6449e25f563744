"""Single-view methods on image benchmarks: ACC/NMI/ARI and fit seconds over seeds, vs KMeans on pixels.

Usage::

    python benchmarks/bench_single_view.py --method HaDis [--datasets USPS MNIST-10k COIL-20 digits]
        [--seeds 0 1 2] [--params '{"max_epochs": 50}'] [--out benchmarks/results/hadis.md]

Each method gets its defaults plus ``n_clusters`` and ``image_shape`` (and any ``--params``), on the CPU.
For SPC a second table follows: per round, the fraction of selected samples and the accuracy of their
pseudo-labels (labels are used only here, for the report), and whether ``predict`` agrees with ``labels_``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from _table import HEADER, ROUND_HEADER, emit, rows, spc_round_rows, spc_rounds
from shared_data import LOADERS
from sklearn.cluster import KMeans

import skdeepclust
from skdeepclust.metrics import evaluate_clustering


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", required=True)
    ap.add_argument("--datasets", nargs="+", default=["USPS", "MNIST-10k", "COIL-20", "digits"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--params", default="{}", help="JSON dict of extra estimator parameters")
    ap.add_argument("--label", default=None, help="row label (default: the method name)")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    cls = getattr(skdeepclust, args.method)
    extra = json.loads(args.params)
    label = args.label or args.method + (f" {extra}" if extra else "")
    table_rows, round_rows, smallest = [], [], []
    for name in args.datasets:
        X, y, shape = LOADERS[name]()
        k = int(y.max()) + 1
        res = {label: []} if args.no_baseline else {label: [], "KMeans (pixels)": []}
        for seed in args.seeds:
            t0 = time.perf_counter()
            est = cls(n_clusters=k, image_shape=shape, device="cpu", random_state=seed, **extra)
            labels = est.fit_predict(X)
            res[label].append({**evaluate_clustering(y, labels), "sec": time.perf_counter() - t0})
            smallest.append(f"| {name} | {seed} | {int(np.bincount(labels, minlength=k).min())} | {len(y) / k:.0f} |")
            print(name, seed, res[label][-1], flush=True)
            if hasattr(est, "rounds_"):
                round_rows += spc_round_rows(name, seed, spc_rounds(est, X, y))
            if not args.no_baseline:
                t0 = time.perf_counter()
                km = KMeans(k, n_init=10, random_state=seed).fit_predict(X)
                res["KMeans (pixels)"].append({**evaluate_clustering(y, km), "sec": time.perf_counter() - t0})
        table_rows += rows(name, res)
    header = (
        f"CPU ({platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads), "
        f"seeds {args.seeds}.\n\n" + HEADER
    )
    table_rows += ["", f"Smallest cluster of {label} (a collapse check) against the mean class size.", "",
                   "| dataset | seed | smallest cluster | mean class size |", "|---|---|---|---|", *smallest]
    if round_rows:
        table_rows += ["", "Rounds (SPC): selected fraction and the accuracy of the selected pseudo-labels.", "",
                       ROUND_HEADER, *round_rows]
    emit(header, table_rows, args.out)


if __name__ == "__main__":
    main()
