"""Fingerprint default fits, to check that a refactoring changes no result.

Fits every estimator with its defaults on scikit-learn's digits (``X / 16``; DistilMVC on the digits
as two views) and DistilMVC on a small synthetic two-view set, on the CPU with one torch thread, and
writes the SHA-256 of ``labels_`` and of ``transform(X)`` per fit. Run it on two versions of the code
and compare the files::

    python tools/bit_identity.py before.json
    python tools/bit_identity.py after.json
    python tools/bit_identity.py --compare before.json after.json

``--quick`` fingerprints short fits of the branches the defaults do not take instead (images, the other
constraints and final clusterings, single-view DistilMVC, the ablations of ``benchmarks/ablations.py``), on 600
rows of the digits: about a minute in all.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

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


def quick_fits():
    """Short fits of the branches that the default fits do not take."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from ablations import DistilMVCKMeansPseudoLabels, DistilMVCLatentPseudoLabels, HaDisNoHSD, SPCRawCodes
    from sklearn.datasets import load_digits

    from skdeepclust import MTDC, SPC, DistilMVC, HaDis, SeCu
    from skdeepclust.datasets import load_digits_views

    class FewRestarts(DistilMVCKMeansPseudoLabels):
        _kmeans_n_init = 3

    X = load_digits().data[:600] / 16.0
    views = [v[:600] for v in load_digits_views().views]
    c = {"n_clusters": 10, "device": "cpu", "random_state": 0}
    img = {"image_shape": (1, 8, 8)}
    short = {"n_epochs_pretrain": 3, "n_epochs_contrastive": 3, "n_epochs_distill": 3}
    spc = {"n_epochs_pretrain": 2, "n_epochs_round": 2, "max_rounds": 2}
    yield "HaDis img", HaDis(**c, **img, n_epochs=4), X
    yield "HaDis kmeans-final", HaDis(**c, n_epochs=4, final_clustering="kmeans"), X
    yield "HaDis no-hsd", HaDisNoHSD(**c, n_epochs=4), X
    yield "SeCu img", SeCu(**c, **img, n_epochs=4, n_epochs_warmup=1), X
    yield "SeCu entropy", SeCu(**c, n_epochs=4, n_epochs_warmup=1, constraint="entropy"), X
    yield "MTDC img", MTDC(**c, **img, n_epochs=4), X
    yield "MTDC cc", MTDC(**c, n_epochs=4, hcr_weight=0.0, supcon_weight=0.0), X
    yield "SPC img", SPC(**c, **img, **spc), X
    yield "SPC none", SPCRawCodes(**c, **spc), X
    yield "DistilMVC kmeans", FewRestarts(**c, **short), views
    yield "DistilMVC spectral nn0", DistilMVCLatentPseudoLabels(**c, **short, n_pair_neighbors=0), views
    yield "DistilMVC single", DistilMVC(**c, **short), X
    yield "DistilMVC auto-short", DistilMVC(**c, n_epochs_pretrain=3, n_epochs_distill=3, distill_batch_size=1000), \
        views


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
    quick = argv[:1] == ["--quick"]
    argv = argv[1:] if quick else argv
    for name, est, data in (quick_fits() if quick else fits()):
        t0 = time.perf_counter()
        est.fit(data)
        out[name] = {"labels": _sha(est.labels_), "transform": _sha(est.transform(data)),
                     "seconds": round(time.perf_counter() - t0, 1)}
        print(name, out[name], flush=True)
    with open(argv[0], "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
