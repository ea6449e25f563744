"""The benchmark report: every method and the baselines x every dataset, in one command.

Usage::

    python benchmarks/run_all.py                       # everything (hours on a 2-core CPU)
    python benchmarks/run_all.py --methods SPC KMeans --datasets USPS digits --seeds 0 1 2
    python benchmarks/run_all.py --table-only          # rebuild the report from the cached runs

Each (method, dataset, seed) runs in its own subprocess, so its peak memory (max RSS of that process,
data loading included) and fit seconds (wall clock; ``cpu_sec``: CPU seconds of all its threads) are its own.
Results are appended to a JSON-lines cache (``benchmarks/results/runs.jsonl``), each with the git commit it
ran on and whether the tree was dirty; runs already in the cache are skipped unless ``--force``, so a long
benchmark can be done in parts. A cached run counts for a table row when it used the same estimator with the
same effective settings (parameters equal to the estimator's defaults are ignored). The Markdown report (an
ACC summary, then every metric, mean ± std over the seeds present) is written to
``benchmarks/results/full_table.md``.

The data sets, by kind, and the suite's development and validation halves are in ``suite.json``.
Methods: DistilMVC on the multi-view sets; HaDis, SeCu, MTDC and SPC on the single-view sets (images, with
``image_shape``) and on the tabular sets (standardised rows, without it);
the baselines KMeans, spectral clustering (k-NN graph) and a Gaussian mixture on the same inputs
(min-max-scaled, concatenated views for the multi-view sets; pixels for images; the standardised rows).
Each deep method gets the settings in ``SETTINGS`` (its defaults, except the settings stated there, for all
data sets or for one). ``VARIANTS`` adds the ablation, baseline and tuned rows: MTDC without its mutual terms (the
Contrastive Clustering baseline), MTDC without its CC warm-up (the reference schedule) and, on that
schedule, without one of the two terms, HaDis with k-means final labels, without HSD or without the
prototype term, and MTDC on USPS with settings chosen by looking at the labels (the row says so).

Peer rows (``PEERS``) run other packages' clustering on the baselines' inputs (each min-max-scaled view for the
multi-view sets, pixels for images): mvlearn's multi-view k-means and spectral clusterings, ClustPy's DEC, IDEC, DCN
and DKM, with the packages' defaults. They run only when named with ``--methods`` and need the packages
(``pip install skdeepclust[bench]`` for mvlearn; see ``results/studies/peers.md`` for ClustPy)::

    python benchmarks/run_all.py --methods "mvlearn MultiviewKMeans" "ClustPy DEC" --datasets BDGP digits --seeds 0
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from _table import report, spc_rounds
from _table import summary as _summary

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
#: the suite's data sets by kind, and its development and validation halves (``suite.json``, fixed before the runs)
SUITE = json.loads((HERE / "suite.json").read_text())
MULTI_VIEW = SUITE["kinds"]["multi-view"]
SINGLE_VIEW = SUITE["kinds"]["images"]  # images, fitted with ``image_shape``
TABULAR = SUITE["kinds"]["tabular"]  # standardised rows, fitted without ``image_shape``
#: the sets of the first reports, on which the variant rows ran
FIRST_MULTI_VIEW = ["MNIST_USPS", "BDGP", "HW", "Synthetic3d", "Hdigit", "digits-views"]
FIRST_SINGLE_VIEW = ["USPS", "MNIST-10k", "COIL-20", "digits"]
BASELINES = ["KMeans", "Spectral", "GMM"]
DEEP = {"DistilMVC": MULTI_VIEW, **{m: SINGLE_VIEW + TABULAR for m in ("HaDis", "SeCu", "MTDC", "SPC")}}

#: ablation, baseline and tuned rows: row name -> (estimator class, parameters that differ from its defaults); a
#: class that skdeepclust does not export is an ablation of ``ablations.py``
VARIANTS: dict[str, tuple[str, dict]] = {
    # the reference code's pipeline at the CPU network sizes (the defaults before neighbour pairing, consensus
    # pseudo-labels and stage lengths in steps), then each of those three mechanisms removed on its own
    "DistilMVC, reference pipeline": ("DistilMVCKMeansPseudoLabels", {
        "n_epochs_pretrain": 50, "n_epochs_contrastive": 50, "n_epochs_distill": 50, "distill_batch_size": 10000,
        "n_pair_neighbors": 0}),
    "DistilMVC, no neighbour pairing": ("DistilMVC", {"n_pair_neighbors": 0}),
    "DistilMVC, k-means pseudo-labels": ("DistilMVCKMeansPseudoLabels", {}),
    "DistilMVC, latent-graph pseudo-labels": ("DistilMVCLatentPseudoLabels", {}),
    "DistilMVC, 50 epochs per stage": ("DistilMVC", {"n_epochs_pretrain": 50, "n_epochs_contrastive": 50,
                                                     "n_epochs_distill": 50}),
    # the contrastive stage at the reference's 50 epochs, without the checkpoints "auto" adds on small data
    "DistilMVC, contrastive stage 50 epochs": ("DistilMVC", {"n_epochs_contrastive": 50}),
    "CC (MTDC without mutual terms)": ("MTDC", {"hcr_weight": 0.0, "supcon_weight": 0.0}),
    "MTDC, no warm-up": ("MTDC", {"n_epochs_warmup": 0}),
    "MTDC, no warm-up, no HCR": ("MTDC", {"n_epochs_warmup": 0, "hcr_weight": 0.0}),
    "MTDC, no warm-up, no PCL": ("MTDC", {"n_epochs_warmup": 0, "supcon_weight": 0.0}),
    "HaDis, k-means labels": ("HaDis", {"final_clustering": "kmeans"}),
    "HaDis, no HSD": ("HaDisNoHSD", {}),
    "HaDis, no PSL": ("HaDis", {"prototype_weight": 0.0}),
    "MTDC, T 1.0, batch 128 (chosen with labels)": ("MTDC", {"temperature_instance": 1.0, "batch_size": 128}),
    "HaDis, batch 128 (chosen with labels)": ("HaDis", {"batch_size": 128}),
    "SeCu, batch 64 (chosen with labels)": ("SeCu", {"batch_size": 64}),
    "MTDC, batch 128 (chosen with labels)": ("MTDC", {"batch_size": 128}),
    # a looser size constraint: the smallest cluster may hold 60 % of the mean instead of 90 % (USPS's smallest
    # class holds 76 %, breast cancer's 75 %), a candidate default measured on the development half; not adopted
    # (seed 0: 0.916 against 0.903 on breast cancer; 0.780 on the digits, below the defaults' 0.885 and spectral
    # clustering's 0.804: the looser bound lets balanced classes merge)
    "SeCu, size ratio 0.6": ("SeCu", {"size_ratio": 0.6}),
}
#: the data sets each variant runs on: the CC baseline and MTDC without its CC warm-up (the reference schedule) on
#: the four image sets, the ablations of the reference schedule on COIL-20 (where it falls below CC) and digits,
#: HaDis with the reference's k-means labels on the four image sets, the HaDis ablations on USPS and digits, and MTDC
#: on USPS with the instance temperature and batch size that keep its largest class whole (chosen with the labels,
#: see results/studies/mtdc_usps_largest_class.md)
VARIANT_DATASETS = {"DistilMVC, reference pipeline": FIRST_MULTI_VIEW,
                    "DistilMVC, no neighbour pairing": FIRST_MULTI_VIEW,
                    "DistilMVC, k-means pseudo-labels": FIRST_MULTI_VIEW,
                    "DistilMVC, latent-graph pseudo-labels": FIRST_MULTI_VIEW,
                    "DistilMVC, 50 epochs per stage": FIRST_MULTI_VIEW,
                    "DistilMVC, contrastive stage 50 epochs": ["BDGP", "Synthetic3d", "digits-views"],
                    "CC (MTDC without mutual terms)": FIRST_SINGLE_VIEW, "MTDC, no warm-up": FIRST_SINGLE_VIEW,
                    "MTDC, no warm-up, no HCR": ["COIL-20", "digits"],
                    "MTDC, no warm-up, no PCL": ["COIL-20", "digits"],
                    "HaDis, k-means labels": FIRST_SINGLE_VIEW,
                    "HaDis, no HSD": ["USPS", "digits"],
                    "HaDis, no PSL": ["USPS", "digits"],
                    "MTDC, T 1.0, batch 128 (chosen with labels)": ["USPS"],
                    "HaDis, batch 128 (chosen with labels)": ["COIL-20"],
                    "SeCu, batch 64 (chosen with labels)": ["COIL-20"],
                    "MTDC, batch 128 (chosen with labels)": ["COIL-20"],
                    "SeCu, size ratio 0.6": [s for s in SUITE["development"] if s in SINGLE_VIEW + TABULAR]}

#: non-default settings of the main rows; everything else is the default: SPC's CPU budget configuration (chosen
#: for time, not score). A key that names a data set holds settings for that data set only. Settings chosen by
#: looking at the labels are variant rows that say so (the COIL-20 batch sizes, see
#: results/studies/coil20_batch_size.md), never main rows.
SETTINGS: dict[str, dict] = {
    "SPC": {"autoencoder": "mlp", "n_members": 5, "max_rounds": 5, "n_jobs": 2},
}


#: rows of other packages, imported only when they run (optional): row name -> (package, class, its parameters beyond
#: the package's defaults, the number of clusters and the seed); ClustPy's are also given ``device="cpu"``
PEERS: dict[str, tuple[str, str, dict]] = {
    "mvlearn MultiviewKMeans": ("mvlearn", "MultiviewKMeans", {}),
    "mvlearn MultiviewSpectralClustering": ("mvlearn", "MultiviewSpectralClustering", {}),
    "mvlearn MultiviewCoRegSpectralClustering": ("mvlearn", "MultiviewCoRegSpectralClustering", {}),
    "ClustPy DEC": ("clustpy", "DEC", {}),
    "ClustPy IDEC": ("clustpy", "IDEC", {}),
    "ClustPy DCN": ("clustpy", "DCN", {}),
    "ClustPy DKM": ("clustpy", "DKM", {}),
}
#: the module of each package's estimators
PEER_MODULES = {"mvlearn": "mvlearn.cluster", "clustpy": "clustpy.deep"}
#: the data sets each peer row applies to: mvlearn's MultiviewKMeans takes exactly two views (not HW's six nor
#: Synthetic3d's three); its spectral clusterings hold dense n x n affinities (and multiply them, O(n^3) per
#: iteration, in MultiviewSpectralClustering), which is beyond a 2-core budget on Hdigit's 10000 samples
PEER_DATASETS = {
    "mvlearn MultiviewKMeans": ["MNIST_USPS", "BDGP", "Hdigit", "digits-views"],
    "mvlearn MultiviewSpectralClustering": ["MNIST_USPS", "BDGP", "HW", "Synthetic3d", "digits-views"],
    "mvlearn MultiviewCoRegSpectralClustering": ["MNIST_USPS", "BDGP", "HW", "Synthetic3d", "digits-views"],
    **{name: FIRST_SINGLE_VIEW for name, (package, _, _) in PEERS.items() if package == "clustpy"},
}

#: every table row, in table order: the methods, their variants, the baselines, the other packages
ROWS = list(DEEP) + list(VARIANTS) + BASELINES + list(PEERS)


#: parameters renamed since runs were recorded (CHANGELOG.md), per estimator: old name -> name now
RENAMED = {
    "DistilMVC": {"head_hidden_dim": "projection_hidden_dim", "n_neighbors": "n_pair_neighbors"},
    "HaDis": {"max_epochs": "n_epochs", "warmup_epochs": "n_epochs_warmup", "cluster_loss_weight": "prototype_weight",
              "temperature": "temperature_prototype", "hsd_tau": "temperature_hsd"},
    "SeCu": {"max_epochs": "n_epochs", "warmup_epochs": "n_epochs_warmup", "temperature_repr": "temperature_instance",
             "temperature_centre": "temperature_center"},
    "MTDC": {"max_epochs": "n_epochs", "mutual_warmup_epochs": "n_epochs_warmup", "projection_dim": "feature_dim",
             "supcon_temperature": "temperature_supcon"},
    "SPC": {"pretrain_epochs": "n_epochs_pretrain", "epochs_per_round": "n_epochs_round",
            "head_hidden": "head_hidden_dim"},
}
#: removed switches: (estimator, parameter, value) -> (the class that now stands for it, the settings it implies)
SWITCHES = {
    ("SPC", "embedding", "none"): ("SPCRawCodes", {}),
    ("DistilMVC", "pseudo_labels", "auto"): ("DistilMVC", {}),
    ("DistilMVC", "pseudo_labels", "spectral"): ("DistilMVCLatentPseudoLabels", {}),
    ("DistilMVC", "pseudo_labels", "kmeans"): ("DistilMVCKMeansPseudoLabels", {}),
    ("MTDC", "mutual", False): ("MTDC", {"hcr_weight": 0.0, "supcon_weight": 0.0}),
    ("MTDC", "mutual", True): ("MTDC", {}),
    ("HaDis", "hsd_weight", 0.0): ("HaDisNoHSD", {}),
    ("HaDis", "hsd_weight", 1.0): ("HaDis", {}),
}


def modernise(cls: str, settings: dict) -> tuple[str, dict]:
    """The estimator class and settings of a recorded run in today's parameter names."""
    renamed = RENAMED.get(cls, {})
    new_cls, out = cls, {}
    for key, value in settings.items():
        if (cls, key, value) in SWITCHES:
            new_cls, implied = SWITCHES[cls, key, value]
            out.update(implied)
        else:
            out[renamed.get(key, key)] = value
    return new_cls, out


