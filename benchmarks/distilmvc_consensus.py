"""DistilMVC's consensus pseudo-labels: which k-NN graph to cluster, judged on fitted networks.

``fit`` trains stages 1 - 2 of ``DistilMVC`` with its defaults (``n_epochs_distill=0``, which runs them exactly
as a default fit does, the contrastive stage's checkpoints included: it prints their modularity and the kept
epoch) on one data set and seed, one torch thread, and saves the per-view latent features and
the input to ``benchmarks/_cache/distilmvc_consensus/``. ``report`` then clusters, for every saved fit, the
10-NN graph of the learned features ("latent", the former default ``pseudo_labels="spectral"``), of the input
("input", views scaled to unit total variance) and the sum of the two ("union"), keeps the most modular on the
sum (what ``pseudo_labels="auto"`` does), and writes the ACC of each (the labels are used only to score) to
``benchmarks/results/distilmvc_consensus.jsonl``.
The checkpoint scores of the fits behind the user guide are in ``benchmarks/results/distilmvc_checkpoints.jsonl``.
Usage::

    python benchmarks/distilmvc_consensus.py fit HW 0        # one fit (minutes)
    python benchmarks/distilmvc_consensus.py report          # every saved fit, one JSON line each

Data sets: the multi-view sets of the benchmark report, ``blobs40`` (400 rows in 40 clusters of 10, four views)
and ``COIL-20-views`` (COIL-20 as pixels and their horizontal and vertical gradients, 20 classes of 72).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
CACHE = HERE / "_cache" / "distilmvc_consensus"
RESULTS = HERE / "results" / "distilmvc_consensus.jsonl"


def load(name: str) -> tuple[list[np.ndarray], np.ndarray]:
    """The views and the classes of one data set."""
    sys.path.insert(0, str(HERE))
    from shared_data import VIEW_FETCHERS, load_coil20, load_views

    from skdeepclust.datasets import make_multiview_blobs

    if name == "blobs40":
        d = make_multiview_blobs(400, 40, (20, 30, 10, 15), separation=4.0, random_state=0)
        return d.views, d.y
    if name == "COIL-20-views":
        X, y, _ = load_coil20()
        img = X.reshape(-1, 32, 32).astype(np.float64)
        grad = np.hstack([np.diff(img, axis=2).reshape(len(img), -1), np.diff(img, axis=1).reshape(len(img), -1)])
        return [img.reshape(len(img), -1), grad], y
    if name not in VIEW_FETCHERS:
        raise SystemExit(f"unknown data set {name!r}")
    d = load_views(name)
    return d.views, d.y


def fit(name: str, seed: int) -> None:
    """Train stages 1 - 2 with the defaults and save the latent features and the input."""
    torch.set_num_threads(1)
    from skdeepclust import DistilMVC, stack_views
    from skdeepclust.multiview import split_views

    views, y = load(name)
    X, sizes = stack_views(views)
    k = int(y.max()) + 1
    est = DistilMVC(n_clusters=k, view_sizes=sizes, device="cpu", random_state=seed, n_epochs_distill=0)
    t0 = time.perf_counter()
    est.fit(X)
    sec = time.perf_counter() - t0
    x = (torch.as_tensor(X, dtype=torch.float32) - est.input_offset_) / est.input_scale_
    with torch.no_grad():
        z = [est.network_.eval().encode(v, xv).numpy() for v, xv in enumerate(split_views(x, sizes))]
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(CACHE / f"{name}_{seed}.npz", y=y, k=k, sizes=np.array(sizes), X=X.astype(np.float32),
                        z=np.stack(z) if len({a.shape for a in z}) == 1 else np.array(z, dtype=object), sec=sec)
    checkpoints = {r["epoch"]: round(r["checkpoint_score"], 4) for r in est.history_ if "checkpoint_score" in r}
    print(name, seed, round(sec, 1), "kept contrastive epoch", est.contrastive_epochs_, "checkpoints", checkpoints,
          flush=True)


def report() -> None:
    """Cluster the three graphs of every saved fit; print ACC of each and the candidate ``"auto"`` keeps."""
    torch.set_num_threads(1)
    from skdeepclust.cluster import graph_modularity, knn_graph, spectral_graph
    from skdeepclust.metrics import clustering_accuracy, reference_space

    lines = []
    for path in sorted(CACHE.glob("*.npz")):
        d = np.load(path, allow_pickle=True)
        y, k, sizes = d["y"], int(d["k"]), [int(s) for s in d["sizes"]]
        latent = torch.cat([torch.nn.functional.normalize(torch.as_tensor(z), dim=1) for z in d["z"]], 1)
        # the input as the estimator sees it: min-max scaled, then each view to unit total variance
        X = d["X"].astype(np.float64)
        X = (X - X.min(0)) / np.where(X.max(0) > X.min(0), X.max(0) - X.min(0), 1.0)
        inp = torch.as_tensor(reference_space(X, sizes), dtype=torch.float32)
        graphs = {"latent": knn_graph(latent, 10, 0), "input": knn_graph(inp, 10, 0)}
        graphs["union"] = graphs["latent"] + graphs["input"]
        labels = {name: spectral_graph(g, k, 0) for name, g in graphs.items()}
        scores = {name: graph_modularity(graphs["union"], lab) for name, lab in labels.items()}
        kept = max(scores, key=scores.get)
        lines.append(json.dumps({"fit": path.stem, "kept": kept,
                                 **{n: round(clustering_accuracy(y, lab), 3) for n, lab in labels.items()},
                                 "scores": {n: round(q, 4) for n, q in scores.items()},
                                 "fit_s": round(float(d["sec"]))}))
        print(lines[-1], flush=True)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["fit"]:
        fit(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1:2] == ["report"]:
        report()
    else:
        raise SystemExit(__doc__)
