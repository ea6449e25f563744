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
