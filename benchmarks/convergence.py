"""How far into training the partition settles: per-epoch cluster changes and ACC, and the ``tol`` rule replayed.

Usage::

    python benchmarks/convergence.py record MTDC digits 0     # one default fit, every epoch recorded
    python benchmarks/convergence.py replay                   # the tol rule on every recorded trajectory

``record`` fits an estimator with its defaults (one torch thread) and records after every epoch the share of rows
whose cluster changed since the previous epoch (after matching cluster ids) and the ACC of those clusters (labels
are used for this record only): SeCu's stored assignments, MTDC's cluster head on all rows, HaDis's pseudo-labels.
The trajectory is written to ``results/convergence/<estimator>_<set>_<seed>.json`` with the commit it ran on.
``replay`` applies the rule of ``tol`` (stop at ``STABLE_CHECKS`` epochs in a row below ``tol``) to the recorded
trajectories: the epoch it would stop at, the ACC there against the whole schedule's, and the CPU seconds it saves.
For MTDC the replay is what a fit with that ``tol`` does (its learning rate has no schedule, and the rule watches the
mutual stage); for SeCu and HaDis, whose learning rate follows a cosine over the whole schedule, it is an estimate.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "convergence"


def record(cls_name: str, dataset: str, seed: int) -> None:
    import torch
    from run_all import code_version
    from shared_data import LOADERS

    import skdeepclust
    from skdeepclust import single_view
    from skdeepclust.cluster import align_labels
    from skdeepclust.metrics import evaluate_clustering
    from skdeepclust.training import Callback, _trainer, embed_batches

    torch.set_num_threads(1)
    X, y, shape = LOADERS[dataset]()
    rows: list[dict] = []
    # the rows the tol rule follows (MTDC's; SeCu and HaDis follow every row)
    watched_rows = (single_view.stable_rows(len(X), SimpleNamespace(device="cpu")).numpy() if cls_name == "MTDC"
                    else np.arange(len(X)))
    run = _trainer.Trainer.run

    def recording_run(self, stage, step, **kw):
        """Trainer.run with one more callback that records the epoch's clusters."""
        callbacks = list(kw.get("callbacks", ()))
        net, Xt = kw["modules"][0], step.X
        if cls_name == "SeCu":
            from skdeepclust.secu import _SmallestCluster

            stored = next(c for c in callbacks if isinstance(c, _SmallestCluster)).labels
            assign = lambda: stored  # noqa: E731
        elif cls_name == "HaDis":
            from skdeepclust.hadis import _PseudoLabels

            pseudo = next((c for c in callbacks if isinstance(c, _PseudoLabels)), None)
            assign = lambda: None if pseudo is None else pseudo.labels  # noqa: E731
        else:
            assign = lambda: embed_batches(lambda b: net(b)[1].argmax(1), Xt, [net])  # noqa: E731
        previous, t0 = [None], time.process_time()

        class Record(Callback):
            def on_epoch_end(self, state, rec):
                with torch.no_grad():
                    labels = assign()
                if labels is None:
                    return
                labels = labels.cpu().numpy().astype(np.int64)
                changed = watched = None
                if previous[0] is not None:
                    changed = float(np.mean(align_labels(labels, previous[0]) != previous[0]))
                    if len(watched_rows) == len(labels):  # the rule follows every row
                        watched = changed
                    else:
                        now, before = labels[watched_rows], previous[0][watched_rows]
                        watched = float(np.mean(align_labels(now, before) != before))
                previous[0] = labels
                rows.append({"stage": stage, "epoch": state.epoch, "changed": changed, "changed_watched": watched,
                             "acc": evaluate_clustering(y, labels)["acc"], "cpu": time.process_time() - t0})

        kw["callbacks"] = [*callbacks, Record()]
        return run(self, stage, step, **kw)

    _trainer.Trainer.run = recording_run
    est = getattr(skdeepclust, cls_name)(int(y.max()) + 1, image_shape=shape, random_state=seed, device="cpu")
    c0 = time.process_time()
    est.fit(X)
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"estimator": cls_name, "set": dataset, "seed": seed, "rows": rows, "cpu": time.process_time() - c0,
              "final_acc": evaluate_clustering(y, est.labels_)["acc"], **code_version()}
    (OUT / f"{cls_name}_{dataset}_{seed}.json").write_text(json.dumps(result))


