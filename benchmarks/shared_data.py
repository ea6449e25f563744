"""Loaders for the benchmark files of ../shared/data (not part of the package: the files are not shipped).

Every loader returns ``(X, y, image_shape)`` with ``X`` float32 rows in ``[0, 1]`` (flattened images),
``y`` labels 0..K-1 and ``image_shape`` ``(C, H, W)`` (``None`` for tabular data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
from sklearn.datasets import load_digits

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _labels(y):
    return np.unique(np.asarray(y).ravel(), return_inverse=True)[1]


def load_usps(data: Path = DATA):
    """USPS, 9298 16x16 digits (``usps_all``: pixels then label + 1 in the last column)."""
    a = scipy.io.loadmat(data / "USPS_9298.mat")["usps_all"]
    return (a[:, :256] / 255.0).astype(np.float32), _labels(a[:, 256]), (1, 16, 16)


def load_mnist10k(data: Path = DATA):
    """The official MNIST test set, 10000 28x28 digits."""
    d = np.load(data / "MNIST_test10k.npz")
    return (d["X"].reshape(len(d["X"]), -1) / 255.0).astype(np.float32), _labels(d["y"]), (1, 28, 28)


def load_coil20(data: Path = DATA):
    """COIL-20, 1440 32x32 grey images of 20 objects."""
    d = scipy.io.loadmat(data / "COIL20_32x32.mat")
    X = d["X"].astype(np.float32)
    X = X / X.max()
    return X, _labels(d["Y"]), (1, 32, 32)


def load_digits_images(data: Path = DATA):
    """scikit-learn's digits, 1797 8x8 images scaled to [0, 1]."""
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y, (1, 8, 8)


LOADERS = {"USPS": load_usps, "MNIST-10k": load_mnist10k, "COIL-20": load_coil20, "digits": load_digits_images}
