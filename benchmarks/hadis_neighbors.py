"""HaDis's final spectral clustering at several neighbour counts, and which count ``n_neighbors="auto"`` keeps.

Usage::

    python benchmarks/run_all.py --methods HaDis --save-fits FITS ...   # fits with their labels and embedding
    python benchmarks/hadis_neighbors.py FITS [FITS ...]              # writes results/hadis_neighbors.md

An offline study on saved HaDis fits: the training does not depend on the final clustering, so every final
partition of a fit's trained embedding (``transform``, L2-normalised) is computed here without refitting. For each
fit: spectral clustering of the embedding's k-NN graph at each count of ``hadis.NEIGHBOR_COUNTS``; each
labelling's modularity on the training input's 10-NN graph (what ``HaDis.score`` measures); the count the default
rule keeps from those scores (``hadis._pick_count``: 10, unless another count scores more than
``NEIGHBOR_MARGIN`` higher); the count with the highest score whatever the margin (``best score``, the rule of
commit c64ad0c); and, for comparison, the medoid count (the labels with the highest mean adjusted Rand index to
the other counts' labels) and cosine k-means (``final_clustering="kmeans"``). Inputs as the fits saw them (pixels
in [0, 1], standardised tabular rows). Labels are used only for the ACC columns. The rules' choices are
recomputed from the recorded scores, so the table follows the package's current rule.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import adjusted_rand_score

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _saved_fits import fit_commit, in_suite_order, record_new_fits  # noqa: E402
from run_all import SUITE, _load  # noqa: E402

from skdeepclust.cluster import kmeans, spectral_knn_counts  # noqa: E402
from skdeepclust.hadis import NEIGHBOR_COUNTS, _pick_count  # noqa: E402
from skdeepclust.metrics import _graph_score, _scoring_graph, evaluate_clustering, reference_space  # noqa: E402

RESULTS = HERE / "results"
RUNS = RESULTS / "hadis_neighbors.jsonl"


def medoid(parts: dict[int, np.ndarray]) -> int:
    """The count whose labels agree most (mean adjusted Rand index) with the other counts' labels."""
    agreement = {c: np.mean([adjusted_rand_score(p, q) for d, q in parts.items() if d != c]) for c, p in parts.items()}
    return max(agreement, key=lambda c: (agreement[c], -c))


def record(path: Path) -> dict:
    """Every candidate's ACC and input-graph score for one saved fit."""
    method, dataset, seed = path.stem.rsplit("_", 2)
    saved = np.load(path)
    X, y, _, _, _ = _load(dataset)
    k = int(y.max()) + 1
    emb = torch.nn.functional.normalize(torch.as_tensor(saved["embedding"], dtype=torch.float64), dim=1)
    parts = spectral_knn_counts(emb, k, NEIGHBOR_COUNTS, int(seed))
    graph = _scoring_graph(reference_space(np.asarray(X, dtype=np.float64)))
    scores = {c: _graph_score(graph, p) for c, p in parts.items()}
    by_kmeans = kmeans(emb, k, n_init=10, generator=torch.Generator().manual_seed(int(seed))).labels.numpy()
    acc = {str(c): evaluate_clustering(y, p)["acc"] for c, p in parts.items()}
    return {"file": path.name, "method": method, "dataset": dataset, "seed": int(seed), "commit": fit_commit(path),
            "acc": acc, "scores": {str(c): s for c, s in scores.items()}, "medoid": medoid(parts),
            "kmeans": evaluate_clustering(y, by_kmeans)["acc"], "fit": evaluate_clustering(y, saved["labels"])["acc"]}


def report(rows: list[dict]) -> str:
    """The per-fit table and a summary per half; the rules' choices are recomputed from the recorded scores."""
    counts = [str(c) for c in NEIGHBOR_COUNTS]
    lines = ["| half | set | seed | " + " | ".join(f"{c} neighbours" for c in counts)
             + " | k-means | `auto` keeps | `auto` − 10 | best score | best − 10 | medoid | medoid − 10 | fit commit |",
             "|---|---|---|" + "---|" * (len(counts) + 9)]
    gains: dict[str, dict[str, list[float]]] = {}
    for half, dataset, r in in_suite_order([r for r in rows if r["method"] == "HaDis"], SUITE):
        a, scores = r["acc"], {int(c): v for c, v in r["scores"].items()}
        kept, best = _pick_count(scores), max(scores, key=lambda c: (scores[c], -c))
        change = {"auto": a[str(kept)] - a["10"], "best score": a[str(best)] - a["10"],
                  "medoid": a[str(r["medoid"])] - a["10"]}
        for rule, d in change.items():
            gains.setdefault(half, {}).setdefault(rule, []).append(d)
        lines.append(f"| {half[:3]} | {dataset} | {r['seed']} | " + " | ".join(f"{a[c]:.3f}" for c in counts)
                     + f" | {r['kmeans']:.3f} | {kept} | {change['auto']:+.3f} | {best} | {change['best score']:+.3f}"
                     f" | {r['medoid']} | {change['medoid']:+.3f} | {(r['commit'] or 'unrecorded')[:8]} |")
    lines.append("")
    for half, g in gains.items():
        for rule, d in g.items():
            lines.append(f"- {half}, {rule}: {len(d)} fits, mean change against 10 neighbours {np.mean(d):+.4f}, "
                         f"worst {min(d):+.3f}, best {max(d):+.3f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    rows = record_new_fits(sys.argv[1:], RUNS, record)
    text = report(rows)
    (RESULTS / "hadis_neighbors.md").write_text(__doc__.split("Usage")[0].strip() + "\n\n" + text)
    print(text)


if __name__ == "__main__":
    main()
