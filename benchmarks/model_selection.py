"""Label-free model selection: does a criterion that sees no labels pick good hyperparameters?

For each estimator, a grid of six settings (learning rate x temperature, or x latent noise for SPC) is fitted
with two seeds on three data sets, at a shortened schedule (``STUDY_SCALE``: the same for every candidate, so
the comparison is fair, and the study fits in a few CPU-hours). Every candidate's ACC is recorded (labels are
used only for this report), with the values of several label-free criteria:

``score``
    the estimators' previous ``score``: silhouette of ``predict(X)`` in the candidate's own ``transform(X)``;
``silhouette_input``
    silhouette of ``predict(X)`` in a space that does not depend on the candidate: the input, each view scaled to
    unit total variance (:func:`skdeepclust.metrics.reference_space`);
``modularity_input``
    modularity of ``predict(X)`` on the 10-nearest-neighbour graph of that same input space
    (:func:`skdeepclust.metrics.knn_modularity`);
``loss``
    the method's own training loss at the end of the fit (lower is better);
``stability``
    agreement (ARI) between the two seeds' clusterings of one setting (costs a second fit);
``consensus``
    mean ARI of a candidate with every other candidate of the grid (all settings, both seeds);
``rank_aggregation``
    every candidate's labels scored (silhouette) in every candidate's embedding, ranks averaged over the spaces
    (after Wang, Ye et al., arXiv 2403.14830, without their admissibility filter).

Regret of a criterion in one (method, data set) cell = best mean ACC of a setting in the grid - mean ACC of the
setting the criterion picks (criterion averaged over the two seeds; ``stability`` needs both). ``per-fit`` regret:
within each seed, best ACC - ACC of the candidate the criterion picks among that seed's six fits (what a single
``GridSearchCV`` run gets). Usage::

    python benchmarks/model_selection.py run --jobs 2          # fits not yet cached (hours)
    python benchmarks/model_selection.py run --methods SeCu --datasets digits
    python benchmarks/model_selection.py report                # results/studies/model_selection.md

Runs are appended to ``results/model_selection/runs.jsonl`` (labels included, compressed); embeddings for the
rank aggregation go to ``_cache/model_selection/`` (not committed), and the aggregated ranks to
``results/model_selection/rank_aggregation.json``.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "model_selection"
RUNS = RESULTS / "runs.jsonl"
RANKS = RESULTS / "rank_aggregation.json"
CACHE = HERE / "_cache" / "model_selection"
REPORT = HERE / "results" / "studies" / "model_selection.md"

SEEDS = (0, 1)
#: rows of the subsets (a fixed random subset; the smaller sets are used whole); MNIST-2k-14 is such a subset of the
#: MNIST test set, its images averaged over 2x2 pixel blocks (14x14)
SUBSET = 2000

#: optimizer steps (or stage steps) of every candidate in the study: shorter than the defaults' schedules
STUDY_SCALE = {
    "SeCu": {"steps": 1200},
    "MTDC": {"steps": 1000},
    "HaDis": {"steps": 800},
    "DistilMVC": {"stage_steps": 200},
    "SPC": {"n_members": 5, "max_rounds": 2, "n_jobs": 1},
}

#: the grids: two parameters, the default value of each among its values
GRIDS = {
    "SeCu": {"lr": [0.05, 0.2, 0.8], "temperature_center": [0.05, 0.2]},
    "MTDC": {"lr": [3e-4, 1e-3, 3e-3], "temperature_instance": [0.5, 1.0]},
    "HaDis": {"lr": [0.02, 0.05, 0.15], "temperature_prototype": [0.2, 0.5]},
    "DistilMVC": {"lr": [1e-4, 3e-4, 1e-3], "temperature_instance": [0.5, 1.0]},
    "SPC": {"lr": [3e-4, 1e-3, 3e-3], "latent_noise": [0.5, 1.5]},
}

DATASETS = {
    "DistilMVC": ["HW", "BDGP", "digits-views"],
    **{m: ["digits", "USPS-2k", "MNIST-2k-14"] for m in ("SeCu", "MTDC", "HaDis", "SPC")},
}
#: held-out cells: sets of the suite's validation half (``suite.json``), run after ``score`` was chosen on the cells
#: above, whole and at the same schedules (``run --held-out``); reported in their own table
HELD_OUT = {
    "DistilMVC": ["WebKB"],
    **{m: ["iris", "wine"] for m in ("SeCu", "MTDC", "HaDis", "SPC")},
}

CRITERIA = ["score", "silhouette_input", "modularity_input", "loss", "stability", "consensus", "rank_aggregation"]
#: criteria where lower is better
LOWER_IS_BETTER = {"loss"}


def load(dataset: str):
    """``(X, y, image_shape, view_sizes)`` of a study data set."""
    sys.path.insert(0, str(HERE))
    from shared_data import LOADERS, load_views

    from skdeepclust import stack_views

    if dataset in {d for ds in HELD_OUT.values() for d in ds}:
        from run_all import _load

        X, y, shape, sizes, _ = _load(dataset)
        return np.asarray(X, dtype=np.float32), np.asarray(y), shape, sizes
    if dataset in ("HW", "BDGP", "digits-views"):
        ds = load_views(dataset)
        X, sizes = stack_views(ds.views)
        return X.astype(np.float32), np.asarray(ds.y), None, sizes
    name = {"USPS-2k": "USPS", "MNIST-2k-14": "MNIST-10k"}.get(dataset, dataset)
    X, y, shape = LOADERS[name]()
    if dataset != name:
        keep = np.sort(np.random.default_rng(0).permutation(X.shape[0])[:SUBSET])
        X, y = X[keep], y[keep]
    if dataset == "MNIST-2k-14":  # 2x2 average pooling: 14x14 images, the cost of USPS's 16x16
        X = X.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(-1, 196).astype(np.float32)
        shape = (1, 14, 14)
    return X, y, shape, None


def defaults(method: str) -> dict:
    import skdeepclust

    est = getattr(skdeepclust, method)()
    return {p: getattr(est, p) for p in GRIDS[method]}


def candidates(method: str) -> list[dict]:
    """The grid's settings, in a fixed order."""
    grid = GRIDS[method]
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def study_params(method: str, n: int, setting: dict) -> dict:
    """Estimator parameters of one candidate: its setting, at the study's schedule."""
    from skdeepclust import SeCu
    from skdeepclust.training import epochs_for_steps

    scale = STUDY_SCALE[method]
    params = dict(setting)
    if method in ("SeCu", "MTDC", "HaDis"):
        import skdeepclust

        batch = getattr(skdeepclust, method)().batch_size
        min_epochs = SeCu().n_epochs_warmup + 2 if method == "SeCu" else 1
        params["n_epochs"] = epochs_for_steps(scale["steps"], n, batch, drop_last=method != "SeCu",
                                                min_epochs=min_epochs)
    elif method == "DistilMVC":
        from skdeepclust import DistilMVC

        batch = DistilMVC().batch_size
        per_epoch = -(-n // batch)
        epochs = max(1, -(-scale["stage_steps"] // per_epoch))
        params.update(n_epochs_pretrain=epochs, n_epochs_contrastive=min(50, epochs), n_epochs_distill=epochs)
    else:
        params.update(scale)
    return params


def _key(r: dict) -> tuple:
    return (r["method"], r["dataset"], json.dumps(r["setting"], sort_keys=True), r["seed"])


def _pack(labels: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(labels.astype(np.uint8).tobytes(), 9)).decode()


def unpack(s: str) -> np.ndarray:
    """Labels stored by :func:`_pack`."""
    return np.frombuffer(zlib.decompress(base64.b64decode(s)), dtype=np.uint8).astype(np.int64)


def fit_one(method: str, dataset: str, setting: dict, seed: int) -> dict:
    """Fit one candidate; return its record (metrics, criteria, labels) and cache its embedding."""
    import warnings

    import torch

    torch.set_num_threads(1)
    import skdeepclust
    from skdeepclust.metrics import embedding_silhouette, evaluate_clustering, knn_modularity, reference_space

    X, y, shape, sizes = load(dataset)
    k = int(y.max()) + 1
    params = {"n_clusters": k, "device": "cpu", "random_state": seed, **study_params(method, X.shape[0], setting)}
    if sizes is not None:
        params["view_sizes"] = sizes
    else:
        params["image_shape"] = shape
    est = getattr(skdeepclust, method)(**params)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X)
    sec = time.perf_counter() - t0
    labels = est.labels_
    emb = est.transform(X)
    ref = reference_space(X, sizes)
    losses = [h["loss"] for h in est.history_ if "loss" in h]
    record = {
        "method": method, "dataset": dataset, "setting": setting, "seed": seed,
        "default": setting == defaults(method), **evaluate_clustering(y, labels), "sec": sec,
        "n_used": int(np.unique(labels).size), "k": k,
        "score": embedding_silhouette(emb, labels),
        "silhouette_input": embedding_silhouette(ref, labels),
        "modularity_input": knn_modularity(ref, labels),
        "loss": float(losses[-1]) if losses else float("nan"),
        "labels": _pack(labels),
        "params": {p: v for p, v in params.items() if p not in ("view_sizes", "image_shape")},
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(_embedding_path(record), emb.astype(np.float32))
    return record


def _embedding_path(record: dict) -> Path:
    """Where a candidate's ``transform(X)`` is cached (for the rank aggregation)."""
    return CACHE / f"{record['method']}_{record['dataset']}_{_slug(record['setting'])}_{record['seed']}.npy"


def _slug(setting: dict) -> str:
    return "_".join(f"{k}={v:g}" for k, v in setting.items())


def cached() -> list[dict]:
    if not RUNS.exists():
        return []
    latest = {}
    for line in RUNS.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            latest[_key(r)] = r
    return list(latest.values())


def _job(args):
    try:
        return fit_one(*args)
    except Exception as exc:  # noqa: BLE001 - a failed candidate is a result too
        method, dataset, setting, seed = args
        return {"method": method, "dataset": dataset, "setting": setting, "seed": seed, "error": repr(exc)}


def run(methods, datasets, jobs: int, held_out: bool = False) -> None:
    done = {_key(r) for r in cached()}
    todo = []
    for m in methods:
        for d in (HELD_OUT if held_out else DATASETS)[m]:
            if datasets and d not in datasets:
                continue
            for seed in SEEDS:
                for s in candidates(m):
                    if (m, d, json.dumps(s, sort_keys=True), seed) not in done:
                        todo.append((m, d, s, seed))
    print(f"{len(todo)} fits to run", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with ProcessPoolExecutor(jobs) as pool:
        for rec in pool.map(_job, todo):
            with RUNS.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(rec["method"], rec["dataset"], rec["setting"], rec["seed"],
                  f"acc={rec.get('acc', float('nan')):.3f} sec={rec.get('sec', 0):.0f}", rec.get("error", ""),
                  flush=True)


# ---------------------------------------------------------------------------------------------------- n_init
NINIT = RESULTS / "n_init.jsonl"
#: restarts of the ``n_init`` comparison, each with 1/NINIT_K of the default schedule's steps
NINIT_K = 3


def fit_short(method: str, seed: int, init: int) -> dict:
    """One of ``n_init=3``'s fits on the whole of USPS: the ``init``-th seed drawn from ``seed``, a third of the
    default schedule. ``fit(n_init=3)`` makes exactly these fits and keeps the one with the highest ``score``."""
    import warnings

    import torch

    torch.set_num_threads(1)
    import skdeepclust
    from skdeepclust.base import _init_seeds
    from skdeepclust.metrics import evaluate_clustering
    from skdeepclust.training import epochs_for_steps

    X, y, shape, _ = load("USPS")
    module = getattr(skdeepclust, method.lower())
    est = getattr(skdeepclust, method)()
    steps = -(-module.DEFAULT_STEPS // NINIT_K)
    min_epochs = est.n_epochs_warmup + 2 if method == "SeCu" else 1
    epochs = epochs_for_steps(steps, X.shape[0], est.batch_size, drop_last=method != "SeCu", min_epochs=min_epochs)
    params = {"n_clusters": 10, "device": "cpu", "image_shape": shape, "n_epochs": epochs,
              "random_state": _init_seeds(seed, NINIT_K)[init]}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = getattr(skdeepclust, method)(**params).fit(X)
    sec = time.perf_counter() - t0
    t1 = time.perf_counter()
    score = est.score(X)
    return {"method": method, "seed": seed, "init": init, "max_epochs": epochs, **evaluate_clustering(y, est.labels_),
            "score": score, "sec": sec, "score_sec": time.perf_counter() - t1}


def _ninit_job(args):
    return fit_short(*args)


def run_ninit(jobs: int) -> None:
    done = set()
    if NINIT.exists():
        done = {(r["method"], r["seed"], r["init"]) for r in map(json.loads, NINIT.read_text().splitlines())}
    todo = [(m, s, i) for m in ("SeCu", "MTDC") for s in (0, 1, 2) for i in range(NINIT_K) if (m, s, i) not in done]
    with ProcessPoolExecutor(jobs) as pool:
        for rec in pool.map(_ninit_job, todo):
            with NINIT.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(rec, flush=True)


#: the benchmark report's rows of the full default fits on USPS (``runs.jsonl``), the long fit of the comparison
LONG_ROWS = {"SeCu": "SeCu", "MTDC": "MTDC"}


def ninit_report() -> list[str]:
    """``n_init=3`` with a third of the schedule each against one fit of the full default schedule, USPS."""
    if not NINIT.exists():
        return []
    sys.path.insert(0, str(HERE))
    from run_all import _cache

    long = {(r["method"], r["seed"]): r for r in _cache(HERE / "results" / "runs.jsonl") if r["dataset"] == "USPS"}
    recs = [json.loads(line) for line in NINIT.read_text().splitlines() if line.strip()]
    lines = ["## `n_init`: three short fits against one long fit (USPS, all 9298 rows)", "",
             f"`n_init={NINIT_K}`, each fit with 1/{NINIT_K} of the default schedule's optimizer steps (so the same "
             "steps in all), keeps the fit with the highest `score`; the long fit is the default fit of the benchmark "
             "report (`results/runs.jsonl`, same seed). `fit(n_init=3)` makes exactly the three short fits listed "
             "(seeds drawn from `random_state`), which `tests/test_model_selection.py` checks.", "",
             "| method | seed | ACC of the 3 short fits | kept by `score` | best of 3 | 1 long fit (default) | "
             "short fit seconds (sum) | long fit seconds |", "|---|---|---|---|---|---|---|---|"]
    summary = {}
    for m in LONG_ROWS:
        for seed in (0, 1, 2):
            rs = sorted((r for r in recs if r["method"] == m and r["seed"] == seed), key=lambda r: r["init"])
            if len(rs) < NINIT_K:
                continue
            kept = max(rs, key=lambda r: r["score"])
            lg = long.get((LONG_ROWS[m], seed))
            summary.setdefault(m, []).append((kept["acc"], lg["acc"] if lg else np.nan))
            lines.append(f"| {m} | {seed} | " + " / ".join(f"{r['acc']:.3f}" for r in rs) + f" | {kept['acc']:.3f} | "
                         f"{max(r['acc'] for r in rs):.3f} | " + (f"{lg['acc']:.3f}" if lg else "–") + " | "
                         f"{sum(r['sec'] for r in rs):.0f} | " + (f"{lg['sec']:.0f}" if lg else "–") + " |")
    lines.append("")
    for m, pairs in summary.items():
        a = np.array(pairs)
        lines.append(f"- {m}: `n_init=3` short {a[:, 0].mean():.3f} ± {a[:, 0].std():.3f}, one long fit "
                     f"{np.nanmean(a[:, 1]):.3f} ± {np.nanstd(a[:, 1]):.3f} (mean ± std over the seeds).")
    lines.append("")
    return lines


# ---------------------------------------------------------------------------------------------------- report
def _ari(a, b) -> float:
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(a, b))


def rank_aggregation(cell: list[dict]) -> dict[str, float]:
    """Mean rank (1 = best) of each candidate's silhouette over all candidates' embeddings (needs the cache)."""
    from scipy.stats import rankdata

    from skdeepclust.metrics import embedding_silhouette

    embs = []
    for r in cell:
        path = _embedding_path(r)
        if not path.exists():
            return {}
        embs.append(np.load(path))
    labels = [unpack(r["labels"]) for r in cell]
    ranks = []
    for emb in embs:
        s = np.array([embedding_silhouette(emb, lab, max_samples=1000) for lab in labels])
        ranks.append(rankdata(-s))
    mean = np.mean(ranks, axis=0)
    return {f"{_slug(r['setting'])}|{r['seed']}": float(v) for r, v in zip(cell, mean, strict=True)}


def cell_table(cell: list[dict], ranks: dict) -> dict:
    """Criterion values per candidate and per setting, regrets, Spearman correlations."""
    from scipy.stats import spearmanr

    labels = [unpack(r["labels"]) for r in cell]
    for i, r in enumerate(cell):
        r["consensus"] = float(np.mean([_ari(labels[i], labels[j]) for j in range(len(cell)) if j != i]))
        v = ranks.get(f"{_slug(r['setting'])}|{r['seed']}")
        r["rank_aggregation"] = -v if v is not None else float("nan")  # higher is better
    settings = sorted({json.dumps(r["setting"], sort_keys=True) for r in cell})
    by_setting = {s: [r for r in cell if json.dumps(r["setting"], sort_keys=True) == s] for s in settings}
    for rs in by_setting.values():
        if len(rs) == 2:
            st = _ari(unpack(rs[0]["labels"]), unpack(rs[1]["labels"]))
            for r in rs:
                r["stability"] = st
        else:
            for r in rs:
                r["stability"] = float("nan")
    mean_acc = {s: float(np.mean([r["acc"] for r in rs])) for s, rs in by_setting.items()}
    best = max(mean_acc.values())
    default = [s for s, rs in by_setting.items() if rs[0]["default"]]
    out = {"best": best, "default_regret": best - mean_acc[default[0]] if default else float("nan"),
           "mean_acc": mean_acc, "regret": {}, "per_fit_regret": {}, "spearman": {}, "pick": {}}
    for c in CRITERIA:
        sign = -1.0 if c in LOWER_IS_BETTER else 1.0
        val = {s: sign * float(np.mean([r[c] for r in rs])) for s, rs in by_setting.items()}
        if any(np.isnan(v) for v in val.values()):
            continue
        pick = max(val, key=val.get)
        out["pick"][c] = pick
        out["regret"][c] = best - mean_acc[pick]
        rho = spearmanr([val[s] for s in settings], [mean_acc[s] for s in settings]).statistic
        out["spearman"][c] = float(rho) if rho == rho else 0.0
        if c != "stability":
            per_seed = []
            for seed in SEEDS:
                rs = [r for r in cell if r["seed"] == seed]
                if rs:
                    chosen = max(rs, key=lambda r: sign * r[c])
                    per_seed.append(max(r["acc"] for r in rs) - chosen["acc"])
            out["per_fit_regret"][c] = float(np.mean(per_seed))
    return out


def report() -> str:
    studied = {(m, d) for m, ds in DATASETS.items() for d in ds}
    held_out = {(m, d) for m, ds in HELD_OUT.items() for d in ds}
    runs = [r for r in cached() if "error" not in r and (r["method"], r["dataset"]) in studied | held_out]
    failed = [r for r in cached() if "error" in r and (r["method"], r["dataset"]) in studied | held_out]
    ranks = json.loads(RANKS.read_text()) if RANKS.exists() else {}
    grids = "; ".join(f"{m}: " + " x ".join(f"`{p}` in {v}" for p, v in g.items()) for m, g in GRIDS.items())
    scale = "; ".join(f"{m}: {', '.join(f'{k}={v}' for k, v in sc.items())}" for m, sc in STUDY_SCALE.items())
    lines = ["# Choosing hyperparameters without labels: regret of label-free criteria", "",
             "Each estimator: a grid of six settings, two seeds each (0, 1), on three data sets (DistilMVC: HW, BDGP "
             "and the digits as two views; the others: the digits, 2000 rows of USPS, and 2000 rows of the MNIST "
             "test set averaged to 14x14 pixels). Labels are used only for this report. Every candidate trains on "
             "a shortened schedule, the same for all candidates of a method (the full defaults would take several "
             "CPU-days for the whole grid), so \"defaults\" below means the default values of the two grid "
             "parameters at that schedule, not the full default fit.", "",
             f"Grids: {grids}.", "", f"Schedules: {scale} (optimizer steps; DistilMVC: per stage).", "",
             "Criteria: see the docstring of `benchmarks/model_selection.py`. Regret is computed per setting (ACC "
             "and criterion averaged over the two seeds); per-fit regret picks among one seed's six fits, as one "
             "`GridSearchCV` run does. One torch thread per fit, two fits at a time on a shared 2-core machine "
             "(seconds are wall-clock under that load).", "",
             "Reproduce: `python benchmarks/model_selection.py run --jobs 2` (fits not yet cached), then "
             "`python benchmarks/model_selection.py report`.", ""]
    cells = {}
    for r in runs:
        cells.setdefault((r["method"], r["dataset"]), []).append(r)
    results = {}
    for (m, d), cell in sorted(cells.items()):
        key = f"{m}|{d}"
        if key not in ranks or len(ranks[key]) != len(cell):
            computed = rank_aggregation(cell)
            if computed:
                ranks[key] = computed
        results[(m, d)] = cell_table(cell, ranks.get(key, {}))
    RANKS.write_text(json.dumps(ranks, indent=1, sort_keys=True) + "\n")
    complete = {m: len(candidates(m)) * len(SEEDS) for m in GRIDS}  # every setting of the grid, every seed
    held = {(m, d): res for (m, d), res in results.items()
            if (m, d) not in studied and len(cells[(m, d)]) == complete[m]}
    unfinished = [f"{m} on {d} ({len(cells[(m, d)])} of {complete[m]} fits)" for (m, d) in results
                  if (m, d) not in studied and len(cells[(m, d)]) < complete[m]]
    results = {key: res for key, res in results.items() if key in studied}
    crit = [c for c in CRITERIA]
    lines += ["## Regret (best mean ACC in the grid - mean ACC of the picked setting)", ""]
    lines += _regret_lines(results, cells)
    lines += ["", "## Spearman correlation between criterion and ACC over the six settings", "",
              "| method | data | " + " | ".join(crit) + " |", "|---|---|" + "---|" * len(crit)]
    for (m, d), res in results.items():
        lines.append(f"| {m} | {d} | " + " | ".join(
            f"{res['spearman'][c]:+.2f}" if c in res["spearman"] else "" for c in crit) + " |")
    lines += ["", "## Every candidate (mean over the two seeds)", ""]
    for (m, d), res in results.items():
        cell = cells[(m, d)]
        secs = sum(r["sec"] for r in cell)
        lines += [f"### {m} on {d} ({len(cell)} fits, {secs:.0f} s of fitting)", "",
                  "| setting | ACC (seeds) | " + " | ".join(crit) + " |", "|---|---|" + "---|" * len(crit)]
        for s in sorted(res["mean_acc"]):
            rs = [r for r in cell if json.dumps(r["setting"], sort_keys=True) == s]
            accs = " / ".join(f"{r['acc']:.3f}" for r in sorted(rs, key=lambda r: r["seed"]))
            tag = " (defaults)" if rs[0]["default"] else ""
            vals = [np.mean([r[c] for r in rs]) for c in crit]
            lines.append(f"| {_slug(json.loads(s))}{tag} | {accs} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
        lines.append("")
    if held:
        lines += ["## Held-out cells: the validation half", "",
                  "The same grids, seeds and schedules on sets of the suite's validation half (`suite.json`): "
                  f"{', '.join(f'{m} on {d}' for m, d in held)}. These cells ran after `score` "
                  "(`modularity_input`) was chosen on the cells above, and are reported as they came out. "
                  "Reproduce: `python benchmarks/model_selection.py run --held-out`, then `report`.", ""]
        lines += _regret_lines(held, cells)
        if unfinished:
            lines += ["", "Cells not finished, left out of the table: " + "; ".join(unfinished) + "."]
        lines += ["", "Every held-out candidate (mean over the two seeds):", ""]
        for (m, d), res in held.items():
            default = {json.dumps(r["setting"], sort_keys=True) for r in cells[(m, d)] if r["default"]}
            lines.append(f"- {m} on {d}: " + "; ".join(
                f"{_slug(json.loads(st))}{' (defaults)' if st in default else ''} {acc:.3f}"
                for st, acc in sorted(res["mean_acc"].items())))
        lines.append("")
    plot(results)
    lines += ninit_report()
    if failed:
        lines += ["## Failed fits", ""] + [f"- {r['method']} {r['dataset']} {r['setting']} seed {r['seed']}: "
                                           f"{r['error']}" for r in failed]
    return "\n".join(lines) + "\n"


def _regret_lines(results: dict, cells: dict) -> list[str]:
    """The regret table of some cells and its summary over them."""
    crit = list(CRITERIA)
    lines = ["| method | data | fits | best ACC | defaults | " + " | ".join(crit) + " |",
             "|---|---|---|---|---|" + "---|" * len(crit)]
    for (m, d), res in results.items():
        n = len(cells[(m, d)])
        cells_txt = [f"{res['regret'][c]:.3f}" if c in res["regret"] else "" for c in crit]
        lines.append(f"| {m} | {d} | {n} | {res['best']:.3f} | {res['default_regret']:.3f} | "
                     + " | ".join(cells_txt) + " |")
    lines += ["", f"Summary over these {len(results)} cells:", "", "| criterion | mean regret | worst regret | "
              "cells worse than the defaults by > 0.02 | mean per-fit regret | mean Spearman ρ |",
              "|---|---|---|---|---|---|"]
    dflt = np.array([res["default_regret"] for res in results.values()])
    lines.append(f"| keep the defaults | {dflt.mean():.3f} | {dflt.max():.3f} | | | |")
    for c in crit:
        reg = np.array([res["regret"].get(c, np.nan) for res in results.values()])
        if np.all(np.isnan(reg)):
            continue
        worse = int(np.nansum(reg - dflt > 0.02))
        pf = np.array([res["per_fit_regret"].get(c, np.nan) for res in results.values()])
        rho = np.array([res["spearman"].get(c, np.nan) for res in results.values()])
        lines.append(f"| {c} | {np.nanmean(reg):.3f} | {np.nanmax(reg):.3f} | {worse} | "
                     f"{np.nanmean(pf):.3f} | {np.nanmean(rho):.2f} |" if not np.all(np.isnan(pf)) else
                     f"| {c} | {np.nanmean(reg):.3f} | {np.nanmax(reg):.3f} | {worse} | – | {np.nanmean(rho):.2f} |")
    return lines


PLOT = HERE.parent / "doc" / "_static" / "model_selection_regret.png"


def plot(results: dict) -> None:
    """Regret of each criterion in every cell (dots) and its mean (bar), beside keeping the defaults."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["keep the defaults"] + [c for c in CRITERIA if any(c in r["regret"] for r in results.values())]
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    methods = sorted({m for m, _ in results})
    colours = dict(zip(methods, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for i, c in enumerate(names):
        vals = [(m, r["default_regret"] if c == names[0] else r["regret"].get(c, np.nan)) for (m, _), r in
                results.items()]
        ax.bar(i, np.nanmean([v for _, v in vals]), color="0.85", width=0.7)
        jitter = np.linspace(-0.25, 0.25, len(vals))
        for j, (m, v) in enumerate(vals):
            first = i == 0 and all(mm != m for mm, _ in vals[:j])
            ax.plot(i + jitter[j], v, "o", ms=3.5, color=colours[m], label=m if first else None)
    ax.axhline(0.03, color="0.4", lw=0.8, ls="--")
    pretty = {"score": "own-embedding silhouette\n(the former score)",
              "modularity_input": "input k-NN modularity\n(score now)"}
    ax.set_xticks(range(len(names)), [pretty.get(n, n.replace("_", " ")) for n in names], rotation=25, ha="right",
                  fontsize=8)
    ax.set_ylabel("regret (ACC)")
    ax.set_title("Best ACC in the grid minus ACC of the picked setting (bar: mean over cells)")
    ax.legend(fontsize=7, ncol=5, loc="upper right")
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--methods", nargs="+", default=list(GRIDS))
    r.add_argument("--datasets", nargs="+", default=None)
    r.add_argument("--jobs", type=int, default=1)
    r.add_argument("--held-out", action="store_true", help="the held-out cells (validation half) instead")
    sub.add_parser("report")
    ni = sub.add_parser("ninit")
    ni.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    if args.cmd == "run":
        run(args.methods, args.datasets, args.jobs, args.held_out)
    elif args.cmd == "ninit":
        run_ninit(args.jobs)
    else:
        text = report()
        REPORT.write_text(text)
        print(text)


if __name__ == "__main__":
    main()