def _benchmarks_on_path() -> None:
    """Make this folder's modules (``ablations``, ``shared_data``) importable, once."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))


def estimator_type(cls: str) -> type:
    """The class named ``cls``: a skdeepclust estimator, or an ablation of ``ablations.py``."""
    import skdeepclust

    if hasattr(skdeepclust, cls):
        return getattr(skdeepclust, cls)
    _benchmarks_on_path()
    import ablations

    return getattr(ablations, cls)


def _is_deep(cls: str) -> bool:
    """Whether ``cls`` is one of the deep estimators or an ablation of one."""
    return cls in DEEP or (cls not in BASELINES and cls not in PEERS and any(
        c.__name__ in DEEP for c in estimator_type(cls).__mro__))


def settings_for(method: str, dataset: str) -> dict:
    """Estimator parameters of ``method`` (a class, a variant or a peer row) on ``dataset`` beyond the defaults."""
    if method in PEERS:
        return dict(PEERS[method][2])
    cls, params = VARIANTS.get(method, (method, {}))
    base = SETTINGS.get(cls, {})
    flat = {k: v for k, v in base.items() if k not in DEEP.get(cls, ())}
    return {**flat, **base.get(dataset, {}), **params}


def estimator_class(method: str) -> str:
    """The skdeepclust class (or the baseline or peer row) behind a table row."""
    return VARIANTS.get(method, (method, {}))[0]


def runs_on(method: str, dataset: str) -> bool:
    """Whether the table has a row ``method`` for ``dataset``."""
    if method in DEEP:
        return dataset in DEEP[method]
    if method in VARIANTS:
        return dataset in VARIANT_DATASETS[method]
    if method in PEERS:
        return dataset in PEER_DATASETS[method]
    return method in BASELINES


@functools.cache
def _defaults(cls: str) -> dict:
    return {k: json.dumps(v, sort_keys=True, default=repr) for k, v in estimator_type(cls)().get_params().items()}


def effective_settings(cls: str, settings: dict) -> dict:
    """``settings`` without the parameters that equal the estimator's defaults."""
    if cls in BASELINES or cls in PEERS:
        return dict(settings)
    defaults = _defaults(cls)
    return {k: v for k, v in settings.items() if json.dumps(v, sort_keys=True, default=repr) != defaults.get(k)}


