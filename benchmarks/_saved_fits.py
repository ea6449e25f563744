"""Bookkeeping of the offline studies that read the fits ``run_all.py --save-fits`` leaves.

Each study appends one record per fit file and commit to its own JSON-lines file, skips fits it has recorded,
and reports the last record of each file (a refit at a later commit replaces the earlier one).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np


def fit_commit(path: Path) -> str | None:
    """The commit a saved fit was made at (``None`` when it recorded none)."""
    saved = np.load(path)
    return str(saved["commit"]) if "commit" in saved else None


def record_new_fits(folders: list[str], runs: Path, record: Callable[[Path], dict]) -> list[dict]:
    """Append ``record(path)`` for every fit of ``folders`` not yet in ``runs``; return the latest record per file.

    A later folder's file replaces an earlier folder's of the same name.
    """
    done = ({(r["file"], r["commit"]) for r in map(json.loads, runs.read_text().splitlines())}
            if runs.exists() else set())
    files = {}
    for folder in folders:
        files.update({p.name: p for p in sorted(Path(folder).glob("*.npz"))})
    for name, path in sorted(files.items()):
        if (name, fit_commit(path)) not in done:
            with runs.open("a") as f:
                f.write(json.dumps(record(path)) + "\n")
    latest = {}
    for line in runs.read_text().splitlines() if runs.exists() else []:
        r = json.loads(line)
        latest[r["file"]] = r
    return list(latest.values())


#: the estimators in the order the study tables list them
METHOD_ORDER = ("DistilMVC", "HaDis", "SeCu", "MTDC", "SPC")


def in_suite_order(rows: list[dict], suite: dict) -> Iterator[tuple[str, str, dict]]:
    """``(half, dataset, record)`` of ``rows``: by half and set as ``suite.json`` lists them, then estimator, seed."""
    order = {m: i for i, m in enumerate(METHOD_ORDER)}
    for half in ("development", "validation"):
        for dataset in suite[half]:
            for r in sorted((r for r in rows if r["dataset"] == dataset),
                            key=lambda r: (order.get(r["method"], len(order)), r["seed"])):
                yield half, dataset, r
