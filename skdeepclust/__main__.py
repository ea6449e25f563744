"""``python -m skdeepclust``: cluster your own data file (``fit``) or scikit-learn's digits (``demo``).

``python -m skdeepclust fit DATA --method M --n-clusters K --out labels.csv`` reads a ``.npy``,
``.npz``, ``.csv`` or ``.mat`` file, fits one estimator and writes one cluster label per row; labels
stored in the file are used only to print ACC/NMI/ARI. ``python -m skdeepclust demo`` (also what
``python -m skdeepclust`` alone runs) clusters the digits offline and prints ACC/NMI/ARI next to KMeans.

Usage errors are one line on stderr with exit status 2; a fit that fails is one line with status 1.
Run ``python -m skdeepclust fit --help`` for the options.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np

from . import MTDC, SPC, DistilMVC, HaDis, SeCu, __version__, stack_views
from ._datafile import NPZ_LABEL_KEYS, DataFileError, read_data_file
from ._utils import resolve_device
from ._validation import one_line
from .datasets import _LABEL_KEYS
from .metrics import evaluate_clustering

PROG = "python -m skdeepclust"
IMAGE_METHODS = {"SeCu": SeCu, "MTDC": MTDC, "HaDis": HaDis}
ALL = [*IMAGE_METHODS, "SPC", "DistilMVC"]
#: the estimators ``fit`` can use, by name
METHODS = {"DistilMVC": DistilMVC, "HaDis": HaDis, "SeCu": SeCu, "MTDC": MTDC, "SPC": SPC}
#: SPC on a CPU: MLP members, a smaller ensemble and fewer rounds than the paper (see the SPC docstring)
SPC_CPU = dict(autoencoder="mlp", n_members=5, max_rounds=3)
#: estimator parameters that have their own option
OWN_OPTION = {"n_clusters": "--n-clusters", "device": "--device", "random_state": "--seed", "verbose": "--quiet",
              "image_shape": "--image-shape", "view_sizes": "--view-sizes"}

DESCRIPTION = (
    "Deep clustering from the command line. 'fit' clusters the rows of your own .npy, .npz, .csv or .mat file "
    "and writes one cluster label per row. 'demo' (what runs when no command is given) clusters scikit-learn's "
    "digits offline and prints ACC/NMI/ARI next to KMeans. Run 'python -m skdeepclust fit --help' for the "
    "options of fit."
)

FIT_DESCRIPTION = f"""\
Cluster the rows of your own data file and write one cluster label per row to a .csv file.

