"""Training speed against the thread count, on an idle machine and beside busy processes.

For every estimator's default network (tabular rows: the digits' 64 features; images: 28x28 rows through the
conv encoder) it measures optimizer steps per second with 1, 2, ... torch threads, with 0, 1 and 2 busy
processes (each a pure-Python loop that keeps one core busy) started by this script beside the fit. Each point
runs in its own subprocess with ``SKDEEPCLUST_NUM_THREADS`` set, fits a few epochs capped at ``STEPS`` steps each
and reports the median seconds per step of the epochs after the first. Results go to
``results/threads.jsonl`` (one line per point, with the commit) and a table to ``results/threads.md``::

    python benchmarks/threads.py                      # every estimator, threads 1..cores, loads 0..2
    python benchmarks/threads.py --estimators SeCu --kinds image --threads 1 2 --loads 0 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
OUT = RESULTS / "threads.jsonl"
#: optimizer steps per measured epoch, and epochs per point (the first is not counted)
STEPS, EPOCHS = 8, 4
ESTIMATORS = ["DistilMVC", "HaDis", "SeCu", "MTDC", "SPC"]
KINDS = ["tabular", "image"]


def _point(name: str, kind: str) -> None:
    """One point, in this (sub)process: print seconds per step as JSON."""
    import numpy as np

    import skdeepclust
    from skdeepclust.training import _trainer

    full = _trainer.epoch_batches
    _trainer.epoch_batches = lambda *a, **k: full(*a, **k)[:STEPS]  # fixed steps per epoch
    rng = np.random.default_rng(0)
    n = 2048
    if kind == "image":
        X = rng.random((n, 28 * 28), dtype=np.float32)
    else:
        from sklearn.datasets import load_digits

        X = np.tile(load_digits().data / 16.0, (2, 1))[:n]
    params: dict = {"n_clusters": 10, "device": "cpu", "random_state": 0}
    if name == "DistilMVC":
        params.update(view_sizes=(X.shape[1] // 2, X.shape[1] - X.shape[1] // 2), n_epochs_pretrain=0,
                      n_epochs_contrastive=EPOCHS, n_epochs_distill=0)
    elif name == "SPC":
        params.update(n_epochs_pretrain=EPOCHS, max_rounds=0)
    else:
        params.update(n_epochs=EPOCHS)
        if name == "SeCu":
            params["n_epochs_warmup"] = 0
    if kind == "image" and name != "DistilMVC":
        params["image_shape"] = (1, 28, 28)
    est = getattr(skdeepclust, name)(**params)
    est.fit(X)
    per_step = [r["seconds"] / r["steps"] for r in est.history_ if "steps" in r][1:]
    print(json.dumps({"sec_per_step": float(np.median(per_step))}))


def _busy() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True).stdout.strip()


def measure(name: str, kind: str, threads: int, load: int) -> dict:
    """Seconds per step of one point, measured in a subprocess beside ``load`` busy processes."""
    env = dict(os.environ, SKDEEPCLUST_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    busy = [_busy() for _ in range(load)]
    try:
        time.sleep(0.5)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--point", name, kind], env=env, capture_output=True,
                              text=True, timeout=1800)
    finally:
        for p in busy:
            p.kill()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if proc.returncode == 0 and lines else {"error": proc.stderr[-500:]}
    return {"estimator": name, "kind": kind, "threads": threads, "load": load, "cores": os.cpu_count(),
            "wall": time.perf_counter() - t0, "commit": _commit(), **result}


def table(rows: list[dict]) -> str:
    """Markdown: seconds per step by estimator/kind (rows) and load/threads (columns), the best of a load in bold."""
    loads = sorted({r["load"] for r in rows})
    threads = sorted({r["threads"] for r in rows})
    cells = {(r["estimator"], r["kind"], r["load"], r["threads"]): r.get("sec_per_step") for r in rows}
    head = " | ".join(f"{t} thr, {ld} busy" for ld in loads for t in threads)
    lines = [f"| estimator | input | {head} |", "|---|---|" + "---|" * (len(loads) * len(threads))]
    for name in ESTIMATORS:
        for kind in KINDS:
            vals = []
            for ld in loads:
                got = {t: cells.get((name, kind, ld, t)) for t in threads}
                best = min((v for v in got.values() if v), default=None)
                vals += ["" if v is None else (f"**{1000 * v:.1f}**" if v == best else f"{1000 * v:.1f}")
                         for v in got.values()]
            if any(vals):
                lines.append(f"| {name} | {kind} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--point", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--estimators", nargs="+", default=ESTIMATORS)
    ap.add_argument("--kinds", nargs="+", default=KINDS)
    ap.add_argument("--threads", nargs="+", type=int, default=list(range(1, (os.cpu_count() or 1) + 1)))
    ap.add_argument("--loads", nargs="+", type=int, default=[0, 1, 2])
    args = ap.parse_args()
    if args.point:
        _point(*args.point)
        return
    rows = [json.loads(ln) for ln in OUT.read_text().splitlines()] if OUT.exists() else []
    for name in args.estimators:
        for kind in args.kinds:
            for load in args.loads:
                for t in args.threads:
                    row = measure(name, kind, t, load)
                    print(json.dumps(row), flush=True)
                    with OUT.open("a") as fh:
                        fh.write(json.dumps(row) + "\n")
                    rows.append(row)
    (RESULTS / "threads.md").write_text(
        "# Seconds per optimizer step (ms) against torch threads and busy processes\n\n"
        "Each cell is the median over the measured epochs of one subprocess; the fastest thread count of each "
        "load is in bold. Written by `benchmarks/threads.py`.\n\n" + table(rows) + "\n")


if __name__ == "__main__":
    main()
