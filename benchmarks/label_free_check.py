"""Can a user tell, without labels, that a deep fit fell below the classical baselines?

Usage::

    python benchmarks/run_all.py --methods ... --save-fits FITS ...   # fits with their labels
    python benchmarks/label_free_check.py FITS [FITS ...]             # writes results/label_free_check.md

For every saved fit (``METHOD_SET_SEED.npz``; a later folder's file replaces an earlier folder's of the same
name), the check a user can run on their own data: the modularity of the fit's labels on the 10-NN graph of the
input (:func:`skdeepclust.metrics.knn_modularity` in :func:`~skdeepclust.metrics.reference_space`, the
estimators' ``score``) against the most modular of the three classical baselines (KMeans, spectral clustering
on a 10-NN graph and a Gaussian mixture, seed 0, on ``run_all.py``'s baseline inputs). The fit is *flagged*
when its modularity is more than ``GAP`` below that baseline's. Labels are used only to say, in the report,
whether a flagged fit was in fact below the best baseline (by ACC). ``GAP`` was set while looking at these
cells: the table is a description of the check, not a validated rule.

Records are appended to ``results/label_free_check.jsonl`` (one per fit file and commit; the table keeps the
last record of each file) and tabulated in ``results/label_free_check.md``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _saved_fits import fit_commit, in_suite_order, record_new_fits  # noqa: E402
from run_all import SUITE, _load, fit_baseline  # noqa: E402

from skdeepclust.metrics import evaluate_clustering, knn_modularity, reference_space  # noqa: E402

RUNS = HERE / "results" / "label_free_check.jsonl"
REPORT = HERE / "results" / "label_free_check.md"
BASELINES = ("KMeans", "Spectral", "GMM")
#: modularity gap below the most modular baseline that flags a fit
GAP = 0.02


def _baselines(dataset: str, cache: dict) -> dict:
    """Modularity and ACC of each baseline's labels (seed 0) on ``dataset``, computed once per set."""
    if dataset not in cache:
        X, y, _, sizes, Xb = _load(dataset)
        reference = reference_space(np.asarray(X), sizes)
        k = int(np.max(y)) + 1
        out = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for method in BASELINES:
                labels = np.asarray(fit_baseline(method, Xb, k, 0)[0])
                out[method] = {"modularity": knn_modularity(reference, labels),
                               "acc": evaluate_clustering(y, labels)["acc"]}
        cache[dataset] = (reference, np.asarray(y), out)
    return cache[dataset]


def fit_record(path: Path, cache: dict) -> dict:
    """The record of one saved fit."""
    method, rest = path.stem.split("_", 1)
    dataset, seed = rest.rsplit("_", 1)
    saved = np.load(path)
    reference, y, baselines = _baselines(dataset, cache)
    labels = saved["labels"]
    return {"file": path.name, "method": method, "dataset": dataset, "seed": int(seed),
            "modularity": knn_modularity(reference, labels), "acc": evaluate_clustering(y, labels)["acc"],
            "baselines": baselines, "commit": fit_commit(path)}


def report(rows: list[dict]) -> str:
    """The table and the counts of flagged fits against their ACC margin."""
    lines = ["| set | half | method | seed | modularity of the fit | most modular baseline | its modularity | gap | "
             "flagged | ACC of the fit | best baseline ACC | margin | commit |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    counts = {"below 0.10": [0, 0], "0.03 to 0.10 below": [0, 0], "within 0.03 or above": [0, 0]}
    for half, dataset, r in in_suite_order(rows, SUITE):
        name, base = max(r["baselines"].items(), key=lambda kv: kv[1]["modularity"])
        gap = r["modularity"] - base["modularity"]
        flagged = gap < -GAP
        best_acc = max(b["acc"] for b in r["baselines"].values())
        margin = r["acc"] - best_acc
        group = ("below 0.10" if margin < -0.10 else "0.03 to 0.10 below" if margin < -0.03
                 else "within 0.03 or above")
        counts[group][0 if flagged else 1] += 1
        lines.append(f"| {dataset} | {half[:3]} | {r['method']} | {r['seed']} | {r['modularity']:.3f} | {name} "
                     f"| {base['modularity']:.3f} | {gap:+.3f} | {'yes' if flagged else ''} | {r['acc']:.3f} "
                     f"| {best_acc:.3f} | {margin:+.3f} "
                     f"| {(r['commit'] or 'unrecorded')[:7]} |")
    summary = ["| ACC margin against the best baseline | flagged | not flagged |", "|---|---|---|"]
    summary += [f"| {group} | {f} | {n} |" for group, (f, n) in counts.items()]
    return "\n".join(summary) + "\n\n" + "\n".join(lines) + "\n"


def main() -> None:
    cache: dict = {}
    rows = record_new_fits(sys.argv[1:], RUNS, lambda path: fit_record(path, cache))
    text = report(rows)
    REPORT.write_text(__doc__.split("Usage")[0].strip() + f"\n\nFlagged: modularity more than {GAP} below the most "
                      "modular baseline's. Margin: ACC of the fit minus the best baseline ACC (seed 0 baselines). "
                      "One torch thread; commits in `label_free_check.jsonl`.\n\n" + text)
    print(text)


if __name__ == "__main__":
    main()
