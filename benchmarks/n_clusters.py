"""Estimating the number of clusters without labels: candidate estimators on every set of the suite.

Usage::

    python benchmarks/n_clusters.py                         # every set, every part (resumable)
    python benchmarks/n_clusters.py --parts spectral --datasets iris wine
    python benchmarks/n_clusters.py --table-only            # rebuild results/n_clusters.md from the cache

For each set it records *curves over the candidate k*, not only a choice, so that decision rules can be
compared afterwards without recomputing (``--table-only`` applies them):

``spectral``
    The symmetric 10-NN graph of the baselines' input (:func:`skdeepclust.cluster.knn_graph`; images: pixels,
    tabular: standardised, multi-view: min-max-scaled concatenation), the largest eigenvalues of its
    normalised adjacency (one eigen-decomposition), the same for a ``round(sqrt(n) / 2)``-NN graph, and for
    every candidate ``k`` the modularity terms (edge share inside the clusters, share expected by chance) of
    the spectral clustering on the first ``k`` eigenvectors (column-pivoted QR, no restarts).
``graphs``
    The largest eigenvalues of other graphs of the same input, for the scaled eigengap: the symmetric 10-, 15-
    and 20-NN graphs (eigenvalues only; the ``multiscale`` rule averages the three sizes' scores), the
    ``round(log2(n))``-NN graph (a neighbourhood growing with ``n``: 7 at 150 rows, 13 at 10 000) and the
    10-NN graph with the self-tuning (local scaling) weights of Zelnik-Manor and Perona,
    ``exp(-d_ij^2 / (s_i s_j))`` with ``s_i`` the distance of row ``i`` to its 7th neighbour.
``sweeps``
    The classical sweeps with scikit-learn's KMeans (50 PCA components when wider, at most 2000 rows): the
    silhouette per k (``n_init=3``) and the gap statistic (5 uniform references in the data's box, ``n_init=1``,
    at most 1000 rows), on all k up to 30 and then steps of about 15 %.

The candidate range is ``2 .. min(n // 10, 200)`` (clusters of fewer than 10 rows are not looked for), as the
default of :func:`skdeepclust.estimate_n_clusters`. Each record carries the git commit; the cache is
``results/n_clusters.jsonl``. The decision rules are chosen on the development half of ``suite.json``; the
validation half is reported as it comes out.
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
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
RESULTS = HERE / "results"
CACHE = RESULTS / "n_clusters.jsonl"
TABLE = RESULTS / "n_clusters.md"
SUITE = json.loads((HERE / "suite.json").read_text())
DATASETS = SUITE["development"] + SUITE["validation"]


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "skdeepclust"], capture_output=True, text=True,
                           cwd=HERE).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def _input(dataset: str):
    from run_all import TABULAR, _load
    from sklearn.preprocessing import StandardScaler

    X, y, _shape, _sizes, Xb = _load(dataset)
    Xb = np.asarray(Xb, dtype=np.float64)
    if dataset in TABULAR:
        Xb = StandardScaler().fit_transform(Xb)
    return Xb, np.unique(y, return_inverse=True)[1]


def upper_bound(n: int) -> int:
    return int(max(2, min(n // 10, 200)))


def sweep_grid(upper: int) -> list[int]:
    grid = list(range(2, min(30, upper) + 1))
    k = 30
    while k < upper:
        k = min(upper, int(round(k * 1.15)))
        grid.append(k)
    return grid


def part_spectral(X: np.ndarray, upper: int) -> dict:
    import torch

    from skdeepclust.cluster import knn_graph
    from skdeepclust.cluster._n_clusters import modularity_terms, normalised_spectrum

    n = X.shape[0]
    out = {}
    t0 = time.perf_counter()
    graph = knn_graph(torch.from_numpy(X), 10, random_state=0)
    values, vectors, inv_sqrt = normalised_spectrum(graph, upper + 1, random_state=0)
    out["spectrum10"] = values.tolist()
    out["sec_spectrum10"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    inside, expected = modularity_terms(graph, vectors, inv_sqrt, range(2, upper + 1))
    out["mod_inside"], out["mod_expected"] = inside.tolist(), expected.tolist()
    out["sec_modularity"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    nn = int(max(5, round(np.sqrt(n) / 2)))
    graph = knn_graph(torch.from_numpy(X), nn, random_state=0)
    out["spectrum_rule"] = normalised_spectrum(graph, upper + 1, random_state=0)[0].tolist()
    out["nn_rule"] = nn
    out["sec_spectrum_rule"] = time.perf_counter() - t0
    return out


def part_sweeps(X: np.ndarray, upper: int) -> dict:
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    if X.shape[1] > 50:
        X = PCA(50, random_state=0).fit_transform(X)
    grid = sweep_grid(upper)
    Xs = X[rng.choice(X.shape[0], 2000, replace=False)] if X.shape[0] > 2000 else X
    sil = []
    for k in grid:
        labels = KMeans(k, n_init=3, random_state=0).fit_predict(Xs)
        sil.append(float(silhouette_score(Xs, labels)))
    t_sil = time.perf_counter() - t0
    t0 = time.perf_counter()
    Xg = X[rng.choice(X.shape[0], 1000, replace=False)] if X.shape[0] > 1000 else X
    lo, hi = Xg.min(0), Xg.max(0)
    refs = [rng.uniform(lo, hi, size=Xg.shape) for _ in range(5)]
    gap, sd = [], []
    for k in grid:
        w = np.log(KMeans(k, n_init=1, random_state=0).fit(Xg).inertia_)
        wr = np.log([KMeans(k, n_init=1, random_state=0).fit(r).inertia_ for r in refs])
        gap.append(float(wr.mean() - w))
        sd.append(float(wr.std() * np.sqrt(1 + 1 / len(refs))))
    return {"grid": grid, "silhouette": sil, "gap": gap, "gap_sd": sd, "sec_silhouette": t_sil,
            "sec_gap": time.perf_counter() - t0}


def _modularity_on_grid(graph, vectors, inv_sqrt, upper: int) -> tuple[list, list]:
    """Modularity terms on the package's candidate grid, as lists over k = 2 .. upper (None off the grid)."""
    from skdeepclust.cluster._n_clusters import candidate_ks, modularity_terms

    ks = candidate_ks(2, upper)
    inside, expected = modularity_terms(graph, vectors, inv_sqrt, ks)
    full_in, full_ex = [None] * (upper - 1), [None] * (upper - 1)
    for k, a, b in zip(ks, inside, expected, strict=True):
        full_in[k - 2], full_ex[k - 2] = float(a), float(b)
    return full_in, full_ex


