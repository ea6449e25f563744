"""Would a consensus with the input's graph help the single-view estimators? An offline study on saved fits.

Usage::

    python benchmarks/run_all.py --save-fits FITS ...        # the fits, each with its labels and embedding
    python benchmarks/final_partition.py FITS                # writes results/final_partition.md

DistilMVC's pseudo-labels come from a consensus: the spectral partitions of its latent k-NN graph, of the input's
k-NN graph and of their sum, of which the most modular on the sum is kept. HaDis, SeCu, MTDC and SPC have no such
step. For every saved single-view fit this script computes, without refitting, what the same rule would give with
the fit's embedding (``transform``) as the latent space, and the fit's own labels as a fourth candidate:
ACC of each candidate (labels used only for this report), the one the rule keeps, and the rule's ACC against the
fit's. Inputs as the baselines see them (pixels in [0, 1], standardised tabular rows). Graphs: 10 neighbours.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_all import SUITE, _load  # noqa: E402

from skdeepclust.cluster import graph_modularity, knn_graph, spectral_graph  # noqa: E402
from skdeepclust.metrics import evaluate_clustering  # noqa: E402

NEIGHBORS = 10


def candidates(X: np.ndarray, embedding: np.ndarray, labels: np.ndarray, k: int, seed: int) -> tuple[dict, dict]:
    """The rule's candidate partitions and their modularity on the union graph."""
    emb = torch.nn.functional.normalize(torch.as_tensor(embedding, dtype=torch.float32), dim=1)
    latent = knn_graph(emb, NEIGHBORS, random_state=seed)
    inp = knn_graph(torch.as_tensor(X, dtype=torch.float32), NEIGHBORS, random_state=seed)
    graphs = {"latent": latent, "input": inp, "union": latent + inp}
    parts = {name: spectral_graph(g, k, random_state=seed) for name, g in graphs.items()}
    parts["fit"] = np.asarray(labels)
    return parts, {name: graph_modularity(graphs["union"], p) for name, p in parts.items()}


def main() -> None:
    fits = Path(sys.argv[1])
    out = HERE / "results" / "final_partition.jsonl"
    done = {json.loads(line)["file"] for line in out.read_text().splitlines()} if out.exists() else set()
    for path in sorted(fits.glob("*.npz")):
        method, dataset, seed = path.stem.rsplit("_", 2)
        if method == "DistilMVC" or path.name in done:
            continue
        saved = np.load(path)
        X, y, _, _, Xb = _load(dataset)
        parts, scores = candidates(Xb, saved["embedding"], saved["labels"], int(y.max()) + 1, int(seed))
        kept = max(scores, key=scores.get)
        record = {"file": path.name, "method": method, "dataset": dataset, "seed": int(seed), "kept": kept,
                  "scores": scores, "acc": {n: evaluate_clustering(y, p)["acc"] for n, p in parts.items()},
                  "commit": str(saved["commit"]) if "commit" in saved else None}
        with out.open("a") as f:
            f.write(json.dumps(record) + "\n")
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    lines = ["| set | half | estimator | seed | fit | latent | input | union | kept | rule − fit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["dataset"], r["method"], r["seed"])):
        a = r["acc"]
        half = "dev" if r["dataset"] in SUITE["development"] else "val"
        lines.append(f"| {r['dataset']} | {half} | {r['method']} | {r['seed']} | {a['fit']:.3f} | {a['latent']:.3f} | "
                     f"{a['input']:.3f} | {a['union']:.3f} | {r['kept']} | {a[r['kept']] - a['fit']:+.3f} |")
    text = "\n".join(lines) + "\n"
    (HERE / "results" / "final_partition.md").write_text(__doc__.split("Usage")[0].strip() + "\n\n" + text)
    print(text)


if __name__ == "__main__":
    main()
