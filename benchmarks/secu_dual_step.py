"""SeCu's size constraint and the number of centers: the dual step fixed against scaled with a head's centers.

Usage::

    python benchmarks/secu_dual_step.py Isolet 0              # both variants, seed 0
    python benchmarks/secu_dual_step.py digits 1 --variants scaled
    python benchmarks/secu_dual_step.py --report              # results/secu_dual_step.md

The size constraint's dual ascent, ``rho_k <- max(0, rho_k + eta (gamma / K - b_k / B))``, raises the dual of a
cluster that is empty in the batch by ``eta gamma / K`` per step: the more centers a head has, the longer its
constraint takes to hold. The reference's ``eta = 0.1`` was set for 10 to 100 centers over 150 000 and more steps;
a default fit here runs 4 500. ``fixed`` sets, for this process only, the reference's step 0.1 for every head (as
``dual_lr=0.1``, the default until ``dual_lr="auto"``); ``scaled`` sets each head's step to ``0.1 * K_h / 10``, so
that an empty cluster's dual rises as fast as with 10 centers. The default ``dual_lr="auto"`` computes ``fixed``
below 50 clusters and ``scaled`` from 50 (``secu.AUTO_DUAL_MIN_CLUSTERS``; from 10 clusters up to 49 it computed
``scaled`` at commits c777a02 to 9fc9fbe). Each fit (one torch thread, the estimator's other defaults) appends to
``results/secu_dual_step.jsonl``: ACC/NMI/ARI of ``labels_``, the label-free ``score``, the first epoch whose main
head assignments meet the size bound (``min_cluster >= gamma N / K``, from ``history_``), CPU seconds and the
commit. Labels are used only for the record.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
from _paired import latest_runs, main, mean_of, paired

HERE = Path(__file__).resolve().parent
RUNS = HERE / "results" / "secu_dual_step.jsonl"
REPORT = HERE / "results" / "secu_dual_step.md"


def _steps(variant: str, sizes: list[int]) -> list[float]:
    """Each head's dual step under ``variant``: the reference's fixed step, or that step scaled by K_h / 10."""
    from skdeepclust.secu import AUTO_DUAL_CENTERS, AUTO_DUAL_LR

    if variant == "fixed":
        return [AUTO_DUAL_LR] * len(sizes)
    return [AUTO_DUAL_LR * k / AUTO_DUAL_CENTERS for k in sizes]


def fit(dataset: str, seed: int, variant: str) -> dict:
    """One SeCu fit with the dual step of ``variant``; return its record."""
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    from run_all import _load, code_version

    import skdeepclust.secu as secu
    from skdeepclust.metrics import evaluate_clustering

    secu._dual_steps = lambda dual_lr, sizes: _steps(variant, sizes)
    X, y, shape, _, _ = _load(dataset)
    k = int(y.max()) + 1
    c0 = time.process_time()
    est = secu.SeCu(n_clusters=k, image_shape=shape, device="cpu", random_state=seed).fit(X)
    cpu = time.process_time() - c0
    bound = math.ceil(est.size_ratio * X.shape[0] / k)
    held = [r["epoch"] for r in est.history_ if r.get("min_cluster", -1) >= bound]
    return {"set": dataset, "seed": seed, "variant": variant, "k": k, **evaluate_clustering(y, est.labels_),
            "score": float(est.score(X)), "n_used": int(np.unique(est.labels_).size),
            "first_epoch_bound_held": held[0] if held else None, "n_epochs": est.n_epochs_,
            "cpu_sec": cpu, **code_version()}


def _auto_is(k: int) -> str:
    """Which variant the default ``dual_lr="auto"`` computes for ``n_clusters=k`` (heads of k, 2k and 3k centers)."""
    from skdeepclust.secu import _dual_steps

    auto = _dual_steps("auto", [k, 2 * k, 3 * k])
    return next((v for v in ("scaled", "fixed") if _steps(v, [k, 2 * k, 3 * k]) == auto), "neither")


def report() -> str:
    """The Markdown table of the paired fits: per set, ACC and score with each step, the change, the worst seed."""
    runs = latest_runs(RUNS)
    lines = ["| set | K | seeds (paired) | ACC fixed | ACC scaled | change | worst seed | default `auto` is | "
             "score fixed / scaled | first epoch the bound holds (fixed / scaled) | CPU s (fixed / scaled) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    changes = []
    for dataset in dict.fromkeys(key[0] for key in runs):
        seeds, fix, sca = paired(runs, dataset, "fixed", "scaled")
        if not seeds:
            continue
        diff = [b["acc"] - a["acc"] for a, b in zip(fix, sca, strict=True)]
        changes += diff
        held = " / ".join(",".join(str(r["first_epoch_bound_held"]) for r in rs) for rs in (fix, sca))
        lines.append(f"| {dataset} | {fix[0]['k']} | {','.join(map(str, seeds))} | {mean_of(fix, 'acc'):.3f} | "
                     f"{mean_of(sca, 'acc'):.3f} | {np.mean(diff):+.3f} | {min(diff):+.3f} | {_auto_is(fix[0]['k'])} | "
                     f"{mean_of(fix, 'score'):.3f} / {mean_of(sca, 'score'):.3f} | {held} of {fix[0]['n_epochs']} | "
                     f"{mean_of(fix, 'cpu_sec'):.0f} / {mean_of(sca, 'cpu_sec'):.0f} |")
    text = "\n".join(lines) + (f"\n\nPaired fits: {len(changes)}; mean change {np.mean(changes):+.4f}, "
                               f"worst {min(changes):+.3f}." if changes else "")
    unpaired = sorted((d, s, v) for (d, s, v) in runs if (d, s, "fixed" if v == "scaled" else "scaled") not in runs)
    if unpaired:
        text += " Fits without the other variant: " + ", ".join(
            f"{d} seed {s} {v} ({runs[(d, s, v)]['acc']:.3f})" for d, s, v in unpaired) + "."
    REPORT.write_text(__doc__.split("Usage")[0].strip() + "\n\nACC of `labels_`; one torch thread; CPU seconds "
                      "on a shared machine. Commits: `secu_dual_step.jsonl`.\n\n" + text + "\n")
    return text


if __name__ == "__main__":
    main(__file__, __doc__, ["fixed", "scaled"], fit, report, RUNS)