def part_snn(X: np.ndarray, upper: int) -> dict:
    import torch

    from skdeepclust.cluster import nearest_neighbors
    from skdeepclust.cluster._n_clusters import normalised_spectrum, shared_neighbor_graph

    out = {}
    for nn in (10, 20):
        t0 = time.perf_counter()
        idx = nearest_neighbors(torch.from_numpy(X), min(nn + 1, X.shape[0]), random_state=0)[1].numpy()
        graph = shared_neighbor_graph(idx)
        values, vectors, inv_sqrt = normalised_spectrum(graph, upper + 1, random_state=0)
        out[f"snn{nn}_spectrum"] = values.tolist()
        out[f"snn{nn}_inside"], out[f"snn{nn}_expected"] = _modularity_on_grid(graph, vectors, inv_sqrt, upper)
        out[f"sec_snn{nn}"] = time.perf_counter() - t0
    return out


def part_pca(X: np.ndarray, upper: int) -> dict:
    """The 10-NN graph and the shared-neighbour graph of the first 50 principal components (a first embedding)."""
    import torch
    from sklearn.decomposition import PCA

    from skdeepclust.cluster import knn_graph, nearest_neighbors
    from skdeepclust.cluster._n_clusters import normalised_spectrum, shared_neighbor_graph

    out = {}
    t0 = time.perf_counter()
    Z = PCA(50, random_state=0).fit_transform(X) if X.shape[1] > 50 else X
    out["sec_pca"] = time.perf_counter() - t0
    for kind in ("knn", "snn"):
        t0 = time.perf_counter()
        if kind == "knn":
            graph = knn_graph(torch.from_numpy(Z), 10, random_state=0)
        else:
            graph = shared_neighbor_graph(nearest_neighbors(torch.from_numpy(Z), min(11, Z.shape[0]))[1].numpy())
        values, vectors, inv_sqrt = normalised_spectrum(graph, upper + 1, random_state=0)
        out[f"pca_{kind}_spectrum"] = values.tolist()
        out[f"pca_{kind}_inside"], out[f"pca_{kind}_expected"] = _modularity_on_grid(graph, vectors, inv_sqrt, upper)
        out[f"sec_pca_{kind}"] = time.perf_counter() - t0
    return out


