"""MTDC with many clusters: the batch of 256 rows against 10 rows per cluster.

Usage::

    python benchmarks/mtdc_batch.py 100Leaves-cat 0            # both variants, seed 0
    python benchmarks/mtdc_batch.py Palm 1 --variants auto
    python benchmarks/mtdc_batch.py --report                   # results/mtdc_batch.md

The cluster contrast of Contrastive Clustering represents each cluster by its column of soft assignments over the
batch. With 256 rows and 100 clusters a column holds about 2.5 members, and the head merges and splits clusters
while the learned representation still separates them. ``base`` is the former default: batches of 256 rows for
4000 steps. ``auto`` is ``batch_size="auto"``: 256 rows up to 25 clusters, otherwise 10 rows per cluster
(``mtdc.ROWS_PER_CLUSTER``), for as many rows as 4000 steps of 256 (fewer, larger steps). A name ending in
``-cat`` is a multi-view set of the suite with its views concatenated as tabular rows (100Leaves: 1600 rows,
3 x 64 features, 100 classes of 16; a development set). Each fit (one torch thread, the other defaults) appends
to ``results/mtdc_batch.jsonl``: ACC/NMI/ARI of ``labels_`` (the cluster head), the clusters used, the label-free
``score``, ACC of spectral clustering (10-NN, cosine) of the backbone's output as a diagnostic of the
representation, CPU seconds and the commit. Labels are used only for the record. Rows of ``auto`` alone on sets of
at most 25 clusters (where it equals ``base``) are such diagnostics of a default fit: is the head or the
representation the limit?
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from _paired import latest_runs, main, mean_of, paired

HERE = Path(__file__).resolve().parent
RUNS = HERE / "results" / "mtdc_batch.jsonl"
REPORT = HERE / "results" / "mtdc_batch.md"


def _load_set(dataset: str):
    """``(X, y, image_shape)``; ``NAME-cat``: the multi-view set's views side by side, as tabular rows."""
    sys.path.insert(0, str(HERE))
    from run_all import _load

    X, y, shape, _, _ = _load(dataset.removesuffix("-cat"))
    return X, y, None if dataset.endswith("-cat") else shape


def fit(dataset: str, seed: int, variant: str) -> dict:
    """One MTDC fit with the batch of ``variant``; return its record."""
    import torch

    torch.set_num_threads(1)
    from run_all import code_version

    from skdeepclust import MTDC
    from skdeepclust.cluster import spectral_knn_counts
    from skdeepclust.metrics import clustering_accuracy, evaluate_clustering

    X, y, shape = _load_set(dataset)
    k = int(y.max()) + 1
    settings = {"batch_size": 256} if variant == "base" else {}
    c0 = time.process_time()
    est = MTDC(n_clusters=k, image_shape=shape, device="cpu", random_state=seed, **settings).fit(X)
    cpu = time.process_time() - c0
    with torch.no_grad():
        net = est.network_.eval()
        h = net.backbone((torch.as_tensor(X, dtype=torch.float32) - est.input_offset_) / est.input_scale_)
    spectral = spectral_knn_counts(torch.nn.functional.normalize(h, dim=1), k, (10,), random_state=0)[10]
    return {"set": dataset, "seed": seed, "variant": variant, "k": k, **evaluate_clustering(y, est.labels_),
            "n_used": int(np.unique(est.labels_).size), "score": float(est.score(X)),
            "spectral_backbone_acc": float(clustering_accuracy(y, spectral)), "batch_size": est.batch_size_,
            "n_epochs": est.n_epochs_, "steps": int(sum(r["steps"] for r in est.history_)), "cpu_sec": cpu,
            **code_version()}


def report() -> str:
    """The Markdown table of the fits: per set and variant, ACC of the head, clusters used, the backbone's ACC."""
    runs = latest_runs(RUNS)
    lines = ["| set | K | variant | seeds | batch x steps | ACC (head) | clusters used | score | "
             "spectral on the backbone (diagnostic) | CPU s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for dataset in dict.fromkeys(key[0] for key in runs):
        for variant in ("base", "auto"):
            rs = [runs[key] for key in sorted(runs) if key[0] == dataset and key[2] == variant]
            if not rs:
                continue
            acc = [r["acc"] for r in rs]
            sd = np.std(acc, ddof=1) if len(acc) > 1 else 0.0
            lines.append(f"| {dataset} | {rs[0]['k']} | {variant} | {','.join(str(r['seed']) for r in rs)} | "
                         f"{rs[0]['batch_size']} x {rs[0]['steps']} | {np.mean(acc):.3f} ± {sd:.3f} | "
                         f"{', '.join(str(r['n_used']) for r in rs)} | {mean_of(rs, 'score'):.3f} | "
                         f"{mean_of(rs, 'spectral_backbone_acc'):.3f} | {mean_of(rs, 'cpu_sec'):.0f} |")
        seeds, base, auto = paired(runs, dataset, "base", "auto")
        if seeds:
            diff = [b["acc"] - a["acc"] for a, b in zip(base, auto, strict=True)]
            lines.append(f"| | | change (seeds {','.join(map(str, seeds))}) | | | {np.mean(diff):+.3f} "
                         f"(worst {min(diff):+.3f}) | | | | |")
    text = "\n".join(lines)
    REPORT.write_text(__doc__.split("Usage")[0].strip() + "\n\nOne torch thread; CPU seconds on a shared machine. "
                      "Commits: `mtdc_batch.jsonl`.\n\n" + text + "\n")
    return text


if __name__ == "__main__":
    main(__file__, __doc__, ["base", "auto"], fit, report, RUNS)
