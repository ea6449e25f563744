"""Shared formatting of the benchmark tables (mean ± std over seeds, Markdown rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

HEADER = "| dataset | method | ACC | NMI | ARI | fit s |\n|---|---|---|---|---|---|"


def mean_std(values) -> str:
    """``mean ± std`` with 4 decimals."""
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def rows(dataset: str, results: dict[str, list[dict]]) -> list[str]:
    """One Markdown row per method from ``{method: [{"acc", "nmi", "ari", "sec"}, ...]}``."""
    return [
        f"| {dataset} | {method} | {mean_std([r['acc'] for r in runs])} | {mean_std([r['nmi'] for r in runs])} | "
        f"{mean_std([r['ari'] for r in runs])} | {np.mean([r['sec'] for r in runs]):.1f} |"
        for method, runs in results.items()
    ]


def emit(header: str, table_rows: list[str], out: Path | None) -> None:
    """Print the table and write it to ``out`` when given."""
    table = header + "\n" + "\n".join(table_rows) + "\n"
    print(table)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(table)


ROUND_HEADER = (
    "| dataset | seed | round | selected | ACC of selected | ACC of all | kept |\n|---|---|---|---|---|---|---|"
)


def spc_rounds(est, X, y) -> dict:
    """SPC per vote: selected fraction, ACC of the selected pseudo-labels and of the whole vote, the kept round,
    and how often ``predict`` agrees with ``labels_`` (labels are used only for this report)."""
    from skdeepclust.metrics import clustering_accuracy

    per_round = [
        {"round": r["round"], "selected": r["fraction_selected"],
         "acc_selected": clustering_accuracy(y[r["selected"]], r["labels"][r["selected"]])
         if r["selected"].any() else float("nan"),
         "acc_all": clustering_accuracy(y, r["labels"])}
        for r in est.rounds_
    ]
    return {"per_round": per_round, "kept": est.best_round_,
            "predict_agrees": float((est.predict(X) == est.labels_).mean())}


def spc_round_rows(dataset: str, seed: int, info: dict) -> list[str]:
    """Markdown rows (under ``ROUND_HEADER``) of one run's :func:`spc_rounds`."""
    out = [
        f"| {dataset} | {seed} | {q['round']} | {q['selected']:.3f} | {q['acc_selected']:.4f} | {q['acc_all']:.4f} | "
        f"{'yes' if q['round'] == info['kept'] else ''} |"
        for q in info["per_round"]
    ]
    return out + [f"| {dataset} | {seed} | predict vs labels_ | {info['predict_agrees']:.4f} | | | |"]