#: row names of earlier reports, by the estimator class their runs used
OLD_ROWS = {"CC (MTDC, mutual=False)": "MTDC"}


def _record_class(record: dict) -> str:
    """The estimator of a cached run (runs recorded without ``"estimator"`` name it in their row; they predate the
    ablation classes, so a variant row's run used the skdeepclust estimator the ablation derives from)."""
    if "estimator" in record:
        return record["estimator"]
    name = record["method"]
    if name in OLD_ROWS:
        return OLD_ROWS[name]
    if name in VARIANTS or name in DEEP or name in BASELINES or name in PEERS:
        cls = estimator_class(name)
        return cls if cls in BASELINES or cls in PEERS or cls in DEEP else next(
            c.__name__ for c in estimator_type(cls).__mro__ if c.__name__ in DEEP)
    return name.split(",")[0]


@functools.cache
def _shape_of(dataset: str) -> tuple[int, int]:
    """``(n_samples, n_clusters)`` of a data set."""
    X, y, *_ = _load(dataset)
    return X.shape[0], int(y.max()) + 1


def _resolves_default(cls: str, key: str, value, dataset: str) -> bool:
    """Whether an explicit setting of a recorded run is what the estimator's ``"auto"`` default computes on
    ``dataset``, so the run is a default run: MTDC's former default ``batch_size=256``, which ``"auto"`` keeps up
    to 25 clusters."""
    from skdeepclust.mtdc import BASE_BATCH_SIZE, _batch_size

    if cls == "MTDC" and key == "batch_size" and value == BASE_BATCH_SIZE:
        n, k = _shape_of(dataset)
        return _batch_size("auto", k, n) == _batch_size(value, k, n)
    return False


