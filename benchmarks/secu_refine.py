"""SeCu's final centers: the trained head's against a spherical k-means refinement. An offline study on saved fits.

Usage::

    python benchmarks/run_all.py --methods SeCu --save-fits FITS ...   # fits with their labels and embedding
    python benchmarks/secu_refine.py FITS                               # writes results/secu_refine.md

SeCu trains its centers under a size constraint: every cluster holds at least ``size_ratio * N / K`` rows (0.9 of
the mean size by default). ``predict`` drops the constraint but keeps the centers it shaped, so on classes of
unequal size a cluster stays as large as the bound asked (breast cancer: 257/312 rows at a bound of 256 against
classes of 212/357). ``final_clustering="kmeans"`` refines the main head's centers after training by spherical
k-means on the clean training embedding (:func:`skdeepclust.secu.refine_centers`); the training itself is the
same. For every saved SeCu fit made with the trained head's centers (``final_clustering="head"``, the behaviour
before the refinement existed), this script starts :func:`~skdeepclust.secu.refine_centers` at the normalised mean
embedding of each of the fit's clusters (one Lloyd step from the head's centers) and reports the ACC of both
partitions, the share of rows that changed cluster, and the iterations. Labels are used only for the report.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_all import SUITE, _load  # noqa: E402

from skdeepclust.metrics import evaluate_clustering  # noqa: E402
from skdeepclust.secu import refine_centers  # noqa: E402

RUNS = HERE / "results" / "secu_refine.jsonl"
REPORT = HERE / "results" / "secu_refine.md"


def refine(embedding: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """The refined partition of a fit's embedding, started at the normalised mean of each of its clusters."""
    emb = F.normalize(torch.as_tensor(embedding, dtype=torch.float32), dim=1)
    lab = torch.as_tensor(labels, dtype=torch.long)
    start = F.normalize(torch.zeros(k, emb.shape[1]).index_add_(0, lab, emb), dim=1)
    centers, n_iter = refine_centers(emb, start)
    return (emb @ centers.T).argmax(1).numpy(), n_iter


def _sd(values: list[float]) -> str:
    """`` ± `` the sample standard deviation, or nothing for one value."""
    return f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else ""


def main() -> None:
    fits = Path(sys.argv[1])
    done = {json.loads(line)["file"] for line in RUNS.read_text().splitlines()} if RUNS.exists() else set()
    for path in sorted(fits.glob("SeCu_*.npz")):
        if path.name in done:
            continue
        _, dataset, seed = path.stem.rsplit("_", 2)
        saved = np.load(path)
        _, y, *_ = _load(dataset)
        refined, n_iter = refine(saved["embedding"], saved["labels"], int(y.max()) + 1)
        record = {"file": path.name, "dataset": dataset, "seed": int(seed),
                  "acc_head": evaluate_clustering(y, saved["labels"])["acc"],
                  "acc_kmeans": evaluate_clustering(y, refined)["acc"],
                  "changed": float((refined != saved["labels"]).mean()), "n_iter": n_iter,
                  "commit": str(saved["commit"]) if "commit" in saved else None}
        with RUNS.open("a") as f:
            f.write(json.dumps(record) + "\n")
    rows = [json.loads(line) for line in RUNS.read_text().splitlines()] if RUNS.exists() else []
    lines = ["| set | half | seeds | head's centers | refined (k-means) | change | rows moved | iterations |",
             "|---|---|---|---|---|---|---|---|"]
    summary = {}
    for half in ("development", "validation"):
        for dataset in SUITE[half]:
            rs = sorted((r for r in rows if r["dataset"] == dataset), key=lambda r: r["seed"])
            if not rs:
                continue
            head, km = [r["acc_head"] for r in rs], [r["acc_kmeans"] for r in rs]
            summary.setdefault(half, []).extend(b - a for a, b in zip(head, km, strict=True))
            lines.append(f"| {dataset} | {half[:3]} | {','.join(str(r['seed']) for r in rs)} | "
                         f"{np.mean(head):.3f}{_sd(head)} | {np.mean(km):.3f}{_sd(km)} | "
                         f"{np.mean(km) - np.mean(head):+.3f} | {np.mean([r['changed'] for r in rs]):.3f} | "
                         f"{max(r['n_iter'] for r in rs)} |")
    notes = [f"{half}: {len(d)} fits, mean change {np.mean(d):+.4f}, worst {min(d):+.3f}, best {max(d):+.3f}."
             for half, d in summary.items()]
    text = "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"
    REPORT.write_text(__doc__.split("Usage")[0].strip() + "\n\nACC: mean ± sample standard deviation over the "
                      "seeds listed; change = refined minus head. Commits: see `secu_refine.jsonl`.\n\n" + text)
    print(text)


if __name__ == "__main__":
    main()
