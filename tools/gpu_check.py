"""GPU check: every estimator fits on CUDA with bfloat16 autocast on and off, loads on a CPU-only machine, and how
fast it trains and predicts against the CPU.

For each estimator (DistilMVC on BDGP's two views, HaDis, SeCu, MTDC and SPC on USPS images; ``--quick``: a few
hundred rows of scikit-learn's digits, offline, small networks) the script

1. fits on ``--device`` twice, with ``SKDEEPCLUST_AUTOCAST=1`` (the default: bfloat16 autocast of training on CUDA)
   and ``SKDEEPCLUST_AUTOCAST=0`` (float32), short schedules (a few epochs), and times ``fit`` and ``predict``
   (``--device cpu``: one fit, as autocast applies to CUDA only, and no comparison fit in step 3);
2. pickles each fitted model and loads it in a fresh Python process that sees no GPU (``CUDA_VISIBLE_DEVICES=""``),
   where it must predict the same labels as on the GPU (the GPU infers in float32 and the CPU in float64, so a row
   on a cluster border may change: up to ``--tolerance`` of the rows may differ; the count is reported);
3. fits the same estimator with the same parameters on the CPU, on the first ``--cpu-rows`` rows (fewer rows, as
   the CPU is slow; torch's default threads, or ``SKDEEPCLUST_NUM_THREADS``), for the throughput comparison.

Throughput: training samples/s is (rows x epochs trained) / (seconds of the training epochs, from ``history_``),
so k-means, spectral clustering and other work outside the epochs is not counted in it (it is in "fit s");
predict samples/s is rows / seconds of one ``predict`` call. The same definitions apply on both devices.

Prints a markdown table and writes every number to ``--out`` (JSON). Exits with 2 when CUDA is asked for and not
available, 1 when a check fails, 0 otherwise. Usage::

    python tools/gpu_check.py --out gpu_check.json            # on a machine with a GPU; meant for < 5 minutes
    python tools/gpu_check.py --quick --device cpu            # the script's own smoke test, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # shared_data: the benchmarks' loaders

from shared_data import DATA, load_digits_images, load_usps, load_views  # noqa: E402

from skdeepclust import MTDC, SPC, DistilMVC, HaDis, SeCu  # noqa: E402
from skdeepclust._config import AUTOCAST_ENV  # noqa: E402
from skdeepclust._config import autocast as autocast_from_env  # noqa: E402
from skdeepclust.metrics import clustering_accuracy  # noqa: E402

METHODS = ("DistilMVC", "HaDis", "SeCu", "MTDC", "SPC")
CLASSES = {"DistilMVC": DistilMVC, "HaDis": HaDis, "SeCu": SeCu, "MTDC": MTDC, "SPC": SPC}

#: short schedules, default networks (a check of the CUDA path, not of clustering quality). SPC's 2-D UMAP
#: embedding runs on the CPU whatever the device and takes most of an SPC fit: "none" (a mixture on the codes).
FULL_PARAMS = {
    "DistilMVC": {"n_epochs_pretrain": 3, "n_epochs_contrastive": 3, "n_epochs_distill": 3},
    "HaDis": {"n_epochs": 4, "n_epochs_warmup": 1},
    "SeCu": {"n_epochs": 4, "n_epochs_warmup": 1},
    "MTDC": {"n_epochs": 4, "n_epochs_warmup": 1},
    "SPC": {"n_epochs_pretrain": 3, "n_epochs_round": 1, "max_rounds": 2, "embedding": "tsne"},
}
#: ``--quick``: one epoch per stage and small networks
QUICK_PARAMS = {
    "DistilMVC": {"n_epochs_pretrain": 1, "n_epochs_contrastive": 1, "n_epochs_distill": 1, "hidden_dims": (32,),
                  "latent_dim": 16, "projection_hidden_dim": 16, "feature_dim": 8, "batch_size": 64},
    "HaDis": {"n_epochs": 1, "n_epochs_warmup": 0, "projection_hidden_dim": 32, "feature_dim": 8, "batch_size": 64,
              "kmeans_n_init": 2},
    "SeCu": {"n_epochs": 1, "n_epochs_warmup": 0, "n_heads": 1, "projection_hidden_dim": 32, "feature_dim": 8,
             "batch_size": 64},
    "MTDC": {"n_epochs": 1, "n_epochs_warmup": 0, "feature_dim": 8, "batch_size": 64},
    "SPC": {"n_epochs_pretrain": 1, "n_epochs_round": 1, "max_rounds": 1, "embedding": "tsne", "n_members": 2,
            "latent_dim": 8, "head_hidden_dim": 8, "batch_size": 64},
}

#: what the fresh CPU-only process runs: load every pickle, check it is on the CPU, predict, save the labels
CHILD = r"""
import json, pickle, sys, warnings
import numpy as np, torch
assert not torch.cuda.is_available(), "the child process sees a GPU"
folder = sys.argv[1]
report = {}
for name in json.loads(sys.argv[2]):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open(f"{folder}/{name}.pkl", "rb") as f:
            model = pickle.load(f)
    X = np.load(f"{folder}/{name}.X.npy", allow_pickle=False)
    views = int(np.load(f"{folder}/{name}.views.npy"))
    if views:
        X = np.split(X, np.cumsum(model.view_sizes_)[:-1], axis=1)
    np.save(f"{folder}/{name}.cpu_labels.npy", model.predict(X))
    report[name] = {"device_": str(model.device_), "warnings": [str(w.message) for w in caught]}
