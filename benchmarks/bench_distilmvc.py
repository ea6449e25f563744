"""DistilMVC on the multi-view benchmarks of ../shared/data: ACC/NMI/ARI and fit seconds over seeds.

Usage::

    python benchmarks/bench_distilmvc.py [--seeds 0 1 2] [--datasets MNIST_USPS BDGP HW Synthetic3d]
                                         [--out benchmarks/results/distilmvc.md]

Each dataset is fitted with the estimator's defaults (only ``n_clusters`` set), on the CPU, and
compared with KMeans on the concatenated, per-view min-max-scaled views.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch
from _table import HEADER, emit, rows
from sklearn.cluster import KMeans

from skdeepclust import DistilMVC, ViewScaler, stack_views
from skdeepclust.datasets import load_mat_views
from skdeepclust.metrics import evaluate_clustering

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--datasets", nargs="+", default=["MNIST_USPS", "BDGP", "HW", "Synthetic3d"])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    table_rows = []
    for name in args.datasets:
        ds = load_mat_views(args.data / f"{name}.mat")
        X, sizes = stack_views(ds.views)
        Xs = ViewScaler(view_sizes=sizes).fit_transform(X)
        res = {"DistilMVC": [], "KMeans": []}
        for seed in args.seeds:
            t0 = time.perf_counter()
            model = DistilMVC(n_clusters=ds.n_clusters, view_sizes=sizes, device="cpu", random_state=seed)
            labels = model.fit_predict(X)
            sec = time.perf_counter() - t0
            res["DistilMVC"].append({**evaluate_clustering(ds.y, labels), "sec": sec})
            t0 = time.perf_counter()
            km = KMeans(ds.n_clusters, n_init=10, random_state=seed).fit_predict(Xs)
            res["KMeans"].append({**evaluate_clustering(ds.y, km), "sec": time.perf_counter() - t0})
            print(name, seed, res["DistilMVC"][-1], flush=True)
        table_rows += rows(name, res)
    header = (
        f"DistilMVC defaults, CPU ({platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads), seeds {args.seeds}; "
        "KMeans on min-max-scaled concatenated views.\n\n" + HEADER
    )
    emit(header, table_rows, args.out)


if __name__ == "__main__":
    main()
