"""Is the learned space worse than the input's? Neighbour purity and partitions of saved fits' embeddings.

Usage::

    python benchmarks/run_all.py --methods ... --save-fits FITS ...   # fits with their labels and embedding
    python benchmarks/embedding_structure.py FITS [FITS ...]          # writes results/embedding_structure.md

For every saved fit (``METHOD_SET_SEED.npz``; a later folder's file replaces an earlier folder's of the same
name), three questions that separate "the network learned nothing useful" from "the last step partitioned a good
space badly":

- **10-NN purity**: the share of each row's 10 nearest neighbours that carry its class, in the input the
  classical baselines cluster (``run_all._load``'s baseline input) and in the fit's L2-normalised embedding. A
  lower purity in the embedding means the training lost local class structure the input had.
- **Partitions of the embedding**: the ACC of the fit's own labels against k-means (10 restarts) and spectral
  clustering of the embedding's 10-NN graph (:func:`skdeepclust.cluster.spectral_knn`), both at the true number
  of clusters. When one of them is far above the fit's labels, the final clustering step is what failed.
- **A label-free choice between the two**: the partition (k-means or spectral) whose labels are the more modular
  on the 10-NN graph of the input (:func:`skdeepclust.metrics.knn_modularity` in
  :func:`~skdeepclust.metrics.reference_space`, the estimators' ``score``), as ``HaDis(final_clustering="auto")``
  chooses; a tie keeps the spectral labels.
- **Cluster sizes**: the largest cluster of the fit against the largest class, as a share of the rows (negative:
  the fit's clusters are more equal than the classes).

Labels are used only for this report. Results are appended to ``results/embedding_structure.jsonl`` (one record
per fit file and commit; the table keeps the last record of each file) and tabulated in
``results/embedding_structure.md``, with the commit of each fit: a fit made before its estimator's current
defaults shows the labels of then (``suite_report.DEFAULTS_SINCE``).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _saved_fits import fit_commit, in_suite_order, record_new_fits  # noqa: E402
from run_all import SUITE, _load  # noqa: E402

from skdeepclust.cluster import kmeans, nearest_neighbors, spectral_knn  # noqa: E402
from skdeepclust.metrics import evaluate_clustering, knn_modularity, reference_space  # noqa: E402

RUNS = HERE / "results" / "embedding_structure.jsonl"
REPORT = HERE / "results" / "embedding_structure.md"
N_NEIGHBORS = 10


def neighbour_purity(x: np.ndarray, y: np.ndarray, k: int = N_NEIGHBORS) -> float:
    """Share of each row's ``k`` nearest neighbours (Euclidean, itself excluded) that share its class."""
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
    _, idx = nearest_neighbors(xt, k + 1, queries=xt)
    idx = idx[:, 1:].numpy()
    return float((y[idx] == y[:, None]).mean())


def fit_record(path: Path) -> dict:
    """The record of one saved fit."""
    method, rest = path.stem.split("_", 1)
    dataset, seed = rest.rsplit("_", 1)
    saved = np.load(path)
    X, y, _, sizes, Xb = _load(dataset)
    y = np.asarray(y)
    k = int(y.max()) + 1
    emb = F.normalize(torch.as_tensor(saved["embedding"], dtype=torch.float64), dim=1)
    labels = saved["labels"]
    gen = torch.Generator().manual_seed(0)
    km = kmeans(emb, k, n_init=10, generator=gen).labels.numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sp = spectral_knn(emb, k, N_NEIGHBORS, random_state=0)
    reference = reference_space(np.asarray(X), sizes)
    by_kmeans = knn_modularity(reference, km) > knn_modularity(reference, sp)
    n = len(y)
    return {"file": path.name, "method": method, "dataset": dataset, "seed": int(seed), "k": k, "n": n,
            "acc_fit": evaluate_clustering(y, labels)["acc"],
            "acc_kmeans": evaluate_clustering(y, km)["acc"], "acc_spectral": evaluate_clustering(y, sp)["acc"],
            "auto": "kmeans" if by_kmeans else "spectral",
            "purity_input": neighbour_purity(np.asarray(Xb), y), "purity_embedding": neighbour_purity(emb.numpy(), y),
            "size_gap": (np.bincount(labels, minlength=k).max() - np.bincount(y).max()) / n,
            "commit": fit_commit(path)}


def report(rows: list[dict]) -> str:
    """The Markdown table of the records, by half, set and method."""
    lines = ["| set | half | method | seed | k | ACC of the fit | k-means on the embedding | spectral on the embedding "
             "| label-free choice | 10-NN purity: input | 10-NN purity: embedding | largest cluster - largest class "
             "| commit |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    worse = []
    for half, dataset, r in in_suite_order(rows, SUITE):
        lines.append(f"| {dataset} | {half[:3]} | {r['method']} | {r['seed']} | {r['k']} | {r['acc_fit']:.3f} "
                     f"| {r['acc_kmeans']:.3f} | {r['acc_spectral']:.3f} | {r['auto']} "
                     f"| {r['purity_input']:.3f} | {r['purity_embedding']:.3f} | {r['size_gap']:+.3f} "
                     f"| {(r['commit'] or 'unrecorded')[:7]} |")
        if r["purity_embedding"] < r["purity_input"] - 0.02:
            worse.append(f"{r['method']} on {dataset}")
    best_other = [r for r in rows if max(r["acc_kmeans"], r["acc_spectral"]) > r["acc_fit"] + 0.03]
    notes = [f"Fits: {len(rows)}. Embedding purity more than 0.02 below the input's: {len(worse)} "
             f"({', '.join(worse) or 'none'}).",
             f"A partition of the embedding more than 0.03 ACC above the fit's own labels: {len(best_other)} "
             f"({', '.join(r['method'] + ' on ' + r['dataset'] for r in best_other) or 'none'})."]
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


def main() -> None:
    rows = record_new_fits(sys.argv[1:], RUNS, fit_record)
    text = report(rows)
    REPORT.write_text(__doc__.split("Usage")[0].strip() + "\n\nOne torch thread; labels only for the report; "
                      "commits in `embedding_structure.jsonl`.\n\n" + text)
    print(text)


if __name__ == "__main__":
    main()
