"""``predict``/``transform`` throughput in float64 against float32 on the CPU (``inference_dtype``).

Each estimator is fitted for one short epoch on 300 synthetic rows (the data of ``cost_curves.py``; the
throughput of inference does not depend on how well the network is trained), then ``transform`` and
``predict`` of ``rows`` new rows run twice in each precision, alternately. Reported: CPU seconds of the
process (``time.process_time``, one torch thread), rows per CPU second (best of two), the share of equal
labels and the largest difference of the embeddings. Usage::

    python benchmarks/inference_dtype.py [--out benchmarks/results/inference_dtype.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cost_curves import make_data, make_estimator  # noqa: E402

#: (estimator, data kind, rows to predict)
CASES = (("SeCu", "image", 4096), ("MTDC", "tabular", 40960), ("HaDis", "image", 4096))


def measure(name: str, kind: str, rows: int) -> dict:
    est = make_estimator(name, kind).set_params(n_epochs=1)
    if name == "SeCu":
        est.set_params(n_epochs_warmup=0)
    if name == "HaDis":
        est.set_params(n_epochs_warmup=0, final_clustering="kmeans")
    est.fit(make_data(kind, 300))
    X = make_data(kind, rows, seed=1)
    times, outs = {}, {}
    for dt in ("float64", "float32", "float64", "float32"):
        est.set_params(inference_dtype=dt)
        c0 = time.process_time()
        outs[dt] = est._run_inference(X)  # transform's embedding and predict's raw labels, in one pass
        times.setdefault(dt, []).append(time.process_time() - c0)
    return {"estimator": name, "kind": kind, "rows": rows, "cpu_s_float64": times["float64"],
            "cpu_s_float32": times["float32"], "rows_per_cpu_s_float64": round(rows / min(times["float64"])),
            "rows_per_cpu_s_float32": round(rows / min(times["float32"])),
            "label_agreement": float((outs["float64"][1] == outs["float32"][1]).mean()),
            "max_abs_embedding_diff": float(np.abs(outs["float64"][0].astype(np.float64) - outs["float32"][0]).max())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "inference_dtype.jsonl"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    with open(args.out, "w") as f:
        for case in CASES:
            row = measure(*case)
            print(json.dumps(row), flush=True)
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
