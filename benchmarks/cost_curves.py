"""Cost curves: fit seconds and peak memory of every estimator against the number of rows.

Each point fits one estimator on synthetic data (10 Gaussian clusters; ``image``: 784 features in [0, 1] read as
28x28 images, ``image_shape=(1, 28, 28)``; ``tabular``: 50 features) of ``n`` rows, in its own subprocess,
with one torch thread, on the CPU. Times are CPU seconds of the process (``time.process_time``), which a
busy machine inflates less than wall seconds (also recorded). Training is held at a FIXED number of optimizer
steps whatever ``n``
(every epoch is cut to ``STEPS_PER_EPOCH`` batches, and each estimator gets a fixed small number of epochs,
:data:`CONFIGS`), so the curve shows what grows with the rows: passes over all rows (pseudo-labels,
final clustering, inference), neighbour graphs, k-means. Each point records the fit's seconds, the process's
peak resident memory (``resource.getrusage``) and ``predict`` throughput (rows per CPU second) on up to
20 000 rows, into
``benchmarks/results/cost_curves.jsonl`` (one JSON line per point; a point already there is not rerun unless
``--force``). ``--variant before`` disables the size thresholds of :mod:`skdeepclust.cluster` and
:mod:`skdeepclust.hadis` (exact neighbours, shift-invert spectral embeddings, k-means restarts on all rows, all
training rows as ``predict``'s voters): the package's behaviour before they were added.

``--report`` writes the markdown table ``benchmarks/results/cost_curves.md`` and the log-log plot
``doc/_static/cost_curves.png`` from the cache. Usage::

    python benchmarks/cost_curves.py --n 1000 10000 100000 [--estimators SeCu HaDis] [--kinds image tabular]
        [--variant after|before] [--timeout 900]
    python benchmarks/cost_curves.py --throughput 1000000 [--estimators ...] [--kinds ...]
    python benchmarks/cost_curves.py --report

``--throughput ROWS`` fits each estimator at 10 000 rows (the same fixed schedule) and times one ``predict`` call on
``ROWS`` new rows, with the default float64 inference and with ``inference_dtype="float32"``, into
``benchmarks/results/predict_throughput.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / "results" / "cost_curves.jsonl"
THROUGHPUT = HERE / "results" / "predict_throughput.jsonl"
TABLE = HERE / "results" / "cost_curves.md"
PLOT = HERE.parent / "doc" / "_static" / "cost_curves.png"

#: optimizer steps per epoch (every epoch is cut to this many batches)
STEPS_PER_EPOCH = 10
#: fixed small schedules: 2 epochs of 10 steps for the single-stage methods; HaDis's second epoch recomputes its
#: k-means pseudo-labels on all rows; DistilMVC runs its three stages one epoch each on two 392/25-column views;
#: SPC trains 2 members, then one round (two votes of 3 voters each, UMAP + GMM)
CONFIGS = {
    "SeCu": dict(n_epochs=2, n_epochs_warmup=0),
    "MTDC": dict(n_epochs=2),
    "HaDis": dict(n_epochs=2, n_epochs_warmup=1),
    "DistilMVC": dict(n_epochs_pretrain=1, n_epochs_contrastive=1, n_epochs_distill=1),
    "SPC": dict(n_members=2, n_epochs_pretrain=1, n_epochs_round=1, max_rounds=1),
}
ESTIMATORS = tuple(CONFIGS)
WIDTH = {"image": 784, "tabular": 50}
PREDICT_ROWS = 20_000


def make_data(kind: str, n: int, seed: int = 0) -> np.ndarray:
    """``n`` rows of 10 Gaussian clusters, float32 (``image``: in [0, 1])."""
    rng = np.random.default_rng(seed)
    d = WIDTH[kind]
    if kind == "image":
        centers = rng.random((10, d), dtype=np.float32)
    else:
        centers = rng.standard_normal((10, d)).astype(np.float32) * 3
    X = centers[rng.integers(0, 10, n)]
    X += rng.standard_normal((n, d), dtype=np.float32) * (0.15 if kind == "image" else 1.0)
    return np.clip(X, 0, 1, out=X) if kind == "image" else X


def make_estimator(name: str, kind: str):
    import skdeepclust

    params = dict(n_clusters=10, device="cpu", random_state=0, **CONFIGS[name])
    if name == "DistilMVC":
        half = WIDTH[kind] // 2
        params["view_sizes"] = (half, WIDTH[kind] - half)
    elif kind == "image":
        params["image_shape"] = (1, 28, 28)
    return getattr(skdeepclust, name)(**params)


def _cap_epochs(training) -> None:
    """Cut every epoch of this process's fits to ``STEPS_PER_EPOCH`` batches (the fixed schedule)."""
    full_batches = training.epoch_batches

    def capped(*args, **kwargs):
        return full_batches(*args, **kwargs)[:STEPS_PER_EPOCH]

    training.epoch_batches = capped