print(json.dumps(report))
"""


def load_data(quick: bool, rows: int, data: Path | None, seed: int = 0):
    """``{"images": (X, y, image_shape), "views": (views, y)}``, each cut to ``rows`` random rows."""
    rng = np.random.default_rng(seed)
    if quick:
        X, y, shape = load_digits_images()
        d = load_views("digits-views", data)
    else:
        X, y, shape = load_usps(data)
        d = load_views("BDGP", data)
    idx = np.sort(rng.permutation(len(X))[: min(rows, len(X))])
    vidx = np.sort(rng.permutation(len(d.y))[: min(rows, len(d.y))])
    views = [np.ascontiguousarray(v[vidx], dtype=np.float32) for v in d.views]
    return {"images": (X[idx], y[idx], shape), "views": (views, d.y[vidx])}


def make_estimator(name: str, quick: bool, device: str, n_clusters: int, image_shape):
    params = dict((QUICK_PARAMS if quick else FULL_PARAMS)[name])
    if name != "DistilMVC":
        params["image_shape"] = image_shape
    return CLASSES[name](n_clusters=n_clusters, device=device, random_state=0, **params)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(torch.device(device))


def warm_up(device: str) -> None:
    """One tiny fit on ``device``, so that the first timed fit does not pay for CUDA's start-up."""
    X = np.random.default_rng(0).random((64, 64), dtype=np.float32)
    SeCu(n_clusters=2, n_epochs=1, n_epochs_warmup=0, batch_size=32, image_shape=(1, 8, 8), device=device,
         random_state=0).fit(X)
    _sync(device)


def _rows(X) -> int:
    return len(X[0]) if isinstance(X, list) else len(X)


def timed_fit(est, X, device: str) -> dict:
    """Fit and predict ``est`` on ``X``; the numbers of one run (and the fitted estimator)."""
    _sync(device)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # short schedules may leave clusters empty
        est.fit(X)
    _sync(device)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    labels = est.predict(X)
    _sync(device)
    predict_s = time.perf_counter() - t0
    epochs = [r for r in est.history_ if "seconds" in r and "epoch" in r]
    epoch_s = sum(r["seconds"] for r in epochs)
    n = _rows(X)
    return {
        "estimator": est,
        "labels": labels,
        "rows": n,
        "device_": str(est.device_),
        "fit_s": fit_s,
        "epochs": len(epochs),
        "train_samples_per_s": n * len(epochs) / epoch_s if epoch_s > 0 else float("nan"),
        "predict_s": predict_s,
        "predict_samples_per_s": n / predict_s if predict_s > 0 else float("nan"),
    }


