"""Accuracy cost of the size thresholds that keep fits near-linear in the number of rows.

On the MNIST test set (10 000 rows) and USPS (9298 rows), raw pixels L2-normalised, each approximation is
forced by lowering its threshold and compared with the exact computation:

- NN-descent k-NN graph (``cluster.APPROX_NEIGHBORS_MIN_ROWS``): recall of the exact 10 neighbours, and
  :func:`~skdeepclust.cluster.spectral_knn` labels (ARI between the two, ACC of each against the classes,
  seconds; the approximate run is timed after a warm-up that compiles numba's code);
- LOBPCG spectral embedding (``cluster.SPECTRAL_LOBPCG_MIN_ROWS``): labels of the exact graph against
  scikit-learn's shift-invert ARPACK (ARI, ACC, seconds);
- k-means restarts on a subsample (``cluster.KMEANS_RESTART_MAX_ROWS`` lowered to 2000 rows, 20% of the data):
  inertia ratio, ARI and ACC, seconds;
- HaDis's bounded ``predict`` voters (``hadis.PREDICT_VOTERS_MAX_ROWS``): the k-NN vote of the second half of
  the rows by all rows of the first half vs. by a 20% per-cluster subsample of them (label agreement).

Usage::

    python benchmarks/approx_accuracy.py [--out benchmarks/results/approx_accuracy.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shared_data import load_mnist10k, load_usps  # noqa: E402

from skdeepclust import cluster, hadis  # noqa: E402
from skdeepclust.metrics import clustering_accuracy  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.is_dir():
    DATA = Path("/work/shared/data")


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def study(name, X, y, seed=0):
    x = torch.nn.functional.normalize(torch.tensor(X, dtype=torch.float32), dim=1)
    n, k = x.shape[0], int(y.max()) + 1
    row = {"data": name, "n": n, "d": x.shape[1]}
    exact_nb, row["exact_knn_s"] = timed(lambda: cluster.nearest_neighbors(x, 11)[1][:, 1:].numpy())
    thr = cluster.APPROX_NEIGHBORS_MIN_ROWS
    cluster.APPROX_NEIGHBORS_MIN_ROWS = 1000
    try:
        approx_nb, row["approx_knn_s"] = timed(
            lambda: cluster.nearest_neighbors(x, 11, random_state=seed)[1][:, 1:].numpy())
        again = cluster.nearest_neighbors(x, 11, random_state=seed)[1][:, 1:].numpy()
        row["approx_reproducible"] = bool((again == approx_nb).all())
        spec_a, row["spectral_approx_s"] = timed(lambda: cluster.spectral_knn(x, k, 10, random_state=seed))
    finally:
        cluster.APPROX_NEIGHBORS_MIN_ROWS = thr
    row["recall_at_10"] = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact_nb, approx_nb, strict=True)]))
    spec_e, row["spectral_exact_s"] = timed(lambda: cluster.spectral_knn(x, k, 10, random_state=seed))
    row["spectral_ari_exact_vs_approx"] = float(adjusted_rand_score(spec_e, spec_a))
    row["spectral_acc_exact"] = float(clustering_accuracy(y, spec_e))
    row["spectral_acc_approx"] = float(clustering_accuracy(y, spec_a))
    graph = cluster.knn_graph(x, 10, random_state=seed)  # the exact graph, its embedding by LOBPCG instead
    thr = cluster.SPECTRAL_LOBPCG_MIN_ROWS
    cluster.SPECTRAL_LOBPCG_MIN_ROWS = 1000
    try:
        spec_l, row["spectral_lobpcg_s"] = timed(lambda: cluster.spectral_graph(graph, k, random_state=seed))
    finally:
        cluster.SPECTRAL_LOBPCG_MIN_ROWS = thr
    row["spectral_ari_shift_invert_vs_lobpcg"] = float(adjusted_rand_score(spec_e, spec_l))
    row["spectral_acc_lobpcg"] = float(clustering_accuracy(y, spec_l))

    def km(n_init):
        return cluster.kmeans(x, k, n_init=n_init, generator=torch.Generator().manual_seed(seed))

    full, row["kmeans10_full_s"] = timed(lambda: km(10))
    thr = cluster.KMEANS_RESTART_MAX_ROWS
    cluster.KMEANS_RESTART_MAX_ROWS = 2000
    try:
        sub, row["kmeans10_subsample_s"] = timed(lambda: km(10))
    finally:
        cluster.KMEANS_RESTART_MAX_ROWS = thr
    row["kmeans_inertia_ratio_sub_over_full"] = sub.inertia / full.inertia
    row["kmeans_ari_full_vs_sub"] = float(adjusted_rand_score(full.labels.numpy(), sub.labels.numpy()))
    row["kmeans_acc_full"] = float(clustering_accuracy(y, full.labels.numpy()))
    row["kmeans_acc_sub"] = float(clustering_accuracy(y, sub.labels.numpy()))

    # predict's voters: first half votes for the second half (labels: the exact spectral clusters)
    half = n // 2
    ref, lab, qry = x[:half], torch.as_tensor(spec_e[:half]), x[half:]
    vote_all = cluster.knn_vote(ref, lab, qry, 10, k).numpy()
    thr = hadis.PREDICT_VOTERS_MAX_ROWS
    hadis.PREDICT_VOTERS_MAX_ROWS = half // 5
    try:
        keep = hadis._voter_rows(lab, k, 10, torch.Generator().manual_seed(seed))
    finally:
        hadis.PREDICT_VOTERS_MAX_ROWS = thr
    vote_sub = cluster.knn_vote(ref[keep], lab[keep], qry, 10, k).numpy()
    row["voters_subsample_rows"] = int(keep.numel())
    row["vote_agreement_all_vs_sub"] = float((vote_all == vote_sub).mean())
    row["vote_acc_all"] = float(clustering_accuracy(y[half:], vote_all))
    row["vote_acc_sub"] = float(clustering_accuracy(y[half:], vote_sub))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "approx_accuracy.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    warm = torch.randn(3000, 8)  # compile NN-descent's numba code before timing
    thr = cluster.APPROX_NEIGHBORS_MIN_ROWS
    cluster.APPROX_NEIGHBORS_MIN_ROWS = 1000
    _, jit = timed(lambda: cluster.nearest_neighbors(warm, 5, random_state=0))
    cluster.APPROX_NEIGHBORS_MIN_ROWS = thr
    rows = []
    for name, load in (("MNIST-10k", load_mnist10k), ("USPS", load_usps)):
        X, y, _ = load(DATA)
        row = study(name, X, np.asarray(y))
        row["first_nndescent_call_s"] = jit
        print(json.dumps(row), flush=True)
        rows.append(row)
    Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