def self_tuning_graph(X: np.ndarray, n_neighbors: int = 10, scale_neighbor: int = 7):
    """The symmetric k-NN graph weighted by local scaling (Zelnik-Manor and Perona, 2004).

    Edge ``(i, j)`` of the k-NN lists weighs ``exp(-d_ij^2 / (s_i s_j))``, ``s_i`` the distance of row ``i`` to
    its ``scale_neighbor``-th nearest row; the graph is ``(W + W^T) / 2`` as :func:`skdeepclust.cluster.knn_graph`.
    """
    import torch
    from scipy import sparse

    from skdeepclust.cluster import nearest_neighbors

    n = X.shape[0]
    k = min(max(n_neighbors, scale_neighbor) + 1, n)
    dist, idx = (t.numpy() for t in nearest_neighbors(torch.from_numpy(X), k, random_state=0))
    scale = np.maximum(dist[:, min(scale_neighbor, k - 1)], 1e-12)
    dist, idx = dist[:, : n_neighbors + 1], idx[:, : n_neighbors + 1]
    w = np.exp(-(dist**2) / (scale[:, None] * scale[idx]))
    conn = sparse.csr_matrix((w.ravel(), (np.repeat(np.arange(n), idx.shape[1]), idx.ravel())), shape=(n, n))
    return (0.5 * (conn + conn.T)).tocsr()


def part_graphs(X: np.ndarray, upper: int) -> dict:
    """The spectra of the 10-, 15-, 20- and round(log2(n))-NN graphs and the self-tuning 10-NN graph, and seconds."""
    import torch

    from skdeepclust.cluster import knn_graph
    from skdeepclust.cluster._n_clusters import normalised_spectrum

    out = {}
    log2n = int(round(np.log2(X.shape[0])))
    for nn, key in ((10, "spectrum10_values"), (15, "spectrum15"), (20, "spectrum20"), (log2n, "spectrum_log2n")):
        # the 10-NN spectrum again, eigenvalues only, for seconds comparable to the others
        t0 = time.perf_counter()
        graph = knn_graph(torch.from_numpy(X), nn, random_state=0)
        values = normalised_spectrum(graph, upper + 1, random_state=0, vectors=False)[0].tolist()
        out[key], out[f"sec_{key}"] = values, time.perf_counter() - t0
    t0 = time.perf_counter()
    graph = self_tuning_graph(X)
    out["spectrum_st10"] = normalised_spectrum(graph, upper + 1, random_state=0, vectors=False)[0].tolist()
    out["sec_spectrum_st10"] = time.perf_counter() - t0
    return out


def part_auto(X: np.ndarray, upper: int) -> dict:
    """The package's default estimate, as ``n_clusters="auto"`` runs it (seed 0), and its seconds."""
    from skdeepclust import estimate_n_clusters

    t0 = time.perf_counter()
    k = estimate_n_clusters(X, random_state=0)
    return {"k_auto": int(k), "sec_auto": time.perf_counter() - t0}


