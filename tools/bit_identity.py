"""Fingerprint default fits, to check that a refactoring changes no result.

Fits every estimator with its defaults on scikit-learn's digits (``X / 16``; DistilMVC on the digits
as two views) and DistilMVC on a small synthetic two-view set, on the CPU with one torch thread, and
writes the SHA-256 of ``labels_`` and of ``transform(X)`` per fit. Run it on two versions of the code
and compare the files::

    python tools/bit_identity.py before.json
    python tools/bit_identity.py after.json
    python tools/bit_identity.py --compare before.json after.json
"""

from __future__ import annotations

import hashlib
import json
import sys
import time

import numpy as np
import torch


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def fits():
    from sklearn.datasets import load_digits, make_blobs

    from skdeepclust import MTDC, SPC, DistilMVC, HaDis, SeCu
    from skdeepclust.datasets import load_digits_views

    X = load_digits().data / 16.0
    views = load_digits_views().views
    rng = np.random.default_rng(0)
    Xb, _ = make_blobs(n_samples=200, centers=3, n_features=6, random_state=0)
    small = [Xb[:, :4], Xb[:, 4:] + 0.1 * rng.normal(size=(200, 2))]
    common = {"n_clusters": 10, "device": "cpu", "random_state": 0}
    yield "DistilMVC digits views", DistilMVC(**common), views
    yield "DistilMVC small 2-view", DistilMVC(n_clusters=3, device="cpu", random_state=0), small
    for cls in (HaDis, SeCu, MTDC, SPC):
        yield f"{cls.__name__} digits", cls(**common), X


def main(argv: list[str]) -> None:
    if argv[:1] == ["--compare"]:
        a, b = (json.load(open(p)) for p in argv[1:3])
        same = True
        for key in a:
            ok = a[key]["labels"] == b[key]["labels"] and a[key]["transform"] == b[key]["transform"]
            same &= ok
            print(f"{key:26s} labels_ {a[key]['labels']} {b[key]['labels']}  transform {a[key]['transform']} "
                  f"{b[key]['transform']}  {'identical' if ok else 'DIFFERENT'}")
        print("all identical" if same else "some fits differ")
        return
    torch.set_num_threads(1)
    out = {}
    for name, est, data in fits():
        t0 = time.perf_counter()
        est.fit(data)
        out[name] = {"labels": _sha(est.labels_), "transform": _sha(est.transform(data)),
                     "seconds": round(time.perf_counter() - t0, 1)}
        print(name, out[name], flush=True)
    with open(argv[0], "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
