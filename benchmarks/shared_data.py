"""Loaders for the benchmark data sets, through the fetchers of :mod:`skdeepclust.datasets`.

The data live in ``../shared/data`` beside the repository when it exists (a development clone): the fetchers read
the files there in place (the cache file names are theirs) and check their SHA-256, nothing is downloaded or
copied. Without that folder, the fetchers' cache (``SKDEEPCLUST_DATA_HOME``, else ``~/skdeepclust_data``) is used
and the files are downloaded once.

Every image loader returns ``(X, y, image_shape)`` with ``X`` float32 rows in ``[0, 1]`` (flattened images),
``y`` labels 0..K-1 and ``image_shape`` ``(C, H, W)``.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from skdeepclust.datasets import (
    _to_idx,
    fetch_bdgp,
    fetch_coil20,
    fetch_hdigit,
    fetch_hw,
    fetch_mnist_test,
    fetch_mnist_usps,
    fetch_synthetic3d,
    fetch_usps,
    load_digits_views,
)

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
#: the benchmark data folder, or None for the fetchers' own cache (downloads allowed there only)
DATA: Path | None = _SHARED if _SHARED.is_dir() else None


def _images(fetch, data: Path | None):
    d = fetch(data_home=data, download_if_missing=data is None)
    return d.data, d.target, d.image_shape


def load_usps(data: Path | None = DATA):
    """USPS, 9298 16x16 digits."""
    return _images(fetch_usps, data)


def load_mnist10k(data: Path | None = DATA):
    """The official MNIST test set, 10000 28x28 digits.

    ``../shared/data`` holds it as ``MNIST_test10k.npz``, not as the two idx files the fetcher reads: they are
    written from it into a temporary folder, and the fetcher checks their content against the official files'.
    """
    if data is None:
        return _images(fetch_mnist_test, None)
    npz = np.load(data / "MNIST_test10k.npz")
    with tempfile.TemporaryDirectory() as tmp:
        for name, a in (("t10k-images-idx3-ubyte.gz", npz["X"]), ("t10k-labels-idx1-ubyte.gz", npz["y"])):
            with gzip.GzipFile(Path(tmp) / name, "wb", compresslevel=1, mtime=0) as f:
                f.write(_to_idx(a))
        d = fetch_mnist_test(data_home=tmp, download_if_missing=False)
    return d.data, d.target, d.image_shape


def load_coil20(data: Path | None = DATA):
    """COIL-20, 1440 32x32 grey images of 20 objects."""
    return _images(fetch_coil20, data)


def load_digits_images(data: Path | None = DATA):
    """scikit-learn's digits, 1797 8x8 images scaled to [0, 1]."""
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y, (1, 8, 8)


LOADERS = {"USPS": load_usps, "MNIST-10k": load_mnist10k, "COIL-20": load_coil20, "digits": load_digits_images}


def load_views(name: str, data: Path | None = DATA):
    """A multi-view benchmark set (a Bunch with ``views`` and ``y``), by its name in the report."""
    return VIEW_FETCHERS[name](data_home=data, download_if_missing=data is None)


def _digits_views(data_home=None, download_if_missing=True):
    """scikit-learn's digits as pixels and image gradients (offline; the arguments are not used)."""
    return load_digits_views()


VIEW_FETCHERS = {"MNIST_USPS": fetch_mnist_usps, "BDGP": fetch_bdgp, "HW": fetch_hw, "Synthetic3d": fetch_synthetic3d,
                 "Hdigit": fetch_hdigit, "digits-views": _digits_views}


# --- the sets added for the wider suite (``suite.json``): read from ``../shared/data`` only ------------------

def _shared(name: str, data: Path | None) -> Path:
    if data is None:
        raise FileNotFoundError(f"{name} is read from ../shared/data, which is not beside this clone.")
    return data / name