def row_of(record: dict) -> str | None:
    """The table row a cached run belongs to: same estimator, same effective settings on its data set (runs
    recorded with parameters since renamed or removed are read in today's names, :func:`modernise`)."""
    cls, ds = _record_class(record), record["dataset"]
    try:
        known = cls in BASELINES or cls in PEERS or _is_deep(cls)
    except AttributeError:  # a class that no longer exists
        known = False
    if known and cls not in BASELINES and cls not in PEERS:
        cls, settings = modernise(cls, record.get("settings", {}))
        settings = {k: v for k, v in settings.items() if not _resolves_default(cls, k, v, ds)}
    else:
        settings = record.get("settings", {})
    mine = effective_settings(cls, settings) if known else None
    for m in ROWS:
        if (estimator_class(m) == cls and runs_on(m, ds)
                and effective_settings(cls, settings_for(m, ds)) == mine):
            return m
    return None


@functools.cache
def code_version() -> dict:
    """The git commit the runs use and whether tracked files had uncommitted changes (``dirty``)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True).stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or None,
            # the run cache and reports are written while runs go on: not a change of the code
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results")),
            "package_tree": git("rev-parse", "HEAD:skdeepclust") or None,
            "package_dirty": bool(git("status", "--porcelain", "--untracked-files=no", "--", "skdeepclust"))}


def _load(dataset: str):
    """``(X, y, image_shape, view_sizes, X_baseline)`` for one dataset."""
    _benchmarks_on_path()
    if dataset in MULTI_VIEW:
        from shared_data import load_views

        from skdeepclust import ViewScaler, stack_views

        ds = load_views(dataset)
        X, sizes = stack_views(ds.views)
        return X, ds.y, None, sizes, ViewScaler(view_sizes=sizes).fit_transform(X)
    from shared_data import LOADERS

    X, y, shape = LOADERS[dataset]()
    return X, y, shape, None, X  # tabular sets: shape None


#: the Gaussian mixture's covariance regularisation when the default (1e-6) leaves a component singular
GMM_REG_COVAR = 1e-3


def fit_baseline(method: str, Xb, k: int, seed: int) -> tuple:
    """Labels of one classical baseline on the baselines' input ``Xb``, and a note of any fallback taken.

    KMeans (10 restarts), spectral clustering of the 10-NN graph (``cluster_qr`` labels), or a full-covariance
    Gaussian mixture (3 restarts; on 50 principal components when ``Xb`` is wider, refitted with
    ``reg_covar=GMM_REG_COVAR`` when a component collapses, which the note records).
    """
    from sklearn.cluster import KMeans, SpectralClustering
    from sklearn.mixture import GaussianMixture

    if method == "KMeans":
        return KMeans(k, n_init=10, random_state=seed).fit_predict(Xb), {}
    if method == "Spectral":
        return SpectralClustering(k, affinity="nearest_neighbors", n_neighbors=10, assign_labels="cluster_qr",
                                  random_state=seed).fit_predict(Xb), {}
    Xp = Xb
    if Xb.shape[1] > 50:  # full covariances in pixel space are singular: reduce first
        from sklearn.decomposition import PCA

        Xp = PCA(50, random_state=seed).fit_transform(Xb)
    try:
        return GaussianMixture(k, covariance_type="full", n_init=3, random_state=seed).fit_predict(Xp), {}
    except ValueError:  # a collapsed component (Isolet: 26 classes of 60 rows in 50 dimensions)
        labels = GaussianMixture(k, covariance_type="full", n_init=3, reg_covar=GMM_REG_COVAR,
                                 random_state=seed).fit_predict(Xp.astype("float64"))
        return labels, {"gmm_reg_covar": GMM_REG_COVAR}


def run_one(method: str, dataset: str, seed: int) -> dict:
    """Fit one method on one dataset with one seed; return metrics, seconds and peak memory."""
    import torch

    from skdeepclust.metrics import evaluate_clustering

    X, y, shape, sizes, Xb = _load(dataset)
    k = int(y.max()) + 1
    gmm_note: dict = {}
    t0, c0 = time.perf_counter(), time.process_time()
    if method in BASELINES:
        labels, gmm_note = fit_baseline(method, Xb, k, seed)
    elif method in PEERS:
        labels = _fit_peer(method, Xb, sizes, k, seed)
    else:
        params = {"n_clusters": k, "device": "cpu", "random_state": seed, **settings_for(method, dataset)}
        if sizes is not None:
            params["view_sizes"] = sizes
        elif shape is not None:
            params["image_shape"] = shape
        est = estimator_type(estimator_class(method))(**params)
        labels = est.fit_predict(X)
    sec, cpu_sec = time.perf_counter() - t0, time.process_time() - c0
    if FITS is not None and method in DEEP:
        _save_fit(method, dataset, seed, labels, est.transform(X))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    record = {"method": method, "estimator": estimator_class(method), "dataset": dataset, "seed": seed,
              **evaluate_clustering(y, labels), "sec": sec, "cpu_sec": cpu_sec, "peak_mib": peak_mib,
              "threads": torch.get_num_threads(),
              "settings": settings_for(method, dataset), **gmm_note, **code_version()}
    if method == "SPC":
        record["rounds"] = spc_rounds(est, X, y)
    if method in DEEP and hasattr(est, "consensus_"):  # DistilMVC: the graph its pseudo-labels came from, and why
        scores = {k: float(v) for k, v in est.consensus_scores_.items()}
        record["consensus"] = {"chosen": est.consensus_, "scores": scores}
    if method in PEERS:
        from importlib.metadata import version

        record["package"] = {PEERS[method][0]: version(PEERS[method][0])}
    return record


#: a folder where each main-row deep fit leaves its labels and embedding (``--save-fits``), for studies of the
#: final partition that need no refit; ``None``: nothing is saved
FITS: Path | None = None


def _save_fit(method: str, dataset: str, seed: int, labels, embedding) -> None:
    import numpy as np

    FITS.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(FITS / f"{method}_{dataset}_{seed}.npz", labels=np.asarray(labels),
                        embedding=np.asarray(embedding, dtype=np.float32), **code_version())


def _fit_peer(method: str, Xb, sizes, k: int, seed: int):
    """Labels of a peer row: mvlearn on the list of scaled views, ClustPy on the pixels (imported here, so the
    driver runs without them)."""
    import importlib

    import numpy as np

    package, cls, params = PEERS[method]
    estimator = getattr(importlib.import_module(PEER_MODULES[package]), cls)
    if package == "mvlearn":
        views = np.split(Xb, np.cumsum(sizes)[:-1], axis=1)
        return estimator(n_clusters=k, random_state=seed, **params).fit_predict(views)
    return estimator(n_clusters=k, random_state=seed, device="cpu", **params).fit(Xb).labels_


def _cache(path: Path) -> list[dict]:
    """Cached runs, each filed under its table row (:func:`row_of`; runs of no current row are left out);
    the latest run wins for each (row, dataset, seed)."""
    if not path.exists():
        return []
    latest = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            r = json.loads(line)
            row = row_of(r)
            if row is not None:
                latest[(row, r["dataset"], r["seed"])] = {**r, "method": row, "_line": number}
    return list(latest.values())


def summary(runs: list[dict]) -> str:
    """ACC at a glance: one row per table row, one column per data set (mean ± std over seeds), one block
    for the multi-view and one for the single-view data sets."""
    return _summary(runs, (MULTI_VIEW, SINGLE_VIEW, TABULAR), ROWS)


def _sets_run(runs: list[dict], row: str) -> str:
    """The data sets a table row has runs on, in the order of its data set list, or that it has none."""
    done = {r["dataset"] for r in runs if r["method"] == row}
    return ", ".join(d for d in VARIANT_DATASETS.get(row, DEEP.get(row, [])) if d in done) or "no runs"


def table(runs: list[dict]) -> str:
    """The Markdown report: the ACC summary, then one row per (dataset, method) with every metric."""
    notes = [
        f"CPU ({platform.machine()}), seeds as listed; peak memory = max RSS of the run's own process.",
        "Settings other than the defaults: "
        + "; ".join(f"{m}: {json.dumps(s)}" for m, s in SETTINGS.items())
        + ". Variant rows (with the data sets they have runs on): "
        + "; ".join(f"{name} = {cls}({json.dumps(p)}) on {_sets_run(runs, name)}"
                    for name, (cls, p) in VARIANTS.items())
        + ".",
        "Peer rows (other packages, their defaults; studies/peers.md gives their CPU seconds, as their runs here "
        "were made at nice 19 on busy cores, which inflated their fit s): "
        + "; ".join(f"{name} = {PEER_MODULES[package]}.{cls}({json.dumps(p)})"
                    for name, (package, cls, p) in PEERS.items())
        + ".",
    ]
    return report(runs, (MULTI_VIEW, SINGLE_VIEW, TABULAR), ROWS, notes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", nargs="+", default=[m for m in ROWS if m not in PEERS],
                    help="table rows to run (default: all but the peer rows, which need other packages)")
    ap.add_argument("--datasets", nargs="+", default=MULTI_VIEW + SINGLE_VIEW + TABULAR)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--cache", type=Path, default=RESULTS / "runs.jsonl")
    ap.add_argument("--out", type=Path, default=RESULTS / "full_table.md")
    ap.add_argument("--force", action="store_true", help="re-run runs already in the cache")
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--save-fits", type=Path, default=None,
                    help="folder where each main-row deep fit leaves its labels and embedding (.npz)")
    ap.add_argument("--one", nargs=3, metavar=("METHOD", "DATASET", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    global FITS
    FITS = args.save_fits
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], int(args.one[2]))))
        return
    unknown = [m for m in args.methods if m not in ROWS]
    if unknown:
        ap.error(f"unknown methods {unknown}")
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    if not args.table_only:
        done = {(r["method"], r["dataset"], r["seed"]) for r in _cache(args.cache)}
        for ds in args.datasets:
            for m in args.methods:
                if not runs_on(m, ds):
                    continue
                for seed in args.seeds:
                    if (m, ds, seed) in done and not args.force:
                        continue
                    extra = ["--save-fits", str(args.save_fits)] if args.save_fits else []
                    out = subprocess.run([sys.executable, __file__, *extra, "--one", m, ds, str(seed)], check=True,
                                         capture_output=True, text=True).stdout
                    record = json.loads(out.strip().splitlines()[-1])
                    print(json.dumps(record), flush=True)
                    with args.cache.open("a") as f:
                        f.write(json.dumps(record) + "\n")
    runs = _cache(args.cache)
    text = table(runs)
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