data files:
  .csv  numbers separated by commas (or semicolons, or tabs), one sample per line. A header row is
        detected (or set with --header). Every column is a feature, except the label column named
        by --label-column NAME or INDEX (INDEX counts from 0; -1 is the last column).
  .npy  one 2-D array, samples x features; no labels.
  .npz  the features under 'X' (or the file's only array); labels, when present, under
        {" or ".join(repr(k) for k in NPZ_LABEL_KEYS)}, or under --label-key KEY.
  .mat  a multi-view MATLAB file as skdeepclust.datasets.load_mat_views reads it: views in a
        cell array (X, data, fea, views) or as X1, X2, ...; views stored features x samples are
        transposed; labels under {", ".join(_LABEL_KEYS[:5])}, ... or --label-key KEY (the reader needs
        them). One plain matrix under X, data or fea is a single view.

Labels found in the file are used only to print ACC, NMI and ARI after the fit, never for fitting.

Several views (a .mat file with several views, or --view-sizes for a table with the views side by
side) are clustered by DistilMVC, the default --method for them; a single table needs --method.
Rows are tabular features unless --image-shape says they are flattened images (values in [0, 1]).
Any estimator parameter can be set with --param NAME=VALUE (repeatable): VALUE is read as a Python
literal (3, 0.01, (64, 32), None, True), or else as a plain string (kmeans).
"""

FIT_EPILOG = """\
examples:
  python -m skdeepclust fit iris.csv --label-column species --method SeCu --n-clusters 3 --out labels.csv
  python -m skdeepclust fit images.npy --method MTDC --n-clusters 10 --image-shape 1 28 28 --out labels.csv
  python -m skdeepclust fit views.mat --n-clusters 10 --param n_epochs_contrastive=100 --out labels.csv \\
      --save-model model.joblib

A model saved with --save-model loads with joblib.load(path) (or pickle) and clusters new rows with
its predict method.
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``message`` on one line and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")


def _fail(prog: str, message: object, status: int = 1) -> NoReturn:
    """A failure after the arguments were accepted: one line on stderr, exit ``status``."""
    sys.stderr.write(f"{prog}: error: {one_line(message)}\n")
    raise SystemExit(status)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be a positive integer")
    return value


def _method_name(text: str) -> str:
    for name in METHODS:
        if name.lower() == text.lower():
            return name
    raise argparse.ArgumentTypeError(f"unknown method {text!r}; choose from {', '.join(METHODS)}")


def _param(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` with VALUE a Python literal, or a plain string when it is not one."""
    name, eq, value = text.partition("=")
    name = name.strip()
    if not eq or not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE (e.g. n_epochs=20)")
    if name in OWN_OPTION:
        raise argparse.ArgumentTypeError(f"set {name} with {OWN_OPTION[name]}, not --param")
    try:
        return name, ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return name, value.strip()


# ---------------------------------------------------------------------------------------------- parsers
def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, with the ``fit`` and ``demo`` commands.

    Returns
    -------
    argparse.ArgumentParser
    """
    ap = _Parser(prog=PROG, description=DESCRIPTION)
    ap.add_argument("--version", action="version", version=f"skdeepclust {__version__}")
    sub = ap.add_subparsers(title="commands", dest="command", metavar="{fit,demo}", required=True)

    fit = sub.add_parser("fit", help="cluster your own data file", description=FIT_DESCRIPTION,
                         epilog=FIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    fit.add_argument("data", metavar="DATA", help="the data file: .csv, .npy, .npz or .mat")
    fit.add_argument("--method", type=_method_name, metavar="M",
                     help=f"one of {', '.join(METHODS)} (default: DistilMVC for several views; "
                     "required for a single table)")
    fit.add_argument("--n-clusters", type=_positive_int, required=True, metavar="K", help="number of clusters")
    fit.add_argument("--out", required=True, metavar="PATH",
                     help="where to write the labels: a .csv file with a header 'label' and one row per sample")
    fit.add_argument("--image-shape", type=_positive_int, nargs=3, metavar=("C", "H", "W"),
                     help="the rows are flattened images of C channels, H x W pixels, values in [0, 1] "
                     "(HaDis, SeCu, MTDC, SPC)")
    fit.add_argument("--view-sizes", type=_positive_int, nargs="+", metavar="D",
                     help="the table holds several views side by side, of these widths (DistilMVC)")
    fit.add_argument("--label-column", metavar="NAME|INDEX",
                     help=".csv: the column that holds labels (header name, or index from 0; -1 is the last)")
    fit.add_argument("--label-key", metavar="KEY",
                     help=f".npz and .mat: the key of the labels (default: {NPZ_LABEL_KEYS[0]!r} or "
                     f"{NPZ_LABEL_KEYS[1]!r} in .npz, the usual names in .mat)")
    fit.add_argument("--header", choices=("auto", "yes", "no"), default="auto",
                     help=".csv: whether the first row names the columns (default: auto, detected)")
    fit.add_argument("--param", type=_param, action="append", default=[], metavar="NAME=VALUE",
                     help="set any estimator parameter, e.g. --param n_epochs=50 --param lr=0.01 (repeatable)")
    fit.add_argument("--device", default="auto", help="'auto' (default: CUDA if available), 'cpu', 'cuda' or 'cuda:N'")
    fit.add_argument("--seed", type=int, default=0, help="random seed of the fit (default: 0)")
    fit.add_argument("--quiet", action="store_true",
                     help="no progress bars (by default each training stage shows one on stderr)")
    fit.add_argument("--save-model", metavar="PATH",
                     help="also save the fitted estimator with joblib (load it with joblib.load)")
    fit.set_defaults(run=_run_fit, parser=fit)

    demo = sub.add_parser(
        "demo", help="cluster scikit-learn's digits offline (the default command)",
        description="Cluster scikit-learn's digits offline and print ACC/NMI/ARI next to KMeans. By default it "
        "fits SeCu on the 8x8 images (about a minute on two cores); with --methods all it adds MTDC, HaDis, SPC "
        "and DistilMVC on two views of the digits (several minutes in all). "
        "'python -m skdeepclust' without a command runs this demo.",
    )
    demo.add_argument("--methods", nargs="+", default=["SeCu"], help=f"any of {ALL}, or 'all'")
    demo.add_argument("--device", default="auto", help="'auto' (default), 'cpu' or 'cuda'")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="no progress bars (shown on stderr by default)")
    demo.set_defaults(run=_run_demo, parser=demo)
    return ap


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``). Without a command, or when they start with an
        option other than ``--help`` and ``--version``, they are the ``demo`` command's.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["demo", *argv]
    args = build_parser().parse_args(argv)
    try:
        args.run(args, args.parser)
    except KeyboardInterrupt:
        _fail(args.parser.prog, "interrupted", status=130)


# ---------------------------------------------------------------------------------------------- fit
def _check_output_path(path: str, option: str, data: Path, ap: argparse.ArgumentParser) -> None:
    p = Path(path)
    if p.is_dir():
        ap.error(f"{option} {path} is a directory; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        ap.error(f"{option} {path}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        ap.error(f"{option} {path}: the directory {parent} is not writable")
    if p.exists() and data.exists() and p.resolve() == data.resolve():
        ap.error(f"{option} {path} would overwrite the data file")


def _run_fit(args: argparse.Namespace, ap: argparse.ArgumentParser) -> None:
    """The ``fit`` command: read, check, fit, write, report."""
    data_path = Path(args.data)
    try:
        resolve_device(args.device)
    except (TypeError, ValueError) as exc:
        ap.error(str(exc))
    _check_output_path(args.out, "--out", data_path, ap)
    if args.save_model is not None:
        _check_output_path(args.save_model, "--save-model", data_path, ap)
    try:
        data = read_data_file(data_path, label_column=args.label_column, label_key=args.label_key,
                              header=args.header)
    except DataFileError as exc:
        ap.error(str(exc))
    n, d = data.X.shape

    view_sizes = data.view_sizes
    if args.view_sizes:
        sizes = tuple(args.view_sizes)
        if sum(sizes) != d:
            ap.error(f"--view-sizes {' '.join(map(str, sizes))} sum to {sum(sizes)}, but {data_path} has {d} "
                     "feature columns")
        if view_sizes is not None and sizes != view_sizes:
            ap.error(f"--view-sizes {list(sizes)} differ from the views of {data_path}, {list(view_sizes)}")
        view_sizes = sizes if len(sizes) > 1 else None
    method = args.method
    if view_sizes is not None:
        if method is None:
            method = "DistilMVC"
        elif method != "DistilMVC":
            ap.error(f"the data have {len(view_sizes)} views, which need --method DistilMVC; {method} clusters "
                     "a single table")
    elif method is None:
        ap.error(f"choose a --method for a single table: one of {', '.join(METHODS)}")
    if args.image_shape:
        if method == "DistilMVC":
            ap.error("--image-shape is for HaDis, SeCu, MTDC and SPC; DistilMVC clusters tables and views")
        if int(np.prod(args.image_shape)) != d:
            c, h, w = args.image_shape
            ap.error(f"--image-shape {c} {h} {w} has {c * h * w} values per image, but {data_path} has {d} "
                     "feature columns")
    if args.n_clusters > n:
        ap.error(f"--n-clusters {args.n_clusters} is more than the {n} rows of {data_path}")

    est = METHODS[method](n_clusters=args.n_clusters, device=args.device, random_state=args.seed,
                          verbose=int(not args.quiet))
    if args.image_shape:
        est.set_params(image_shape=tuple(args.image_shape))
    if view_sizes is not None:
        est.set_params(view_sizes=view_sizes)
    params = dict(args.param)
    unknown = sorted(set(params) - set(est.get_params()))
    if unknown:
        ap.error(f"{method} has no parameter {', '.join(map(repr, unknown))}; its parameters are "
                 f"{', '.join(sorted(set(est.get_params()) - set(OWN_OPTION)))}")
    est.set_params(**params)

    shape = f"{n} rows x {d} features" + (f" in {len(view_sizes)} views {list(view_sizes)}" if view_sizes else "")
    notes = [*data.notes] + ([f"labels in {data.labels_from}"] if data.labels_from else [])
    print(f"data: {data_path}, {shape} ({'; '.join(notes)})", flush=True)
    print(f"model: {one_line(repr(est))}", flush=True)
    labels, seconds = _fit_predict(est, data.X, ap.prog)
    sizes = np.bincount(labels, minlength=args.n_clusters)
    print(f"fitted in {seconds:.1f} s on {est.device_}; cluster sizes {', '.join(map(str, sizes))}")

    try:
        np.savetxt(args.out, labels[:, None], fmt="%d", header="label", comments="")
    except OSError as exc:
        _fail(ap.prog, f"cannot write {args.out}: {exc}")
    print(f"labels: {labels.size} rows written to {args.out}")
    if args.save_model is not None:
        import joblib

        try:
            joblib.dump(est, args.save_model)
        except OSError as exc:
            _fail(ap.prog, f"cannot write {args.save_model}: {exc}")
        print(f"model saved to {args.save_model} (load it with joblib.load)")
    if data.y is not None:
        m = evaluate_clustering(data.y, labels)
        print(f"ACC {m['acc']:.3f}  NMI {m['nmi']:.3f}  ARI {m['ari']:.3f}  (against the labels in "
              f"{data.labels_from}, {np.unique(data.y).size} classes; they were used only for this report)")


def _fit_predict(est, X: np.ndarray, prog: str) -> tuple[np.ndarray, float]:
    """Fit ``est`` on ``X``: its labels and the seconds it took, or a one-line failure (status 1)."""
    import torch

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        try:
            labels = est.fit_predict(X)
        except (ValueError, TypeError, ArithmeticError, ImportError, MemoryError, torch.cuda.OutOfMemoryError) as exc:
            _fail(prog, f"the fit failed: {exc}")
    seen = set()
    for w in caught:
        message = one_line(w.message)
        if message not in seen:
            seen.add(message)
            sys.stderr.write(f"{prog}: warning: {message}\n")
    return np.asarray(labels, dtype=np.int64), time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------- demo
def _run_demo(args: argparse.Namespace, ap: argparse.ArgumentParser) -> None:
    """The ``demo`` command: scikit-learn's digits, KMeans and the chosen methods."""
    from sklearn.cluster import KMeans
    from sklearn.datasets import load_digits

    from .datasets import load_digits_views

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

    def report(name: str, fit_predict: Callable[[], np.ndarray]) -> None:
        t0 = time.perf_counter()
        labels = fit_predict()
        m = evaluate_clustering(y, labels)
        print(f"{name:<28} {m['acc']:6.3f} {m['nmi']:6.3f} {m['ari']:6.3f} {time.perf_counter() - t0:8.1f}", flush=True)

    report("KMeans (pixels)", lambda: KMeans(10, n_init=10, random_state=args.seed).fit_predict(X))
    common = dict(device=args.device, random_state=args.seed, verbose=int(not args.quiet))
    for name in methods:
        if name == "DistilMVC":
            views = load_digits_views()
            Xv, sizes = stack_views(views.views)
            est = DistilMVC(n_clusters=10, view_sizes=sizes, **common)
            report("DistilMVC (two views)", lambda est=est, Xv=Xv: est.fit_predict(Xv))
        elif name == "SPC":
            est = SPC(n_clusters=10, image_shape=(1, 8, 8), **SPC_CPU, **common)
            report("SPC (images, CPU settings)", lambda est=est: est.fit_predict(X))
        else:
            est = IMAGE_METHODS[name](n_clusters=10, image_shape=(1, 8, 8), **common)
            report(f"{name} (images)", lambda est=est: est.fit_predict(X))


if __name__ == "__main__":
    main()