#: the stage the rule watches, per estimator (None: every recorded epoch)
WATCHED = {"MTDC": "mtdc", "SeCu": None, "HaDis": None}


def fit_cpu(rows: list[dict]) -> list[float]:
    """CPU seconds since the start of the fit at each recorded epoch (a trajectory's ``cpu`` restarts at each stage)."""
    out, offset, last, previous = [], 0.0, None, 0.0
    for r in rows:
        if last is not None and r["stage"] != last:
            offset += previous
        last, previous = r["stage"], r["cpu"]
        out.append(offset + r["cpu"])
    return out


def _replayed(tols, checks: int) -> list[dict]:
    """One record per trajectory and ``tol``: where the rule stops, the ACC there and at the end, the CPU saved."""
    out = []
    for path in sorted(OUT.glob("*.json")):
        d = json.loads(path.read_text())
        cls = d.get("estimator", path.stem.split("_")[0])
        rows = d["rows"]
        watched = [r for r in rows if WATCHED.get(cls) in (None, r["stage"])]
        total = fit_cpu(rows)[-1]
        for tol in tols:
            run, stop = 0, watched[-1]
            for r in watched:
                share = r.get("changed_watched", r["changed"])  # older records: every row
                if share is not None:
                    run = run + 1 if share < tol else 0
                    if run >= checks:
                        stop = r
                        break
            out.append({"estimator": cls, "set": d["set"], "seed": d["seed"], "tol": tol, "stop": stop["epoch"] + 1,
                        "of": len(watched), "acc_stop": stop["acc"], "acc_end": watched[-1]["acc"],
                        "saved": (watched[-1]["cpu"] - stop["cpu"]) / total, "commit": d.get("commit")})
    return out


def replay(tols=(0.1, 0.05, 0.02, 0.01, 0.005, 0.002), checks: int = 3) -> str:
    """Per trajectory and ``tol`` (one row each), then per estimator, set and ``tol`` over the recorded seeds."""
    rec = _replayed(tols, checks)
    lines = ["| estimator | set | seed | tol | stops at epoch | of | ACC there | ACC, whole schedule | CPU saved |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['estimator']} | {r['set']} | {r['seed']} | {r['tol']:g} | {r['stop']} | {r['of']} | "
              f"{r['acc_stop']:.4f} | {r['acc_end']:.4f} | {100 * r['saved']:.0f}% |" for r in rec]
    lines += ["", "Over the recorded seeds (mean; the change is ACC where the rule stops minus ACC at the end of the "
              "schedule):", "", "| estimator | set | tol | seeds | ACC, whole schedule | ACC with tol | change | "
              "worst seed | CPU saved |", "|---|---|---|---|---|---|---|---|---|"]
    groups: dict = {}
    for r in rec:
        groups.setdefault((r["estimator"], r["tol"], r["set"]), []).append(r)
    for (cls, tol, dataset), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], -kv[0][1], kv[0][2])):
        diff = [r["acc_stop"] - r["acc_end"] for r in rs]
        lines.append(f"| {cls} | {dataset} | {tol:g} | {','.join(str(r['seed']) for r in rs)} | "
                     f"{np.mean([r['acc_end'] for r in rs]):.4f} | {np.mean([r['acc_stop'] for r in rs]):.4f} | "
                     f"{np.mean(diff):+.4f} | {min(diff):+.4f} | {100 * np.mean([r['saved'] for r in rs]):.0f}% |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    if sys.argv[1] == "record":
        record(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        table = replay()
        (OUT / "replay.md").write_text(table)
        print(table)
