"""The benchmark report's formatting: run records in, Markdown out (``benchmarks/results/full_table.md``).

A run record is a dict with ``method`` (the table row), ``dataset``, ``seed``, ``acc``, ``nmi``, ``ari``,
``sec`` and ``peak_mib``, and for SPC ``rounds`` (see :func:`spc_rounds`).
"""

from __future__ import annotations

import numpy as np


def mean_std(values, digits: int = 4) -> str:
    """``mean ± std`` with ``digits`` decimals; the sample standard deviation (``ddof=1``), 0 for one value."""
    std = np.std(values, ddof=1) if len(values) > 1 else 0.0
    return f"{np.mean(values):.{digits}f} ± {std:.{digits}f}"


def code_of(runs: list[dict]) -> str:
    """The code version of a table cell's runs: the short commit(s), ``*`` when the package (or, for runs that do
    not record the package apart, the tree) had uncommitted changes,
    ``mixed:`` when the runs come from more than one version, ``unrecorded`` for runs that predate the record."""
    versions = sorted({(r["commit"][:8] + ("*" if r.get("package_dirty", r.get("dirty")) else ""))
                       if r.get("commit") else "unrecorded" for r in runs})
    return versions[0] if len(versions) == 1 else "mixed: " + ", ".join(versions)


def lines_of(runs: list[dict]) -> str:
    """The line numbers of a cell's runs in the run cache (the runs the cell uses; superseded runs stay there)."""
    return ",".join(str(r["_line"]) for r in sorted(runs, key=lambda r: r["seed"]) if "_line" in r)


def summary(runs: list[dict], groups, rows) -> str:
    """ACC at a glance: one block per group of data sets (one column each), one row per method in ``rows``
    order (mean ± std over the seeds present); data sets and rows without runs are left out."""
    blocks = []
    for datasets in groups:
        present = [d for d in datasets if any(r["dataset"] == d for r in runs)]
        if not present:
            continue
        lines = ["| method | " + " | ".join(present) + " |", "|---" * (len(present) + 1) + "|"]
        for m in rows:
            cells = []
            for ds in present:
                accs = [r["acc"] for r in runs if r["dataset"] == ds and r["method"] == m]
                cells.append(mean_std(accs, 3) if accs else "")
            if any(cells):
                lines.append(f"| {m} | " + " | ".join(cells) + " |")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def report(runs: list[dict], groups, rows, notes: list[str]) -> str:
    """The whole report: the ACC :func:`summary`, then one row per (data set, method) with every metric
    (``notes`` are the lines above that table: machine, settings), then SPC's rounds."""
    lines = [
        "ACC, mean ± sample standard deviation over the seeds listed in the detailed table below (with the settings "
        "of each row). In that table, *code* is the commit the runs used (`unrecorded` for runs made before commits "
        "were recorded, `mixed` when a cell's runs come from different versions) and *runs* the line numbers of the "
        "runs in `runs.jsonl` that the cell uses (later runs of the same cell supersede earlier ones, which stay in "
        "the file).",
        "",
        summary(runs, groups, rows),
        "## Every metric",
        "",
        *notes,
        "",
        "| dataset | method | ACC | NMI | ARI | fit s | peak MiB | seeds | code | runs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for ds in [d for datasets in groups for d in datasets]:
        for m in rows:
            rs = [r for r in runs if r["dataset"] == ds and r["method"] == m]
            if not rs:
                continue
            seeds = sorted(r["seed"] for r in rs)
            lines.append(
                f"| {ds} | {m} | {mean_std([r['acc'] for r in rs])} | {mean_std([r['nmi'] for r in rs])} | "
                f"{mean_std([r['ari'] for r in rs])} | {np.mean([r['sec'] for r in rs]):.1f} | "
                f"{np.max([r['peak_mib'] for r in rs]):.0f} | {','.join(map(str, seeds))} | {code_of(rs)} | "
                f"{lines_of(rs)} |"
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
