"""``python -m skdeepclust``: cluster scikit-learn's digits and print ACC/NMI/ARI against KMeans.

Runs offline on the CPU. By default it fits SeCu on the 8x8 images (about a minute on two cores);
``--methods all`` adds MTDC and HaDis on the images, SPC (when umap-learn is installed; with its CPU
budget settings) and DistilMVC on two views of the digits (pixels and gradients), several minutes in all.
Options: ``--methods``, ``--device``, ``--seed``, ``--verbose``.
"""

from __future__ import annotations

import argparse
import time

from sklearn.cluster import KMeans
from sklearn.datasets import load_digits

from . import MTDC, SPC, DistilMVC, HaDis, SeCu, stack_views
from ._utils import resolve_device
from .datasets import load_digits_views
from .metrics import evaluate_clustering

IMAGE_METHODS = {"SeCu": SeCu, "MTDC": MTDC, "HaDis": HaDis}
ALL = [*IMAGE_METHODS, "SPC", "DistilMVC"]
#: SPC on a CPU: MLP members, a smaller ensemble and fewer rounds than the paper (see the SPC docstring)
SPC_CPU = dict(autoencoder="mlp", n_members=5, max_rounds=3)


def main(argv=None) -> None:
    """Run the digits demo."""
    ap = argparse.ArgumentParser(
        prog="python -m skdeepclust",
        description="Cluster scikit-learn's digits offline and print ACC/NMI/ARI next to KMeans. By default it "
        "fits SeCu on the 8x8 images (about a minute on two cores); '--methods all' adds MTDC, HaDis, SPC (when "
        "umap-learn is installed) and DistilMVC on two views of the digits (several minutes in all).",
    )
    ap.add_argument("--methods", nargs="+", default=["SeCu"], help=f"any of {ALL}, or 'all'")
    ap.add_argument("--device", default="auto", help="'auto' (default), 'cpu' or 'cuda'")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", action="store_true", help="progress bars")
    args = ap.parse_args(argv)
    methods = ALL if args.methods == ["all"] else args.methods
    unknown = sorted(set(methods) - set(ALL))
    if unknown:
        ap.error(f"unknown method(s) {unknown}; choose from {ALL} or 'all'")
    try:
        resolve_device(args.device)
    except (TypeError, ValueError) as exc:
        ap.error(str(exc))

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    print(f"digits: {X.shape[0]} images of 8x8 pixels, 10 classes\n")
    print(f"{'method':<28} {'ACC':>6} {'NMI':>6} {'ARI':>6} {'seconds':>8}")

    def report(name, fit_predict):
        t0 = time.perf_counter()
        labels = fit_predict()
        m = evaluate_clustering(y, labels)
        print(f"{name:<28} {m['acc']:6.3f} {m['nmi']:6.3f} {m['ari']:6.3f} {time.perf_counter() - t0:8.1f}", flush=True)

    report("KMeans (pixels)", lambda: KMeans(10, n_init=10, random_state=args.seed).fit_predict(X))
    common = dict(device=args.device, random_state=args.seed, verbose=int(args.verbose))
    for name in methods:
        if name == "DistilMVC":
            views = load_digits_views()
            Xv, sizes = stack_views(views.views)
            est = DistilMVC(n_clusters=10, view_sizes=sizes, **common)
            report("DistilMVC (two views)", lambda est=est, Xv=Xv: est.fit_predict(Xv))
        elif name == "SPC":
            try:
                import umap  # noqa: F401
            except ImportError:
                print(f"{'SPC (images)':<28} skipped: needs umap-learn (pip install \"skdeepclust[umap]\")")
                continue
            est = SPC(n_clusters=10, image_shape=(1, 8, 8), **SPC_CPU, **common)
            report("SPC (images, CPU settings)", lambda est=est: est.fit_predict(X))
        else:
            est = IMAGE_METHODS[name](n_clusters=10, image_shape=(1, 8, 8), **common)
            report(f"{name} (images)", lambda est=est: est.fit_predict(X))


if __name__ == "__main__":
    main()