def _in_subprocess(cmd: list[str], timeout: float, key: dict) -> dict:
    """Run one point's command with one thread; its last JSON line, or ``key`` with a failure status."""
    env = dict(os.environ, SKDEEPCLUST_NUM_THREADS="1", OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**key, "status": f"timed out after {timeout} s"}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode == 0 and lines:
        return json.loads(lines[-1])
    return {**key, "status": "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:200]}


def run_point(name: str, kind: str, n: int, variant: str) -> dict:
    """Fit one point in this process (the subprocess side)."""
    import torch

    torch.set_num_threads(1)
    import skdeepclust
    from skdeepclust import cluster, hadis, training

    if variant == "before":
        cluster.APPROX_NEIGHBORS_MIN_ROWS = cluster.KMEANS_RESTART_MAX_ROWS = hadis.PREDICT_VOTERS_MAX_ROWS = 10**12
        cluster.SPECTRAL_LOBPCG_MIN_ROWS = 10**12
    _cap_epochs(training)
    X = make_data(kind, n)
    est = make_estimator(name, kind)
    t0, c0 = time.perf_counter(), time.process_time()
    est.fit(X)
    fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    rss_fit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m = min(n, PREDICT_ROWS)
    c0 = time.process_time()
    est.predict(X[:m])
    pred_s = time.process_time() - c0
    steps = sum(r.get("steps", 0) for r in est.history_)
    return {"estimator": name, "kind": kind, "n": n, "variant": variant, "status": "ok", "fit_s": round(fit_s, 2),
            "fit_cpu_s": round(fit_cpu_s, 2),
            "peak_rss_mb": round(rss_fit), "data_mb": round(X.nbytes / 2**20), "steps": steps,
            "predict_rows_per_s": round(m / pred_s), "version": getattr(skdeepclust, "__version__", "")}


def run_throughput(name: str, kind: str, n_rows: int) -> dict:
    """Fit at 10 000 rows (the fixed schedule), then ``predict`` on ``n_rows`` new rows in one call, with the
    float64 default and with ``inference_dtype="float32"`` (the subprocess side)."""
    import torch

    torch.set_num_threads(1)
    from skdeepclust.training import _trainer as training  # where the Trainer looks up epoch_batches

    _cap_epochs(training)
    est = make_estimator(name, kind).fit(make_data(kind, 10_000))
    X = np.empty((n_rows, WIDTH[kind]), dtype=np.float32)
    for start in range(0, n_rows, 100_000):  # filled in blocks: no second full-size temporary
        X[start : start + 100_000] = make_data(kind, min(100_000, n_rows - start), seed=1 + start)
    row = {"estimator": name, "kind": kind, "rows": n_rows, "data_mb": round(X.nbytes / 2**20)}
    for dtype in ("float64", "float32"):
        est.set_params(inference_dtype="auto" if dtype == "float64" else dtype)
        t0, c0 = time.perf_counter(), time.process_time()
        labels = est.predict(X)
        cpu = time.process_time() - c0
        row[dtype] = {"rows_per_cpu_s": round(n_rows / cpu), "wall_s": round(time.perf_counter() - t0, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        assert labels.shape == (n_rows,)
    return row


def throughput_sweep(args) -> None:
    done = {(r["estimator"], r["kind"], r["rows"]) for r in _read(THROUGHPUT) if "variant" not in r}
    for kind in args.kinds:
        for name in args.estimators:
            if (name, kind, args.throughput) in done and not args.force:
                continue
            cmd = [sys.executable, __file__, "--throughput-point", name, kind, str(args.throughput)]
            row = _in_subprocess(cmd, args.timeout, {"estimator": name, "kind": kind, "rows": args.throughput})
            print(json.dumps(row), flush=True)
            with THROUGHPUT.open("a") as f:
                f.write(json.dumps(row) + "\n")


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_cache() -> list[dict]:
    return _read(CACHE)


def sweep(args) -> None:
    done = {(r["estimator"], r["kind"], r["n"], r["variant"]) for r in load_cache()}
    for n in args.n:
        for kind in args.kinds:
            for name in args.estimators:
                key = (name, kind, n, args.variant)
                if key in done and not args.force:
                    continue
                cmd = [sys.executable, __file__, "--point", name, kind, str(n), args.variant]
                t0 = time.perf_counter()
                row = _in_subprocess(cmd, args.timeout, {"estimator": name, "kind": kind, "n": n,
                                                         "variant": args.variant})
                if row["status"].startswith("timed out"):
                    row["fit_s"] = None
                row["wall_s"] = round(time.perf_counter() - t0, 1)
                print(json.dumps(row), flush=True)
                with CACHE.open("a") as f:
                    f.write(json.dumps(row) + "\n")


def _cell(r: dict | None) -> str:
    if r is None:
        return ""
    if r["status"] != "ok":
        return "timed out" if r["status"].startswith("timed out") else "failed"
    return f"{r.get('fit_cpu_s', r['fit_s']):.1f} s / {r['peak_rss_mb'] / 1024:.1f} GB"


def report() -> None:
    rows = load_cache()
    latest = {}
    for r in rows:
        latest[(r["estimator"], r["kind"], r["n"], r["variant"])] = r
    sizes = sorted({k[2] for k in latest})
    head = " | ".join(f"n={n:,}" for n in sizes)
    lines = [f"| estimator | data | variant | {head} | predict rows/s (largest n) |",
             "|---|---|---|" + "---|" * len(sizes) + "---|"]
    for name in ESTIMATORS:
        for kind in WIDTH:
            for variant in ("after", "before"):
                cells = [latest.get((name, kind, n, variant)) for n in sizes]
                if not any(cells):
                    continue
                ok = [c for c in cells if c and c["status"] == "ok"]
                rate = f"{ok[-1]['predict_rows_per_s']:,}" if ok else ""
                label = "thresholds" if variant == "after" else "exact (before)"
                lines.append(f"| {name} | {kind} | {label} | " + " | ".join(_cell(c) for c in cells) + f" | {rate} |")
    text = ("Fit CPU seconds / peak resident memory, one CPU thread, fixed optimizer steps "
            f"({STEPS_PER_EPOCH} per epoch; see `benchmarks/cost_curves.py`).\n\n" + "\n".join(lines) + "\n")
    rates = _read(THROUGHPUT)
    if rates:
        text += ("\n`predict` on new rows in one call after a 10 000-row fit: rows per CPU second (one thread) "
                 "with the default float64 inference and with `inference_dtype=\"float32\"`, and the process's "
                 "peak resident memory (the input included).\n\n"
                 "| estimator | data | rows | float64 rows/s | float32 rows/s | peak memory |\n"
                 "|---|---|---|---|---|---|\n")
        for r in rates:
            if "float32" in r:
                name = r["estimator"] + (f" ({r['variant']})" if "variant" in r else "")
                text += (f"| {name} | {r['kind']} | {r['rows']:,} | {r['float64']['rows_per_cpu_s']:,} | "
                         f"{r['float32']['rows_per_cpu_s']:,} | {r['float32']['peak_rss_mb'] / 1024:.1f} GB |\n")
            else:
                text += f"| {r['estimator']} | {r['kind']} | {r['rows']:,} | {r['status']} | | |\n"
    TABLE.write_text(text)
    print(TABLE.read_text())

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, kind in zip(axes, WIDTH, strict=True):
        for i, name in enumerate(ESTIMATORS):
            for variant, style in (("after", "-o"), ("before", "--x")):
                pts = sorted((n, r.get("fit_cpu_s", r["fit_s"])) for (e, k, n, v), r in latest.items()
                             if e == name and k == kind and v == variant and r["status"] == "ok")
                if pts:
                    ax.plot(*zip(*pts, strict=True), style, color=f"C{i}",
                            label=name if variant == "after" else f"{name} (exact, before)")
        ns = np.array([1e3, 1e6])
        ax.plot(ns, ns / 1e3 * 5, ":", color="grey", label="slope 1 (linear)")
        ax.set(xscale="log", yscale="log", xlabel="rows n", title=f"{kind} ({WIDTH[kind]} features)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("fit CPU seconds (fixed optimizer steps)")
    axes[1].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=110)
    print(f"wrote {TABLE} and {PLOT}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--point", nargs=4, metavar=("ESTIMATOR", "KIND", "N", "VARIANT"), help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--estimators", nargs="+", default=list(ESTIMATORS), choices=ESTIMATORS)
    ap.add_argument("--kinds", nargs="+", default=list(WIDTH), choices=list(WIDTH))
    ap.add_argument("--variant", default="after", choices=["after", "before"])
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per point")
    ap.add_argument("--force", action="store_true", help="rerun points already in the cache")
    ap.add_argument("--report", action="store_true", help="write the table and the plot from the cache")
    ap.add_argument("--throughput", type=int, metavar="ROWS",
                    help="instead of fit points: predict throughput on ROWS new rows after a 10 000-row fit")
    ap.add_argument("--throughput-point", nargs=3, metavar=("ESTIMATOR", "KIND", "ROWS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.throughput_point:
        name, kind, rows = args.throughput_point
        print(json.dumps(run_throughput(name, kind, int(rows))), flush=True)
    elif args.throughput:
        throughput_sweep(args)
    elif args.point:
        name, kind, n, variant = args.point
        print(json.dumps(run_point(name, kind, int(n), variant)), flush=True)
    elif args.report:
        report()
    else:
        sweep(args)


if __name__ == "__main__":
    main()
