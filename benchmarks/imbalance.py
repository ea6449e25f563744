"""Imbalanced classes: development sets subsampled to unequal class sizes, defaults against the baselines.

Usage::

    python benchmarks/imbalance.py run --methods KMeans Spectral GMM SeCu --sets digits --seeds 0 1 2
    python benchmarks/imbalance.py report        # results/imbalance.md

Every estimator has a prior towards equal clusters (SeCu's size constraint, the entropy terms of the cluster-level
contrasts of MTDC and DistilMVC, HaDis's and SPC's balanced pseudo-labels), and data a user brings are often
imbalanced. The suite's development sets are balanced or nearly so, so this study makes imbalanced versions of
them: for seed ``s``, the classes get sizes falling geometrically from the smallest class's size ``m`` down to
``RATIO * m`` (the largest class ``1 / RATIO`` times the smallest), in a random class order, each class a random
draw of its rows (``numpy.random.default_rng(s)``). The fit uses the same seed. Each run records ACC, NMI, the
cluster sizes it found (largest first) against the true sizes, and the commit; runs are appended to
``results/imbalance.jsonl`` and skipped when already there. Labels are used only for the report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RUNS = HERE / "results" / "imbalance.jsonl"
REPORT = HERE / "results" / "imbalance.md"
#: the smallest class's size over the largest's
RATIO = 0.1
#: development sets of the study: single-view image sets and multi-view sets
SETS = {"digits": "images", "HW": "multi-view"}
BASELINES = ["KMeans", "Spectral", "GMM"]
DEEP = {"images": ["SeCu", "MTDC", "HaDis", "SPC"], "multi-view": ["DistilMVC"]}
#: SPC at the benchmark report's CPU configuration (``run_all.SETTINGS``)
SETTINGS = {"SPC": {"autoencoder": "mlp", "n_members": 5, "max_rounds": 5, "n_jobs": 1}}


def class_sizes(y: np.ndarray, seed: int) -> dict[int, int]:
    """The class sizes of seed ``seed``'s subsample."""
    classes, counts = np.unique(y, return_counts=True)
    m, k = int(counts.min()), len(classes)
    sizes = np.maximum(2, np.round(m * RATIO ** (np.arange(k) / (k - 1)))).astype(int)
    order = np.random.default_rng(seed).permutation(classes)
    return {int(c): int(s) for c, s in zip(order, sizes, strict=True)}


def load(name: str, seed: int):
    """``(X, y, image_shape, view_sizes, X_baseline)`` of seed ``seed``'s imbalanced subsample of ``name``."""
    sys.path.insert(0, str(HERE))
    from run_all import _load

    X, y, shape, sizes, Xb = _load(name)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    want = class_sizes(y, seed)
    keep = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), s, replace=False) for c, s in want.items()]))
    _, y_sub = np.unique(y[keep], return_inverse=True)
    return X[keep], y_sub, shape, sizes, Xb[keep]


def fit_one(method: str, name: str, seed: int) -> dict:
    """Fit one method on seed ``seed``'s imbalanced subsample of ``name``; return its record."""
    import resource
    import warnings

    import torch

    torch.set_num_threads(1)
    from run_all import code_version, fit_baseline

    import skdeepclust
    from skdeepclust.metrics import evaluate_clustering

    X, y, shape, sizes, Xb = load(name, seed)
    k = int(y.max()) + 1
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method in BASELINES:
            labels = fit_baseline(method, Xb, k, seed)[0]
        else:
            params = {"n_clusters": k, "device": "cpu", "random_state": seed, **SETTINGS.get(method, {})}
            if sizes is not None:
                params["view_sizes"] = sizes
            elif shape is not None:
                params["image_shape"] = shape
            labels = getattr(skdeepclust, method)(**params).fit_predict(X)
    labels = np.asarray(labels)
    return {"method": method, "set": name, "seed": seed, "n": int(len(y)), **evaluate_clustering(y, labels),
            "sizes": sorted(np.bincount(labels, minlength=k).tolist(), reverse=True),
            "true_sizes": sorted(np.bincount(y).tolist(), reverse=True),
            "sec": time.perf_counter() - t0, "cpu_sec": time.process_time() - c0,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "settings": SETTINGS.get(method, {}),
            **code_version()}


