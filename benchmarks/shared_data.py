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