def _mat_images(name: str, side: int, data: Path | None, *, column_major: bool, scale: float = 255.0):
    """A grey image set stored as one row per image: ``(X in [0, 1] as float32, y 0..K-1, (1, side, side))``."""
    import scipy.io

    mat = scipy.io.loadmat(_shared(name, data))
    X = np.asarray(mat["X"], dtype=np.float64).reshape(-1, side, side)
    if column_major:
        X = X.transpose(0, 2, 1)
    y = np.unique(np.asarray(mat["Y"]).ravel(), return_inverse=True)[1]
    return (X.reshape(len(X), -1) / scale).astype(np.float32), y, (1, side, side)


def load_umist(data: Path | None = DATA):
    """UMIST faces, 575 32x32 images of 20 people under pose changes."""
    return _mat_images("UMIST_32x32.mat", 32, data, column_major=True)


def load_jaffe(data: Path | None = DATA):
    """JAFFE faces, 213 32x32 images of 10 people with posed expressions."""
    return _mat_images("JAFFE_32x32.mat", 32, data, column_major=False)


def load_yale(data: Path | None = DATA):
    """Yale faces, 165 32x32 images of 15 people (lighting, expression, glasses)."""
    return _mat_images("Yale_32x32.mat", 32, data, column_major=True)


def load_palm(data: Path | None = DATA):
    """Palm prints, 2000 16x16 images of 100 palms (resampled values; clipped to [0, 1] after / 255)."""
    X, y, shape = _mat_images("Palm_16x16.mat", 16, data, column_major=False)
    return np.clip(X, 0.0, 1.0), y, shape


def _standardised(X, y):
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit_transform(np.asarray(X, dtype=np.float64)).astype(np.float32), np.asarray(y), None


def load_isolet(data: Path | None = DATA):
    """ISOLET spoken letters, 1560 rows of 617 features, 26 classes (standardised)."""
    import scipy.io

    mat = scipy.io.loadmat(_shared("Isolet.mat", data))
    y = np.unique(np.asarray(mat["Y"]).ravel(), return_inverse=True)[1]
    return _standardised(mat["X"], y)


def load_wine_rows(data: Path | None = DATA):
    """scikit-learn's wine, 178 rows of 13 features, 3 classes (standardised)."""
    from sklearn.datasets import load_wine

    return _standardised(*load_wine(return_X_y=True))


def load_breast_cancer_rows(data: Path | None = DATA):
    """scikit-learn's breast cancer, 569 rows of 30 features, 2 classes (standardised)."""
    from sklearn.datasets import load_breast_cancer

    return _standardised(*load_breast_cancer(return_X_y=True))


def load_iris_rows(data: Path | None = DATA):
    """scikit-learn's iris, 150 rows of 4 features, 3 classes (standardised)."""
    from sklearn.datasets import load_iris

    return _standardised(*load_iris(return_X_y=True))


LOADERS.update({"UMIST": load_umist, "JAFFE": load_jaffe, "Yale": load_yale, "Palm": load_palm,
                "Isolet": load_isolet, "wine": load_wine_rows, "breast-cancer": load_breast_cancer_rows,
                "iris": load_iris_rows})


def _mat_views(name: str, *, tfidf: bool = False):
    """A multi-view ``.mat`` set of ``../shared/data`` as a Bunch with ``views`` and ``y``; ``tfidf`` turns raw
    term counts into tf-idf rows of unit length, per view (what a user does with counts before clustering)."""
    from skdeepclust.datasets._mat import load_mat_views

    def fetch(data_home=None, download_if_missing=False):
        ds = load_mat_views(_shared(name, data_home))
        if tfidf:
            from sklearn.feature_extraction.text import TfidfTransformer

            ds.views = [TfidfTransformer().fit_transform(v).toarray() for v in ds.views]
        return ds

    return fetch


VIEW_FETCHERS.update({"MSRCv1": _mat_views("MSRCv1.mat"), "100Leaves": _mat_views("100Leaves.mat"),
                      "20newsgroups": _mat_views("20newsgroups.mat", tfidf=True), "WebKB": _mat_views("WebKB.mat")})