def cached() -> list[dict]:
    """The latest recorded run of every (method, set, seed), in the order of the file; superseded runs stay there."""
    if not RUNS.exists():
        return []
    latest = {}
    for line in RUNS.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            latest.pop((r["method"], r["set"], r["seed"]), None)
            latest[(r["method"], r["set"], r["seed"])] = r
    return list(latest.values())


def run(methods: list[str], sets: list[str], seeds: list[int], force: bool = False) -> None:
    """Fit and append every (method, set, seed) not yet recorded (all of them with ``force``, e.g. after a change
    of defaults); a method runs only on the sets of its kind."""
    done = set() if force else {(r["method"], r["set"], r["seed"]) for r in cached()}
    for name in sets:
        for method in methods:
            if method not in BASELINES and method not in DEEP[SETS[name]]:
                continue
            for seed in seeds:
                if (method, name, seed) in done:
                    continue
                rec = fit_one(method, name, seed)
                with RUNS.open("a") as f:
                    f.write(json.dumps(rec) + "\n")
                print(method, name, seed, f"acc={rec['acc']:.3f}", rec["sizes"], f"{rec['sec']:.0f} s", flush=True)


def _size_gap(r: dict) -> float:
    """Largest cluster's share minus the largest class's share (negative: the clusters are more balanced)."""
    return (r["sizes"][0] - r["true_sizes"][0]) / r["n"]


def report() -> str:
    """The Markdown table of the recorded runs."""
    runs = cached()
    lines = ["# Imbalanced classes", "",
             f"Development sets subsampled to class sizes falling geometrically from the smallest class's size to "
             f"{RATIO:g} times it (a new draw per seed; `benchmarks/imbalance.py`). ACC mean ± sample std over the "
             "seeds listed. `largest cluster - largest class`: share of rows, mean over seeds (negative: the clusters "
             "are more equal than the classes). Estimators at their defaults; baselines on the inputs of "
             "`run_all.py`. One torch thread.", "",
             "| set | n (seed 0) | method | ACC | seeds | ACC, seed 0 | largest cluster - largest class | "
             "cluster sizes (seed 0) | true sizes (seed 0) | CPU s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name in SETS:
        for method in BASELINES + DEEP[SETS[name]]:
            rs = sorted((r for r in runs if r["set"] == name and r["method"] == method), key=lambda r: r["seed"])
            if not rs:
                continue
            acc = np.array([r["acc"] for r in rs])
            std = f" ± {acc.std(ddof=1):.3f}" if len(rs) > 1 else ""
            first = rs[0]
            lines.append(f"| {name} | {first['n']} | {method} | {acc.mean():.3f}{std} | "
                         f"{','.join(str(r['seed']) for r in rs)} | "
                         + (f"{first['acc']:.3f}" if first["seed"] == 0 else "") +
                         f" | {np.mean([_size_gap(r) for r in rs]):+.3f} | "
                         f"{first['sizes']} | {first['true_sizes']} | {np.mean([r['cpu_sec'] for r in rs]):.0f} |")
    commits = sorted({r["commit"][:7] for r in runs})
    lines += ["", f"Commits of the runs: {', '.join(commits)}.", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--methods", nargs="+", default=BASELINES + DEEP["images"] + DEEP["multi-view"])
    r.add_argument("--sets", nargs="+", default=list(SETS))
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    r.add_argument("--force", action="store_true", help="refit runs already recorded (the report keeps the latest)")
    sub.add_parser("report")
    args = ap.parse_args()
    if args.cmd == "run":
        run(args.methods, args.sets, args.seeds, args.force)
    else:
        text = report()
        REPORT.write_text(text)
        print(text)


if __name__ == "__main__":
    main()
