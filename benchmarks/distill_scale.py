"""DistilMVC's distillation loss and the number of clusters: the KL averaged over the clusters against per row.

Usage::

    python benchmarks/distill_scale.py 100Leaves 0              # both losses, seed 0
    python benchmarks/distill_scale.py HW 0 --variants entries  # only the reference's loss
    python benchmarks/distill_scale.py --report                 # results/distill_scale.md

The reference code averages the distillation's KL divergence over the ``n x K`` entries of a batch
(``KLDivLoss(reduction="mean")``), so the distillation stage's pull on the student shrinks as ``1 / K``.
``losses.kl_distillation`` now takes the KL divergence per row, summed over the clusters and averaged over the rows
(``reduction="batchmean"``). ``row`` is the estimator as shipped; ``entries`` replaces the loss, for this process
only, with the reference's average over the entries. Records made before the change name the variants ``default``
(then the reference's loss) and ``row`` (then a patch); the report reads ``default`` as ``entries``. Each fit (one
torch thread, the estimator's other defaults) prints and appends to ``results/distill_scale.jsonl``: ACC/NMI/ARI of
``labels_``, the clusters they use, the ACC of the stage-3 pseudo-labels (``pseudo_labels_[0]``), CPU seconds and
the commit. Labels are used only for the record.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from _paired import latest_runs, main, mean_of, paired

HERE = Path(__file__).resolve().parent
RUNS = HERE / "results" / "distill_scale.jsonl"
REPORT = HERE / "results" / "distill_scale.md"
#: variant names of the records made before the per-row loss was shipped
OLD_NAMES = {"default": "entries"}


def _kl_entries(log_probs, target):
    """The reference's ``KL(target || softmax)``: averaged over the ``n x K`` entries."""
    import torch

    target = target.float()
    return (torch.xlogy(target, target) - target * log_probs.float()).sum() / target.numel()


def fit(dataset: str, seed: int, variant: str) -> dict:
    """One DistilMVC fit with the distillation KL of ``variant``; return its record."""
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    from run_all import _load, code_version

    import skdeepclust.distilmvc as distilmvc
    from skdeepclust.metrics import evaluate_clustering

    if variant == "entries":
        distilmvc.kl_distillation = _kl_entries
    X, y, _, sizes, _ = _load(dataset)
    k = int(y.max()) + 1
    c0 = time.process_time()
    est = distilmvc.DistilMVC(n_clusters=k, view_sizes=sizes, device="cpu", random_state=seed).fit(X)
    return {"set": dataset, "seed": seed, "variant": variant, **evaluate_clustering(y, est.labels_),
            "n_used": int(np.unique(est.labels_).size), "k": k,
            "pseudo_acc": evaluate_clustering(y, np.asarray(est.pseudo_labels_)[0])["acc"],
            "cpu_sec": time.process_time() - c0, **code_version()}


def report() -> str:
    """The Markdown table of the paired fits: per set and seed, ACC with each loss, and their means."""
    runs = latest_runs(RUNS, OLD_NAMES)
    lines = ["| set | K | seeds (paired) | per entry (reference) | per row (shipped) | change | worst seed | "
             "clusters used (entries / row) | CPU s (entries / row) |", "|---|---|---|---|---|---|---|---|---|"]
    changes = []
    for dataset in dict.fromkeys(key[0] for key in runs):
        seeds, ent, row = paired(runs, dataset, "entries", "row")
        if not seeds:
            continue
        diff = [b["acc"] - a["acc"] for a, b in zip(ent, row, strict=True)]
        changes += diff
        lines.append(f"| {dataset} | {ent[0]['k']} | {','.join(map(str, seeds))} | {mean_of(ent, 'acc'):.3f} | "
                     f"{mean_of(row, 'acc'):.3f} | {np.mean(diff):+.3f} | {min(diff):+.3f} | "
                     f"{mean_of(ent, 'n_used'):.0f} / {mean_of(row, 'n_used'):.0f} | "
                     f"{mean_of(ent, 'cpu_sec'):.0f} / {mean_of(row, 'cpu_sec'):.0f} |")
    unpaired = sorted({(d, s) for (d, s, v) in runs if v == "row" and (d, s, "entries") not in runs})
    text = "\n".join(lines) + (f"\n\nPaired fits: {len(changes)}; mean change {np.mean(changes):+.4f}, "
                               f"worst {min(changes):+.3f}." if changes else "")
    if unpaired:
        text += " Per-row fits without a reference fit of the same seed: " + ", ".join(
            f"{d} seed {s} ({runs[(d, s, 'row')]['acc']:.3f})" for d, s in unpaired) + "."
    REPORT.write_text(__doc__.split("Usage")[0].strip() + "\n\nACC of `labels_`; one torch thread; CPU seconds "
                      "on a shared machine. Commits: `distill_scale.jsonl`.\n\n" + text + "\n")
    return text


if __name__ == "__main__":
    main(__file__, __doc__, ["entries", "row"], fit, report, RUNS)
