"""The full benchmark table: every method and the baselines x every dataset, in one command.

Usage::

    python benchmarks/run_all.py                       # everything (hours on a 2-core CPU)
    python benchmarks/run_all.py --methods SPC KMeans --datasets USPS digits --seeds 0 1 2
    python benchmarks/run_all.py --table-only          # rebuild the table from the cached runs
    python benchmarks/run_all.py --table-only --readme # ... and put its ACC summary into README.md

Each (method, dataset, seed) runs in its own subprocess, so its peak memory (max RSS of that process,
data loading included) and fit seconds are its own. Results are appended to a JSON-lines cache
(``benchmarks/results/runs.jsonl``); runs already in the cache are skipped unless ``--force``, so a long
benchmark can be done in parts. The Markdown table (mean ± std over the seeds present) is written to
``benchmarks/results/full_table.md``.

Methods: DistilMVC on the multi-view sets; HaDis, SeCu, MTDC and SPC on the single-view sets (images);
the baselines KMeans, spectral clustering (k-NN graph) and a Gaussian mixture on the same inputs
(min-max-scaled, concatenated views for the multi-view sets; pixels for images). Each deep method gets
the settings in ``SETTINGS`` (its defaults, except where a CPU budget setting is stated there, for all
data sets or for one). ``VARIANTS`` adds the ablation and baseline rows: MTDC without its mutual terms
(the Contrastive Clustering baseline), MTDC without its CC warm-up (the reference schedule) and, on that
schedule, without one of the two terms, and HaDis without HSD or without the prototype term.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README_START, README_END = "<!-- full-table:start -->", "<!-- full-table:end -->"
MULTI_VIEW = ["MNIST_USPS", "BDGP", "HW", "Synthetic3d"]
SINGLE_VIEW = ["USPS", "MNIST-10k", "COIL-20", "digits"]
BASELINES = ["KMeans", "Spectral", "GMM"]
DEEP = {"DistilMVC": MULTI_VIEW, "HaDis": SINGLE_VIEW, "SeCu": SINGLE_VIEW, "MTDC": SINGLE_VIEW, "SPC": SINGLE_VIEW}

#: ablation and baseline rows: row name -> (estimator class, parameters that differ from its defaults)
VARIANTS: dict[str, tuple[str, dict]] = {
    "CC (MTDC, mutual=False)": ("MTDC", {"mutual": False}),
    "MTDC, no warm-up": ("MTDC", {"mutual_warmup_epochs": 0}),
    "MTDC, no warm-up, no HCR": ("MTDC", {"mutual_warmup_epochs": 0, "hcr_weight": 0.0}),
    "MTDC, no warm-up, no PCL": ("MTDC", {"mutual_warmup_epochs": 0, "supcon_weight": 0.0}),
    "HaDis, k-means labels": ("HaDis", {"final_clustering": "kmeans"}),
    "HaDis, no HSD": ("HaDis", {"hsd_weight": 0.0}),
    "HaDis, no PSL": ("HaDis", {"cluster_loss_weight": 0.0}),
    "MTDC, defaults (T 0.5, batch 256)": ("MTDC", {"temperature_instance": 0.5, "batch_size": 256}),
}
#: the data sets each variant runs on: the CC baseline and MTDC without its CC warm-up (the reference schedule) on
#: the four image sets, the ablations of the reference schedule on COIL-20 (where it falls below CC) and digits,
#: HaDis with the reference's k-means labels on the four image sets, the HaDis ablations on USPS and digits, and MTDC
#: on USPS with its defaults (CC's instance temperature 0.5, batch 256) instead of the benchmark's USPS setting
VARIANT_DATASETS = {"CC (MTDC, mutual=False)": SINGLE_VIEW, "MTDC, no warm-up": SINGLE_VIEW,
                    "MTDC, no warm-up, no HCR": ["COIL-20", "digits"],
                    "MTDC, no warm-up, no PCL": ["COIL-20", "digits"],
                    "HaDis, k-means labels": SINGLE_VIEW,
                    "HaDis, no HSD": ["USPS", "digits"],
                    "HaDis, no PSL": ["USPS", "digits"],
                    "MTDC, defaults (T 0.5, batch 256)": ["USPS"]}

#: non-default settings per method (the CPU budget configurations); everything else is the default.
#: A key that names a data set holds settings for that data set only.
SETTINGS: dict[str, dict] = {
    "SPC": {"autoencoder": "mlp", "n_members": 5, "max_rounds": 5, "n_jobs": 2},
    "SeCu": {"COIL-20": {"batch_size": 64}},
    "HaDis": {"COIL-20": {"batch_size": 128}},
    "MTDC": {"COIL-20": {"batch_size": 128}, "USPS": {"temperature_instance": 1.0, "batch_size": 128}},
}


#: every table row, in table order: the methods, their variants, the baselines
ROWS = list(DEEP) + list(VARIANTS) + BASELINES


def settings_for(method: str, dataset: str) -> dict:
    """Estimator parameters of ``method`` (a class or a variant row) on ``dataset`` beyond the defaults."""
    cls, params = VARIANTS.get(method, (method, {}))
    base = SETTINGS.get(cls, {})
    flat = {k: v for k, v in base.items() if k not in DEEP.get(cls, ())}
    return {**flat, **base.get(dataset, {}), **params}


def estimator_class(method: str) -> str:
    """The skdeepclust class behind a table row."""
    return VARIANTS.get(method, (method, {}))[0]


def _load(dataset: str):
    """``(X, y, image_shape, view_sizes, X_baseline)`` for one dataset."""
    sys.path.insert(0, str(HERE))
    if dataset in MULTI_VIEW:
        from shared_data import DATA

        from skdeepclust import ViewScaler, stack_views
        from skdeepclust.datasets import load_mat_views

        ds = load_mat_views(DATA / f"{dataset}.mat")
        X, sizes = stack_views(ds.views)
        return X, ds.y, None, sizes, ViewScaler(view_sizes=sizes).fit_transform(X)
    from shared_data import LOADERS

    X, y, shape = LOADERS[dataset]()
    return X, y, shape, None, X


def run_one(method: str, dataset: str, seed: int) -> dict:
    """Fit one method on one dataset with one seed; return metrics, seconds and peak memory."""
    import torch
    from sklearn.cluster import KMeans, SpectralClustering
    from sklearn.mixture import GaussianMixture

    import skdeepclust
    from skdeepclust.metrics import evaluate_clustering

    X, y, shape, sizes, Xb = _load(dataset)
    k = int(y.max()) + 1
    t0 = time.perf_counter()
    if method == "KMeans":
        labels = KMeans(k, n_init=10, random_state=seed).fit_predict(Xb)
    elif method == "Spectral":
        labels = SpectralClustering(k, affinity="nearest_neighbors", n_neighbors=10, assign_labels="cluster_qr",
                                    random_state=seed).fit_predict(Xb)
    elif method == "GMM":
        Xp = Xb
        if Xb.shape[1] > 50:  # full covariances in pixel space are singular: reduce first
            from sklearn.decomposition import PCA

            Xp = PCA(50, random_state=seed).fit_transform(Xb)
        labels = GaussianMixture(k, covariance_type="full", n_init=3, random_state=seed).fit_predict(Xp)
    else:
        params = {"n_clusters": k, "device": "cpu", "random_state": seed, **settings_for(method, dataset)}
        if sizes is not None:
            params["view_sizes"] = sizes
        else:
            params["image_shape"] = shape
        est = getattr(skdeepclust, estimator_class(method))(**params)
        labels = est.fit_predict(X)
    sec = time.perf_counter() - t0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    record = {"method": method, "dataset": dataset, "seed": seed, **evaluate_clustering(y, labels), "sec": sec,
              "peak_mib": peak_mib, "threads": torch.get_num_threads(), "settings": settings_for(method, dataset)}
    if method == "SPC":
        from _table import spc_rounds

        record["rounds"] = spc_rounds(est, X, y)
    return record


def _cache(path: Path) -> list[dict]:
    """Cached runs made with the current settings; the latest run wins for each (method, dataset, seed)."""
    if not path.exists():
        return []
    latest = {}
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            if r.get("settings", {}) == settings_for(r["method"], r["dataset"]):
                latest[(r["method"], r["dataset"], r["seed"])] = r
    return list(latest.values())


def summary(runs: list[dict]) -> str:
    """ACC at a glance: one row per method, one column per data set (mean ± std over seeds), one block for
    the multi-view and one for the single-view data sets."""
    blocks = []
    for datasets in (MULTI_VIEW, SINGLE_VIEW):
        present = [d for d in datasets if any(r["dataset"] == d for r in runs)]
        if not present:
            continue
        lines = ["| method | " + " | ".join(present) + " |", "|---" * (len(present) + 1) + "|"]
        for m in ROWS:
            cells = []
            for ds in present:
                accs = [r["acc"] for r in runs if r["dataset"] == ds and r["method"] == m]
                cells.append(f"{np.mean(accs):.3f} ± {np.std(accs):.3f}" if accs else "")
            if any(cells):
                lines.append(f"| {m} | " + " | ".join(cells) + " |")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def table(runs: list[dict]) -> str:
    """Markdown report: the ACC summary, then one row per (dataset, method) with every metric."""
    from _table import ROUND_HEADER, mean_std, spc_round_rows

    lines = [
        "ACC, mean ± std over the seeds listed in the detailed table below (with the settings of each row).",
        "",
        summary(runs),
        "## Every metric",
        "",
        f"CPU ({platform.machine()}), seeds as listed; peak memory = max RSS of the run's own process.",
        "Settings other than the defaults: "
        + "; ".join(f"{m}: {json.dumps(s)}" for m, s in SETTINGS.items())
        + ". Variant rows: "
        + "; ".join(f"{name} = {cls}({json.dumps(p)}) on {', '.join(VARIANT_DATASETS[name])}"
                    for name, (cls, p) in VARIANTS.items())
        + ".",
        "",
        "| dataset | method | ACC | NMI | ARI | fit s | peak MiB | seeds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    order = MULTI_VIEW + SINGLE_VIEW
    for ds in order:
        for m in ROWS:
            rs = [r for r in runs if r["dataset"] == ds and r["method"] == m]
            if not rs:
                continue
            seeds = sorted(r["seed"] for r in rs)
            lines.append(
                f"| {ds} | {m} | {mean_std([r['acc'] for r in rs])} | {mean_std([r['nmi'] for r in rs])} | "
                f"{mean_std([r['ari'] for r in rs])} | {np.mean([r['sec'] for r in rs]):.1f} | "
                f"{np.max([r['peak_mib'] for r in rs]):.0f} | {','.join(map(str, seeds))} |"
            )
    spc = sorted((r for r in runs if r["method"] == "SPC" and "rounds" in r), key=lambda r: (r["dataset"], r["seed"]))
    if spc:
        lines += ["", "SPC rounds: fraction of samples selected by the vote, Hungarian ACC of the selected",
                  "pseudo-labels and of the whole vote (labels used only for this report), the round kept",
                  "(largest selected fraction), and how often `predict` agrees with `labels_` on the training data.",
                  "", ROUND_HEADER]
        for r in spc:
            lines += spc_round_rows(r["dataset"], r["seed"], r["rounds"])
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", nargs="+", default=ROWS)
    ap.add_argument("--datasets", nargs="+", default=MULTI_VIEW + SINGLE_VIEW)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--cache", type=Path, default=RESULTS / "runs.jsonl")
    ap.add_argument("--out", type=Path, default=RESULTS / "full_table.md")
    ap.add_argument("--force", action="store_true", help="re-run runs already in the cache")
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--readme", type=Path, nargs="?", const=HERE.parent / "README.md", default=None,
                    help="also put the ACC summary into the README (between its full-table markers)")
    ap.add_argument("--one", nargs=3, metavar=("METHOD", "DATASET", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], int(args.one[2]))))
        return
    unknown = [m for m in args.methods if m not in DEEP and m not in VARIANTS and m not in BASELINES]
    if unknown:
        ap.error(f"unknown methods {unknown}")
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    if not args.table_only:
        done = {(r["method"], r["dataset"], r["seed"]) for r in _cache(args.cache)}
        for ds in args.datasets:
            for m in args.methods:
                if m in DEEP and ds not in DEEP[m] or m in VARIANTS and ds not in VARIANT_DATASETS[m]:
                    continue
                for seed in args.seeds:
                    if (m, ds, seed) in done and not args.force:
                        continue
                    out = subprocess.run([sys.executable, __file__, "--one", m, ds, str(seed)], check=True,
                                         capture_output=True, text=True).stdout
                    record = json.loads(out.strip().splitlines()[-1])
                    print(json.dumps(record), flush=True)
                    with args.cache.open("a") as f:
                        f.write(json.dumps(record) + "\n")
    runs = _cache(args.cache)
    text = table(runs)
    print(text)
    args.out.write_text(text)
    if args.readme:
        update_readme(args.readme, summary(runs))


def update_readme(path: Path, text: str) -> None:
    """Replace the text between the README's full-table markers with ``text``."""
    readme = path.read_text()
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"{path} has no {README_START} ... {README_END} block")
    path.write_text(readme[: start + len(README_START)] + "\n" + text + readme[end:])


if __name__ == "__main__":
    main()