PARTS = {"auto": part_auto, "spectral": part_spectral, "sweeps": part_sweeps, "snn": part_snn, "pca": part_pca,
         "graphs": part_graphs}


def run_fit(method: str, dataset: str, seed: int = 0) -> dict:
    """One estimator with its defaults, fitted with the true k and with ``n_clusters="auto"``: NMI, ACC, seconds."""
    from run_all import _load

    import skdeepclust
    from skdeepclust.metrics import evaluate_clustering

    X, y, shape, sizes, _ = _load(dataset)
    k_true = int(np.unique(y).size)
    params = {"device": "cpu", "random_state": seed}
    if sizes is not None:
        params["view_sizes"] = sizes
    elif shape is not None:
        params["image_shape"] = shape
    rec = {"dataset": dataset, "part": f"fit:{method}", "method": method, "seed": seed, "n": X.shape[0],
           "k_true": k_true}
    for tag, k in (("true", k_true), ("auto", "auto")):
        est = getattr(skdeepclust, method)(n_clusters=k, **params)
        t0 = time.perf_counter()
        labels = est.fit_predict(X)
        rec[f"sec_{tag}"] = time.perf_counter() - t0
        rec[f"k_{tag}"] = int(est.n_clusters_)
        rec.update({f"{m}_{tag}": v for m, v in evaluate_clustering(y, labels).items()})
    # the deep path: the estimate again, on the embedding the "auto" fit learned
    t0 = time.perf_counter()
    rec["k_embedding"] = int(skdeepclust.estimate_n_clusters(est.transform(X), random_state=seed))
    rec["sec_embedding"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    skdeepclust.estimate_n_clusters(est._n_clusters_input(est._validate_input(X, reset=False)), random_state=seed)
    rec["sec_estimate"] = time.perf_counter() - t0
    return rec


def synthetic() -> str:
    """Two failure modes on synthetic data: very unequal cluster sizes, and clusters nested in groups."""
    from sklearn.datasets import make_blobs

    from skdeepclust import estimate_n_clusters

    lines = ["", "## Synthetic: unequal sizes and nested clusters", "",
             "10-D Gaussian blobs (`make_blobs`, centers in [-10, 10], std 3: a connected 10-NN graph), seed 0. "
             "Nested: 3 groups far apart (centers in [-60, 60]), each of 3 sub-blobs (std 1.5) around the group's "
             "center at the given spread, 80 rows each: 9 sub-clusters in 3 groups.", "",
             "| data | true k | auto (eigengap) | modularity |", "|---|---|---|---|"]
    for sizes in ([200, 200, 200], [400, 100, 100], [500, 50, 50], [550, 30, 20], [600, 15, 10]):
        X, _ = make_blobs(n_samples=sizes, n_features=10, cluster_std=3.0, center_box=(-10, 10), random_state=0)
        lines.append(f"| sizes {sizes} | 3 | {estimate_n_clusters(X, random_state=0)} | "
                     f"{estimate_n_clusters(X, method='modularity', random_state=0)} |")
    rng = np.random.default_rng(0)
    for spread in (4.0, 8.0, 15.0):
        centers = []
        for _ in range(3):
            c = rng.uniform(-60, 60, 10)
            centers += [c + rng.normal(0, spread, 10) for _ in range(3)]
        X, _ = make_blobs(n_samples=[80] * 9, centers=np.array(centers), cluster_std=1.5, random_state=0)
        lines.append(f"| nested, spread {spread:g} | 9 (3 groups) | {estimate_n_clusters(X, random_state=0)} | "
                     f"{estimate_n_clusters(X, method='modularity', random_state=0)} |")
    return "\n".join(lines) + "\n"


def fits_table() -> str:
    """The deep fits with the true k and with ``n_clusters="auto"``."""
    rows = [r for (_, part), r in sorted(_cache().items()) if part.startswith("fit:")]
    if not rows:
        return ""
    lines = ["", "## Deep fits: true k against n_clusters=\"auto\"", "",
             "Each estimator with its defaults (CPU, seed 0), fitted once with the true k and once with "
             "`n_clusters=\"auto\"`. `s estimate`: the estimate alone on the same input. `k on embedding`: "
             "`estimate_n_clusters` again, on `transform(X)` of the `\"auto\"` fit (estimate, fit, re-estimate; "
             "empty for fits recorded before it was measured).", "",
             "| set | estimator | true k | auto k | k on embedding | NMI true k | NMI auto | ACC true k | ACC auto "
             "| s fit true k | s fit auto | s estimate |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['method']} | {r['k_true']} | {r['k_auto']} | {r.get('k_embedding', '')} | "
                     f"{r['nmi_true']:.3f} | "
                     f"{r['nmi_auto']:.3f} | {r['acc_true']:.3f} | {r['acc_auto']:.3f} | {r['sec_true']:.0f} | "
                     f"{r['sec_auto']:.0f} | {r['sec_estimate']:.1f} |")
    return "\n".join(lines) + "\n"


def _cache() -> dict:
    rows = {}
    if CACHE.exists():
        for line in CACHE.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                rows[(r["dataset"], r["part"])] = r
    return rows


def run(datasets, parts, force=False) -> None:
    cache = _cache()
    for name in datasets:
        todo = [p for p in parts if force or (name, p) not in cache]
        if not todo:
            continue
        X, y = _input(name)
        n, k_true = X.shape[0], int(y.max()) + 1
        upper = upper_bound(n)
        for part in todo:
            t0 = time.perf_counter()
            rec = {"dataset": name, "part": part, "n": n, "d": X.shape[1], "k_true": k_true, "upper": upper,
                   **PARTS[part](X, upper), "sec_total": time.perf_counter() - t0, "commit": _commit()}
            with CACHE.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(f"{name:14s} {part:9s} {rec['sec_total']:7.1f}s", flush=True)


# ------------------------------------------------------------------ decision rules (applied to cached curves)
def gap_in_window(rec: dict, k0: int) -> int:
    """The gap statistic's choice within 25 % of ``k0``: the first grid ``k`` in ``ceil(0.75 k0) .. floor(1.25 k0)``
    whose gap is at least the next grid point's minus its standard error (Tibshirani's rule), else the last one;
    ``k0`` when no grid point is in the window."""
    grid, gap, sd = np.asarray(rec["grid"]), np.asarray(rec["gap"]), np.asarray(rec["gap_sd"])
    inside = np.nonzero((grid >= np.ceil(0.75 * k0)) & (grid <= np.floor(1.25 * k0)))[0]
    if not inside.size:
        return k0
    for j in inside:
        if j + 1 < grid.size and gap[j] >= gap[j + 1] - sd[j + 1]:
            return int(grid[j])
    return int(grid[inside[-1]])


def rules(rec: dict) -> dict:
    """Each method's estimate from a set's cached curves (``rec``: all its parts merged)."""
    from skdeepclust.cluster._n_clusters import candidate_ks, eigengap_scores

    upper, out = rec["upper"], {}
    if "k_auto" in rec:
        out["auto"] = rec["k_auto"]
    if "spectrum10" in rec:
        out["eigengap"] = int(2 + np.argmax(eigengap_scores(rec["spectrum10"], 2, upper, exponent=0.0)))
        out["eigengap_rule"] = int(2 + np.argmax(eigengap_scores(rec["spectrum_rule"], 2, upper, exponent=0.0)))
        out["eigengap_scaled"] = int(2 + np.argmax(eigengap_scores(rec["spectrum10"], 2, upper)))
        ks = candidate_ks(2, upper)
        q = np.asarray(rec["mod_inside"])[ks - 2] - np.asarray(rec["mod_expected"])[ks - 2]
        out["modularity"] = int(ks[np.argmax(q)])
    if "pca_knn_spectrum" in rec:
        out["pca_eigengap_scaled"] = int(2 + np.argmax(eigengap_scores(rec["pca_knn_spectrum"], 2, upper)))
    if "spectrum_st10" in rec:
        out["self_tuning"] = int(2 + np.argmax(eigengap_scores(rec["spectrum_st10"], 2, upper)))
        scores = [eigengap_scores(rec[key], 2, upper) for key in ("spectrum10_values", "spectrum15", "spectrum20")]
        out["multiscale"] = int(2 + np.argmax(sum(s / s.max() for s in scores)))
        out["eigengap_log2n"] = int(2 + np.argmax(eigengap_scores(rec["spectrum_log2n"], 2, upper)))
    if "silhouette" in rec and "spectrum10" in rec:
        out["eigengap_gap"] = gap_in_window(rec, int(2 + np.argmax(eigengap_scores(rec["spectrum10"], 2, upper))))
    if "silhouette" in rec:
        grid = np.asarray(rec["grid"])
        out["silhouette"] = int(grid[np.argmax(rec["silhouette"])])
        gap, sd = np.asarray(rec["gap"]), np.asarray(rec["gap_sd"])
        ok = np.nonzero(gap[:-1] >= gap[1:] - sd[1:])[0]
        out["gap"] = int(grid[ok[0]] if ok.size else grid[np.argmax(gap)])
    return out


METHODS = ["auto", "eigengap", "eigengap_rule", "eigengap_scaled", "pca_eigengap_scaled", "self_tuning",
           "eigengap_log2n", "multiscale", "modularity", "silhouette", "gap", "eigengap_gap"]


def _merged() -> dict:
    """Every set's cached parts merged into one record."""
    merged = {}
    for (name, part), rec in _cache().items():
        if part.startswith("fit:"):  # the deep fits have their own table (their keys overlap the study's)
            continue
        merged.setdefault(name, {}).update({k: v for k, v in rec.items() if k != "commit"})
        merged[name].setdefault("commits", set()).add(rec["commit"])
    return merged


def table() -> str:
    merged = _merged()
    commits = sorted(set().union(*(r["commits"] for r in merged.values()))) if merged else []
    lines = ["# Estimating the number of clusters without labels", "",
             f"Written by `benchmarks/n_clusters.py` from `results/n_clusters.jsonl` (commits: {', '.join(commits)}).",
             "", "Inputs as the baselines of `run_all.py` (images: pixels in [0, 1]; tabular: standardised; "
             "multi-view: min-max-scaled views side by side). Candidate range 2 .. min(n // 10, 200).", "",
             "- `auto`: `skdeepclust.estimate_n_clusters(X, random_state=0)`, the default (scaled eigengap "
             "`(l_{k+1} - l_k) / l_{k+1}^0.25` of the normalised Laplacian of the 10-NN graph, or the number of "
             "comparable connected components); what `n_clusters=\"auto\"` runs",
             "- `eigengap`: the classical largest gap `l_{k+1} - l_k`, same graph",
             "- `eigengap_rule`: the same on the round(sqrt(n)/2)-NN graph",
             "- `eigengap_scaled`: the scaled gap computed from the cached spectrum (equals `auto` unless the "
             "graph falls apart into comparable components)",
             "- `pca_eigengap_scaled`: the scaled gap on the 10-NN graph of 50 principal components (a first "
             "embedding)",
             "- `self_tuning`: the scaled gap on the 10-NN graph weighted by local scaling (Zelnik-Manor and "
             "Perona: `exp(-d_ij^2 / (s_i s_j))`, `s_i` the distance to the 7th neighbour)",
             "- `eigengap_log2n`: the scaled gap on the round(log2(n))-NN graph",
             "- `multiscale`: the scaled gap's scores of the 10-, 15- and 20-NN graphs, each divided by its maximum, "
             "summed (three spectra)",
             "- `modularity`: `method=\"modularity\"` (spectral clustering at every candidate, highest modularity)",
             "- `silhouette`: KMeans (`n_init=3`) silhouette sweep on <= 2000 rows (50 PCA components when wider)",
             "- `gap`: the gap statistic (Tibshirani et al.; 5 uniform references, KMeans `n_init=1`, <= 1000 rows)",
             "- `eigengap_gap`: the gap statistic's choice (Tibshirani's rule, on the sweep's grid) within 25 % of "
             "`eigengap_scaled`",
             "",
             "Seconds: `auto` measured as it runs (k-NN graph, spectrum); `modularity` adds a clustering per "
             "candidate to the graph and spectrum (seconds of the 10-NN graph, eigenvectors and sweep over all k); "
             "`multiscale` the three graphs and their eigenvalues; silhouette and gap sweeps (`eigengap_gap` would "
             "need the gap only on the window's candidates). One thread; `auto` and `multiscale` of a set were "
             "measured in the same run when they carry the same commit.", ""]
    head = ("| half | set | n | true k | " + " | ".join(METHODS)
            + " | s auto | s modularity | s multiscale | s silhouette | s gap |")
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    score = {h: {m: [0, 0, 0] for m in METHODS} for h in ("development", "validation")}

    def sec(rec, key):
        return f"{rec[key]:.1f}" if key in rec else ""

    for half in ("development", "validation"):
        for name in SUITE[half]:
            rec = merged.get(name)
            if rec is None:
                continue
            est = rules(rec)
            k = rec["k_true"]
            cells = []
            for m in METHODS:
                if m not in est:
                    cells.append("")
                    continue
                e = est[m]
                score[half][m][0] += e == k
                score[half][m][1] += abs(e - k) <= 0.25 * k
                score[half][m][2] += 1
                cells.append(f"**{e}**" if e == k else str(e))
            s_mod = (f"{rec['sec_spectrum10'] + rec['sec_modularity']:.1f}" if "sec_modularity" in rec else "")
            s_multi = (f"{rec['sec_spectrum10_values'] + rec['sec_spectrum15'] + rec['sec_spectrum20']:.1f}"
                       if "sec_spectrum15" in rec else "")
            lines.append(f"| {half[:3]} | {name} | {rec['n']} | {k} | " + " | ".join(cells)
                         + f" | {sec(rec, 'sec_auto')} | {s_mod} | {s_multi} | {sec(rec, 'sec_silhouette')} | "
                         f"{sec(rec, 'sec_gap')} |")
    lines += ["", "Exact / within ±25 % of the true k (bold: exact; sets with a result):", "",
              "| method | development exact | development ±25 % | validation exact | validation ±25 % |",
              "|---|---|---|---|---|"]
    for m in METHODS:
        d, v = score["development"][m], score["validation"][m]
        lines.append(f"| {m} | {d[0]}/{d[2]} | {d[1]}/{d[2]} | {v[0]}/{v[2]} | {v[1]}/{v[2]} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=DATASETS)
    ap.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS))
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--fits", nargs="*", default=[], metavar="METHOD:SET",
                    help="deep fits with the true k and with n_clusters='auto' (e.g. SeCu:digits)")
    args = ap.parse_args()
    if args.fits:
        cache = _cache()
        for item in args.fits:
            method, dataset = item.split(":")
            if (dataset, f"fit:{method}") in cache and not args.force:
                continue
            rec = {**run_fit(method, dataset), "commit": _commit()}
            with CACHE.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(f"{dataset:14s} {method:9s} k={rec['k_auto']} nmi {rec['nmi_true']:.3f} -> {rec['nmi_auto']:.3f}",
                  flush=True)
    elif not args.table_only:
        run(args.datasets, args.parts, args.force)
    TABLE.write_text(table() + fits_table() + synthetic())
    print(TABLE.read_text())


if __name__ == "__main__":
    main()
