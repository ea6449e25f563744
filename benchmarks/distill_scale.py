"""DistilMVC's distillation loss and the number of clusters: the KL averaged over the clusters against per row.

Usage::

    python benchmarks/distill_scale.py 100Leaves 0            # defaults and the per-row KL, seed 0
    python benchmarks/distill_scale.py HW 0 --variants row    # only the per-row KL

``losses.kl_distillation`` averages the KL divergence over the ``n x K`` entries of a batch, as the reference code's
``KLDivLoss(reduction="mean")`` does, so the distillation stage's pull on the student shrinks as ``1 / K``. The
``row`` variant replaces it, for this process only, with the KL summed over the clusters and averaged over the rows
(``reduction="batchmean"``, the KL divergence per row); ``default`` is the estimator as shipped. Each fit (one torch
thread, the estimator's other defaults) prints and appends to ``results/distill_scale.jsonl``: ACC/NMI/ARI of
``labels_``, the clusters they use, the ACC of the stage-3 pseudo-labels (``pseudo_labels_[0]``), CPU seconds and
the commit. Labels are used only for the record.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RUNS = HERE / "results" / "distill_scale.jsonl"


def _kl_per_row(log_probs, target):
    """``KL(target || softmax)`` summed over the clusters, averaged over the rows."""
    import torch

    target = target.float()
    return (torch.xlogy(target, target) - target * log_probs.float()).sum() / target.shape[0]


def fit(dataset: str, seed: int, variant: str) -> dict:
    """One DistilMVC fit with the distillation KL of ``variant``; return its record."""
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    from run_all import _load, code_version

    import skdeepclust.distilmvc as distilmvc
    from skdeepclust.metrics import evaluate_clustering

    if variant == "row":
        distilmvc.kl_distillation = _kl_per_row
    X, y, _, sizes, _ = _load(dataset)
    k = int(y.max()) + 1
    c0 = time.process_time()
    est = distilmvc.DistilMVC(n_clusters=k, view_sizes=sizes, device="cpu", random_state=seed).fit(X)
    return {"set": dataset, "seed": seed, "variant": variant, **evaluate_clustering(y, est.labels_),
            "n_used": int(np.unique(est.labels_).size), "k": k,
            "pseudo_acc": evaluate_clustering(y, np.asarray(est.pseudo_labels_)[0])["acc"],
            "cpu_sec": time.process_time() - c0, **code_version()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("seed", type=int)
    ap.add_argument("--variants", nargs="+", default=["default", "row"], choices=["default", "row"])
    args = ap.parse_args()
    for variant in args.variants:  # each variant in its own process: the patch must not leak into the other
        out = subprocess.run([sys.executable, __file__, "--one", args.dataset, str(args.seed), variant],
                             capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        with RUNS.open("a") as f:
            f.write(out + "\n")
        print(out, flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        print(json.dumps(fit(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
    else:
        main()
