"""DistilMVC on incomplete multi-view data: ACC against the share of samples that lose views.

For each data set, missing rate (0.1, 0.3, 0.5) and seed, :func:`missing_mask` removes one or more views
(never all) from that share of the samples, and five methods are scored by ACC (labels used only to score):

- ``incomplete``: ``DistilMVC`` with the missing view rows as NaN (trained on the observed views);
- ``mean_impute``: the same estimator after each missing view row is replaced by the view's mean;
- ``kmeans`` / ``spectral``: KMeans (10 restarts) and spectral clustering (10-NN graph) of the
  mean-imputed concatenation, every feature min-max scaled;
- ``complete``: ``DistilMVC`` on the complete data (rate 0), the reference.

DistilMVC runs with smaller networks than its defaults (:data:`DISTILMVC_PARAMS`: the machine these were
measured on was shared, and a default fit costs several CPU-minutes), the same for every DistilMVC variant, on the
CPU and one thread, ``random_state`` = seed. Every result is one JSON
line of ``benchmarks/results/incomplete_views.jsonl`` (with the git commit); a run skips the lines already
there, so it can be stopped and resumed. ``report`` writes ``benchmarks/results/incomplete_views.md``.
Usage::

    python benchmarks/incomplete_views.py run MSRCv1,WebKB 0,1,2     # sets, seeds
    python benchmarks/incomplete_views.py report
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "incomplete_views.jsonl"
REPORT = HERE / "results" / "incomplete_views.md"
RATES = (0.1, 0.3, 0.5)
METHODS = ("incomplete", "mean_impute", "kmeans", "spectral")
#: DistilMVC's parameters in this benchmark (the stage lengths are the defaults, "auto")
DISTILMVC_PARAMS = dict(hidden_dims=(256, 256), latent_dim=64, projection_hidden_dim=64, feature_dim=32)


def missing_mask(n_samples: int, n_views: int, rate: float, seed: int) -> np.ndarray:
    """The observed views of each sample: ``round(rate * n)`` samples lose between 1 and ``n_views - 1`` views.

    Seeded and stratified over views: the samples that lose views are drawn at random; the number each loses
    is uniform on ``1 .. n_views - 1``, and the views it loses are consecutive (cyclically) from a start view
    that goes round the views in turn, so that every view is the first removed one for the same share of
    the samples (with two views: exactly half lose each view).

    Returns
    -------
    ndarray of bool of shape (n_samples, n_views)
    """
    rng = np.random.default_rng(seed)
    mask = np.ones((n_samples, n_views), dtype=bool)
    rows = rng.permutation(n_samples)[: round(rate * n_samples)]
    n_lost = rng.integers(1, n_views, size=rows.size)  # 1 .. V-1
    start = np.arange(rows.size) % n_views
    for t in range(n_views - 1):  # the t-th lost view of every row that loses more than t (batched over rows)
        lose = n_lost > t
        mask[rows[lose], (start[lose] + t) % n_views] = False
    assert mask.any(1).all()
    return mask


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _done() -> set:
    if not RESULTS.exists():
        return set()
    return {(r["set"], r["rate"], r["seed"], r["method"]) for r in map(json.loads, RESULTS.read_text().splitlines())}


def _load(name: str):
    sys.path.insert(0, str(HERE))
    from shared_data import load_views

    d = load_views(name)
    return [np.asarray(v, dtype=np.float64) for v in d.views], np.unique(np.asarray(d.y), return_inverse=True)[1]


def _mean_imputed(views, mask):
    return [np.where(mask[:, [v]], x, x[mask[:, v]].mean(0)) for v, x in enumerate(views)]


def _fit(method: str, views, mask, k: int, seed: int):
    """Labels, fit seconds and fit CPU seconds (this process; one thread) of one method."""
    from sklearn.cluster import KMeans, SpectralClustering
    from sklearn.preprocessing import minmax_scale

    from skdeepclust import DistilMVC

    t0, c0 = time.perf_counter(), time.process_time()
    if method in ("incomplete", "complete", "mean_impute"):
        if method == "incomplete":
            data = [np.where(mask[:, [v]], x, np.nan) for v, x in enumerate(views)]
        else:
            data = views if method == "complete" else _mean_imputed(views, mask)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels = DistilMVC(n_clusters=k, device="cpu", random_state=seed, **DISTILMVC_PARAMS).fit(data).labels_
    else:
        X = minmax_scale(np.hstack(_mean_imputed(views, mask)))
        if method == "kmeans":
            labels = KMeans(k, n_init=10, random_state=seed).fit_predict(X)
        else:
            labels = SpectralClustering(k, affinity="nearest_neighbors", n_neighbors=10, random_state=seed,
                                        assign_labels="cluster_qr").fit_predict(X)
    return labels, time.perf_counter() - t0, time.process_time() - c0


def run(sets: list[str], seeds: list[int]) -> None:
    """Every missing (set, rate, seed, method), appended to the results as it finishes."""
    import torch

    from skdeepclust.metrics import clustering_accuracy

    torch.set_num_threads(1)
    commit, done = _commit(), _done()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    for name in sets:
        views, y = _load(name)
        k = int(y.max()) + 1
        for seed in seeds:
            # 30 % first, then 50 %: the most informative rates when a run is cut short
            jobs = [(0.0, "complete")] + [(r, m) for r in (0.3, 0.5, 0.1) for m in METHODS]
            for rate, method in jobs:
                if (name, rate, seed, method) in done:
                    continue
                mask = missing_mask(len(y), len(views), rate, seed)
                labels, sec, cpu = _fit(method, views, mask, k, seed)
                lost = ~mask.all(1)
                record = {"set": name, "rate": rate, "seed": seed, "method": method,
                          "acc": round(float(clustering_accuracy(y, labels)), 4),
                          "acc_incomplete_rows": round(float(clustering_accuracy(y[lost], labels[lost])), 4)
                          if lost.any() else None,
                          "seconds": round(sec, 1), "cpu_seconds": round(cpu, 1), "n_missing": (~mask).sum(0).tolist(),
                          "commit": commit,
                          "distilmvc_params": {k: list(v) if isinstance(v, tuple) else v
                                               for k, v in DISTILMVC_PARAMS.items()}}
                with RESULTS.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                print(json.dumps(record), flush=True)


HEADER = ["set", "missing", "complete", "incomplete", "mean_impute", "kmeans", "spectral", "n",
          "incomplete, rows with missing views", "mean_impute, rows with missing views",
          "fit s (complete / incomplete)"]


def table() -> list[list[str]]:
    """One row per set and rate: mean ACC (± standard deviation over the seeds run) of each method."""
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines()]

    def cell(items, key="acc"):
        if not items:
            return "–"
        a = np.array([r[key] for r in items])
        return f"{a.mean():.3f} ± {a.std():.3f}" if a.size > 1 else f"{a.mean():.3f}"

    out = []
    for name in dict.fromkeys(r["set"] for r in rows):
        mine = [r for r in rows if r["set"] == name]
        for rate in RATES:
            at = {m: [r for r in mine if r["rate"] == rate and r["method"] == m] for m in METHODS}
            if not any(at.values()):
                continue
            seeds = {r["seed"] for r in at["incomplete"]} or {r["seed"] for m in METHODS for r in at[m]}
            ref = [r for r in mine if r["method"] == "complete" and r["seed"] in seeds]
            at = {m: [r for r in group if r["seed"] in seeds] for m, group in at.items()}
            cpu = "–"
            if ref and at["incomplete"]:  # CPU seconds where every fit has them, else wall seconds
                key = "cpu_seconds" if all("cpu_seconds" in r for r in ref + at["incomplete"]) else "seconds"
                cpu = (f"{np.mean([r[key] for r in ref]):.0f} / {np.mean([r[key] for r in at['incomplete']]):.0f}"
                       + (" (wall)" if key == "seconds" else ""))
            out.append([name, f"{rate:.0%}", cell(ref), *(cell(at[m]) for m in METHODS), str(len(seeds)),
                        cell(at["incomplete"], "acc_incomplete_rows"), cell(at["mean_impute"], "acc_incomplete_rows"),
                        cpu])
    return out


def report() -> str:
    """Write the Markdown table and return it, followed by the same table as reStructuredText."""
    rows = table()
    md = ["# DistilMVC on incomplete multi-view data", "",
          "ACC (mean ± standard deviation over the `n` seeds run) per data set, share of samples that lose one or "
          "more views, and method. `complete` is the complete-data DistilMVC fit; `incomplete` trains on the "
          "observed views; `mean_impute` is DistilMVC after mean imputation; `kmeans` and `spectral` cluster the "
          "mean-imputed, min-max-scaled concatenation. The two `rows with missing views` columns are the ACC on "
          "the samples that lost views only. DistilMVC runs with "
          f"{', '.join(f'{k}={v}' for k, v in DISTILMVC_PARAMS.items())} and its default stage lengths, on one "
          "thread; fit seconds are CPU seconds, or wall seconds on a shared machine where marked. Written by "
          "`benchmarks/incomplete_views.py report`.", "",
          "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    text = "\n".join(md) + "\n"
    REPORT.write_text(text)
    rst = [".. list-table::", "   :header-rows: 1", ""]
    for r in [HEADER, *rows]:
        rst += [f"   * - {r[0]}"] + [f"     - {c}" for c in r[1:]]
    return text + "\n" + "\n".join(rst) + "\n"


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "report":
        print(report())
    elif len(sys.argv) == 4 and sys.argv[1] == "run":
        run(sys.argv[2].split(","), [int(s) for s in sys.argv[3].split(",")])
    else:
        raise SystemExit(__doc__)