def cpu_only_predictions(folder: Path, names: list[str]) -> dict:
    """Load each pickled model of ``folder`` in a fresh process without a GPU and return what it reports."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(folder), json.dumps(names)], env=env,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"the CPU-only process failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check(args) -> dict:
    device = args.device
    data = load_data(args.quick, args.rows, args.data)
    runs, failures = [], []
    on_cuda = device.startswith("cuda")
    user_autocast = os.environ.get(AUTOCAST_ENV)
    if on_cuda:
        warm_up(device)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in args.methods:
            if name == "DistilMVC":
                X, y = data["views"]
                shape, data_name = None, "digits views" if args.quick else "BDGP"
            else:
                X, y, shape = data["images"]
                data_name = "digits" if args.quick else "USPS"
            k = int(np.unique(y).size)
            cpu = None
            if on_cuda:
                n_cpu = min(args.cpu_rows, _rows(X))
                X_cpu = [v[:n_cpu] for v in X] if isinstance(X, list) else X[:n_cpu]
                try:
                    cpu = timed_fit(make_estimator(name, args.quick, "cpu", k, shape), X_cpu, "cpu")
                except Exception:  # noqa: BLE001 - reported, the other checks go on
                    failures.append(f"{name} on the CPU: {traceback.format_exc(limit=3)}")
            for autocast in (True, False) if on_cuda else (False,):  # no autocast on the CPU
                os.environ[AUTOCAST_ENV] = "1" if autocast else "0"
                key = f"{name}-{'bf16' if autocast else 'fp32'}"
                row = {"key": key, "estimator": name, "data": data_name, "device": device,
                       "autocast": autocast and on_cuda and autocast_from_env()}
                t0 = time.perf_counter()
                try:
                    res = timed_fit(make_estimator(name, args.quick, device, k, shape), X, device)
                except Exception:  # noqa: BLE001
                    failures.append(f"{key}: {traceback.format_exc(limit=3)}")
                    row["error"] = traceback.format_exc(limit=3)
                    runs.append(row)
                    continue
                est = res.pop("estimator")
                labels = res.pop("labels")
                row.update(res)
                row["acc"] = float(clustering_accuracy(y, labels))
                row["clusters_used"] = int(np.unique(labels).size)
                if cpu is not None:
                    row["cpu_rows"] = cpu["rows"]
                    row["cpu_train_samples_per_s"] = cpu["train_samples_per_s"]
                    row["cpu_predict_samples_per_s"] = cpu["predict_samples_per_s"]
                    row["train_speedup"] = res["train_samples_per_s"] / cpu["train_samples_per_s"]
                    row["predict_speedup"] = res["predict_samples_per_s"] / cpu["predict_samples_per_s"]
                with open(folder / f"{key}.pkl", "wb") as f:
                    pickle.dump(est, f)
                np.save(folder / f"{key}.X.npy", np.hstack(X) if isinstance(X, list) else X)
                np.save(folder / f"{key}.views.npy", np.array(int(isinstance(X, list))))
                np.save(folder / f"{key}.labels.npy", labels)
                row["seconds"] = time.perf_counter() - t0
                runs.append(row)
                print(f"{key}: fit {row['fit_s']:.1f} s, ACC {row['acc']:.3f}", file=sys.stderr, flush=True)
        if user_autocast is None:
            os.environ.pop(AUTOCAST_ENV, None)
        else:
            os.environ[AUTOCAST_ENV] = user_autocast
        done = [r["key"] for r in runs if "error" not in r]
        if done:
            try:
                child = cpu_only_predictions(folder, done)
            except Exception as exc:  # noqa: BLE001
                failures.append(str(exc))
                child = {}
            for row in runs:
                if row["key"] not in child:
                    continue
                here = np.load(folder / f"{row['key']}.labels.npy")
                there = np.load(folder / f"{row['key']}.cpu_labels.npy")
                row["cpu_load_device_"] = child[row["key"]]["device_"]
                row["cpu_load_warnings"] = child[row["key"]]["warnings"]
                row["cpu_load_rows_differing"] = int((here != there).sum())
                ok = row["cpu_load_device_"] == "cpu" and row["cpu_load_rows_differing"] <= args.tolerance * len(here)
                row["cpu_load_ok"] = bool(ok)
                if not ok:
                    failures.append(f"{row['key']}: loaded without a GPU, {row['cpu_load_rows_differing']} of "
                                    f"{len(here)} labels differ (device_ {row['cpu_load_device_']})")
    return {"runs": runs, "failures": failures}


def _fmt(value, spec: str = ".0f") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return format(value, spec)


def _autocast(row: dict) -> str:
    return "bf16" if row["autocast"] else "off" if row["device"].startswith("cuda") else "n/a"


def table(runs: list[dict]) -> str:
    lines = ["| estimator | data | rows | device | autocast | fit s | train samples/s | CPU train samples/s "
             "| train speed-up | predict samples/s | CPU predict samples/s | loads on CPU | clusters | ACC |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        if "error" in r:
            lines.append(f"| {r['estimator']} | {r['data']} | | {r['device']} | {_autocast(r)} "
                         f"| failed: {r['error'].strip().splitlines()[-1]} | | | | | | | | |")
            continue
        loads = ("same labels" if r.get("cpu_load_rows_differing") == 0 else
                 f"{r.get('cpu_load_rows_differing')} rows differ" if "cpu_load_rows_differing" in r else "–")
        lines.append(
            f"| {r['estimator']} | {r['data']} | {r['rows']} | {r['device_']} | {_autocast(r)} "
            f"| {r['fit_s']:.1f} | {_fmt(r['train_samples_per_s'])} | {_fmt(r.get('cpu_train_samples_per_s'))} "
            f"| {_fmt(r.get('train_speedup'), '.1f')} | {_fmt(r['predict_samples_per_s'])} "
            f"| {_fmt(r.get('cpu_predict_samples_per_s'))} | {loads} | {r['clusters_used']} | {r['acc']:.3f} |"
        )
    return "\n".join(lines)


def environment(device: str) -> dict:
    env = {"python": platform.python_version(), "torch": torch.__version__, "device": device,
           "cpu_threads": torch.get_num_threads(), "cuda_available": torch.cuda.is_available()}
    if device.startswith("cuda"):
        env["gpu"] = torch.cuda.get_device_name(torch.device(device))
        env["cuda"] = torch.version.cuda
        env["bf16_supported"] = torch.cuda.is_bf16_supported()
    return env


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="cuda", help="training device: cuda (default), cuda:N or cpu")
    p.add_argument("--quick", action="store_true", help="a few hundred rows of the digits, one epoch per stage")
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS, metavar="NAME",
                   help=f"estimators to check (default: all of {', '.join(METHODS)})")
    p.add_argument("--rows", type=int, help="rows of each data set (default 4000, --quick 200)")
    p.add_argument("--cpu-rows", type=int, default=1000, help="rows of the CPU comparison fits (default 1000)")
    p.add_argument("--tolerance", type=float, default=0.005,
                   help="fraction of rows whose label may change when the model is loaded on the CPU (default 0.005)")
    p.add_argument("--data", type=Path, default=DATA,
                   help="benchmark data folder (default ../shared/data when it exists, else the fetchers' cache)")
    args = p.parse_args(argv)
    if args.rows is None:
        args.rows = 200 if args.quick else 4000
    if not args.device.startswith("cpu") and not torch.cuda.is_available():
        print(f"gpu_check: CUDA is not available (torch {torch.__version__}, built with CUDA {torch.version.cuda}); "
              "nothing was checked. Run on a machine with a GPU and a CUDA build of torch, or pass --device cpu "
              "to run the script's own checks on the CPU.", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    result = check(args)
    report = {"environment": environment(args.device), "quick": args.quick, "rows": args.rows,
              "cpu_rows": args.cpu_rows, "tolerance": args.tolerance, "seconds": time.perf_counter() - t0,
              **result, "ok": not result["failures"]}
    print(table(result["runs"]))
    print(f"\n{len(result['runs'])} fits in {report['seconds']:.0f} s on {args.device}"
          + (f" ({report['environment'].get('gpu')})" if args.device.startswith("cuda") else ""))
    for failure in result["failures"]:
        print(f"FAILED: {failure}", file=sys.stderr)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, default=str) + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
