"""The ``fetch_*`` functions: the benchmark data sets, ready to cluster.

Each fetcher gets its files through the cache (downloaded once, checked every time it is read) and returns
a multi-view set as a list of views and labels, or an image set as flattened images, labels and the image
shape, with a description (``DESCR``). MNIST comes as its original idx files, read here with NumPy.
"""

from __future__ import annotations

import gzip
from os import PathLike

import numpy as np
import scipy.io
from sklearn.utils import Bunch

from ._base import _MNIST_URL, _REGISTRY, _fetch_file
from ._mat import load_mat_views

_FETCH_PARAMETERS = """data_home : str or path-like, optional
        Cache folder; by default the environment variable ``SKDEEPCLUST_DATA_HOME``, else
        ``~/skdeepclust_data`` (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        Download the file when it is not in the cache folder; with ``False``, a missing file raises
        :class:`FileNotFoundError`."""

_FETCH_RAISES = """Raises
    ------
    DownloadError
        If the file is not in the cache folder and cannot be downloaded (offline, HTTP error, timeout).
    ChecksumMismatchError
        If the downloaded or cached file is not the expected one (its SHA-256 differs).
    FileNotFoundError
        If the file is not in the cache folder and ``download_if_missing=False``."""


def _fetch_views(name: str, data_home, download_if_missing: bool, *, label_key: str, view_keys=None,
                 view_names=None) -> Bunch:
    ds = load_mat_views(_fetch_file(name, data_home, download_if_missing), view_keys=view_keys, label_key=label_key)
    if view_names is not None:
        ds.view_names = list(view_names)
    ds.DESCR = _DESCR[name]
    return ds


_MULTIVIEW_RETURNS = """Bunch
        ``views`` (list of float64 arrays, one per view, with the same rows), ``y`` (int64 labels
        ``0 .. n_clusters-1``), ``view_sizes``, ``n_clusters``, ``view_names`` and ``DESCR``."""


def fetch_mnist_usps(*, data_home: str | PathLike | None = None, download_if_missing: bool = True) -> Bunch:
    """MNIST-USPS: 5000 handwritten digits seen as two 28x28 images, 10 classes (multi-view).

    The two-view set of the MFLVC and DistilMVC papers: view 1 an MNIST digit, view 2 a USPS digit of the same
    class resized to 28x28, both with values in ``[0, 1]``; 500 samples per digit. Downloaded once (3.8 MB)
    from the public GitHub repository ``myliu2048/DSE-FDMC`` (``data/MNIST_USPS.mat``).

    Parameters
    ----------
    {params}

    Returns
    -------
    {returns}

    {raises}

    Examples
    --------
    >>> from skdeepclust import DistilMVC
    >>> from skdeepclust.datasets import fetch_mnist_usps
    >>> data = fetch_mnist_usps()  # doctest: +SKIP
    >>> data.view_sizes, data.n_clusters  # doctest: +SKIP
    ((784, 784), 10)
    >>> labels = DistilMVC(n_clusters=data.n_clusters).fit_predict(data.views)  # doctest: +SKIP
    """
    return _fetch_views("MNIST_USPS.mat", data_home, download_if_missing, label_key="Y", view_keys=("X1", "X2"),
                        view_names=("mnist", "usps"))


def fetch_bdgp(*, data_home: str | PathLike | None = None, download_if_missing: bool = True) -> Bunch:
    """BDGP: 2500 images of Drosophila embryos, visual and textual features, 5 classes (multi-view).

    View 1: 1750 visual features of the gene-expression image; view 2: 79 binary textual features of its
    annotation; 500 samples per class. The file stores each view transposed (features x samples); the views
    returned have one row per sample. Downloaded once (1.5 MB) from the public GitHub repository
    ``scutbioinformatics/CELT`` (``BDGP.mat``).

    Parameters
    ----------
    {params}

    Returns
    -------
    {returns}

    {raises}

    Examples
    --------
    >>> from skdeepclust.datasets import fetch_bdgp
    >>> data = fetch_bdgp()  # doctest: +SKIP
    >>> data.view_sizes, data.n_clusters  # doctest: +SKIP
    ((1750, 79), 5)
    """
    return _fetch_views("BDGP.mat", data_home, download_if_missing, label_key="truth",
                        view_names=("visual", "textual"))


def fetch_hw(*, data_home: str | PathLike | None = None, download_if_missing: bool = True) -> Bunch:
    """HW (UCI "multiple features"): 2000 handwritten digits described six ways, 10 classes (multi-view).

    Views, in order: pixel averages (240), Fourier coefficients (76), profile correlations (216), Zernike
    moments (47), Karhunen-Loève coefficients (64) and morphological features (6); 200 samples per digit.
    Downloaded once (3.5 MB) from the public GitHub repository ``zskong/Multi-view-data``
    (``data/handwritten.mat``).

    The features are returned **raw**, and their scales differ wildly from view to view (one view reaches the
    thousands while others stay below 1): scale each view before using them together.
    :class:`~skdeepclust.DistilMVC` does it itself (each view min-max scaled, its default ``scaling``); for other
    estimators, use :class:`~skdeepclust.ViewScaler` on :func:`~skdeepclust.stack_views`'s output.

    Parameters
    ----------
    {params}

    Returns
    -------
    {returns}

    {raises}

    Examples
    --------
    >>> from skdeepclust import ViewScaler, stack_views
    >>> from skdeepclust.datasets import fetch_hw
    >>> data = fetch_hw()  # doctest: +SKIP
    >>> data.view_sizes  # doctest: +SKIP
    (240, 76, 216, 47, 64, 6)
    >>> X, sizes = stack_views(data.views)  # doctest: +SKIP
    >>> X_scaled = ViewScaler(view_sizes=sizes).fit_transform(X)  # doctest: +SKIP
    """
    return _fetch_views("HW.mat", data_home, download_if_missing, label_key="Y",
                        view_names=("pixel", "fourier", "profile", "zernike", "karhunen_loeve", "morphological"))


def fetch_synthetic3d(*, data_home: str | PathLike | None = None, download_if_missing: bool = True) -> Bunch:
    """Synthetic3d: 600 points seen in three 3-D views, 3 classes (multi-view).

    A small synthetic set of multi-view clustering research; 200 samples per class. Downloaded once (54 kB)
    from the public GitHub repository ``Galaxy922/GCFAggMVC`` (``synthetic3d.mat``); the file's other keys
    (random splits and seeds) are ignored.

    Parameters
    ----------
    {params}

    Returns
    -------
    {returns}

    {raises}

    Examples
    --------
    >>> from skdeepclust.datasets import fetch_synthetic3d
    >>> data = fetch_synthetic3d()  # doctest: +SKIP
    >>> data.view_sizes, data.n_clusters  # doctest: +SKIP
    ((3, 3, 3), 3)
    """
    return _fetch_views("Synthetic3d.mat", data_home, download_if_missing, label_key="Y")


def fetch_hdigit(*, data_home: str | PathLike | None = None, download_if_missing: bool = True) -> Bunch:
    """Hdigit: 10000 handwritten digits, an MNIST and a USPS image each, 10 classes (multi-view).

    View 1: a 28x28 MNIST image (784 pixels); view 2: a 16x16 USPS image (256 pixels); 1000 samples per
    class; pixel values 0 to 255 as stored (float64). Both views are returned as row-major flattened images:
    the file stores the USPS view column-major, and it is transposed here, so that
    ``views[1].reshape(-1, 16, 16)`` shows upright digits. Downloaded once (3.4 MB) from the public GitHub
    repository ``Machinelearning20/Incomplete-MVC`` (``data/Hdigit.mat``).

    Parameters
    ----------
    {params}

    Returns
    -------
    {returns}

    {raises}

    Notes
    -----
    The views are paired by class, and in this file class ``y`` pairs MNIST digit ``y`` (view 1) with USPS
    digit ``(y + 1) mod 10`` (view 2), as the class-mean images show. The pairing is consistent, so clustering
    is not affected, but ``y`` is the digit of view 1 only.

    Examples
    --------
    >>> from skdeepclust.datasets import fetch_hdigit
    >>> data = fetch_hdigit()  # doctest: +SKIP
    >>> data.view_sizes, data.n_clusters  # doctest: +SKIP
    ((784, 256), 10)
    """
    ds = _fetch_views("Hdigit.mat", data_home, download_if_missing, label_key="Y", view_keys=("X1", "X2"),
                      view_names=("mnist", "usps"))
    usps = ds.views[1]
    ds.views[1] = usps.reshape(len(usps), 16, 16).transpose(0, 2, 1).reshape(len(usps), 256)
    return ds


def _images(X: np.ndarray, y, image_shape: tuple[int, int, int], descr: str, return_X_y: bool):
    target = np.unique(np.asarray(y).ravel(), return_inverse=True)[1].astype(np.int64)
    if return_X_y:
        return X, target
    return Bunch(data=X, target=target, image_shape=image_shape, n_clusters=int(target.max()) + 1, DESCR=descr)


_IMAGES_RETURNS = """Bunch or tuple
        ``data`` (float32 array of shape ``(n_samples, C * H * W)``: the images as flattened rows with values
        in ``[0, 1]``), ``target`` (int64 labels ``0 .. n_clusters-1``), ``image_shape``
        ``(C, H, W)`` (the estimators' ``image_shape`` parameter), ``n_clusters`` and ``DESCR``; or
        ``(data, target)`` with ``return_X_y=True``."""

_RETURN_X_Y = """return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch."""


def fetch_usps(
    *, data_home: str | PathLike | None = None, download_if_missing: bool = True, return_X_y: bool = False
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """USPS: 9298 handwritten digits, 16x16 grey images, 10 classes (single-view).

    The full USPS set (training and test parts together), row-major flattened images, pixels divided by 255;
    ``target`` is the digit.
    Downloaded once (1.9 MB) from the public GitHub repository ``hyzhang98/AnchorGAE-torch``
    (``data/usps_all.mat``, whose last column holds the digit + 1).

    Parameters
    ----------
    {params}
    {return_X_y}

    Returns
    -------
    {returns}

    {raises}

    Examples
    --------
    >>> from skdeepclust import SeCu
    >>> from skdeepclust.datasets import fetch_usps
    >>> usps = fetch_usps()  # doctest: +SKIP
    >>> usps.data.shape, usps.image_shape  # doctest: +SKIP
    ((9298, 256), (1, 16, 16))
    >>> labels = SeCu(n_clusters=10, image_shape=usps.image_shape).fit_predict(usps.data)  # doctest: +SKIP
    """
    a = scipy.io.loadmat(_fetch_file("USPS_9298.mat", data_home, download_if_missing))["usps_all"]
    X = (a[:, :256] / 255.0).astype(np.float32)
    return _images(X, a[:, 256], (1, 16, 16), _DESCR["USPS_9298.mat"], return_X_y)


def fetch_coil20(
    *, data_home: str | PathLike | None = None, download_if_missing: bool = True, return_X_y: bool = False
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """COIL-20: 1440 grey 32x32 images of 20 objects, 72 views of each (single-view).

    The Columbia Object Image Library, each object turned through 360 degrees in steps of 5 degrees, here at
    32x32 pixels, pixels divided by the largest value in the file (255), in the file's pixel order.
    Downloaded once (0.9 MB) from the public GitHub repository ``hyzhang98/AdaGAE`` (``data/COIL20.mat``).

    Parameters
    ----------
    {params}
    {return_X_y}

    Returns
    -------
    {returns}

    {raises}

    Examples
    --------
    >>> from skdeepclust.datasets import fetch_coil20
    >>> coil = fetch_coil20()  # doctest: +SKIP
    >>> coil.data.shape, coil.image_shape, coil.n_clusters  # doctest: +SKIP
    ((1440, 1024), (1, 32, 32), 20)
    """
    d = scipy.io.loadmat(_fetch_file("COIL20_32x32.mat", data_home, download_if_missing))
    X = d["X"].astype(np.float32)
    X = X / X.max()
    return _images(X, d["Y"], (1, 32, 32), _DESCR["COIL20_32x32.mat"], return_X_y)


def _parse_idx(buf: bytes) -> np.ndarray:
    """The array in an idx file, the MNIST format.

    The format: 2 zero bytes, a type code (0x08: uint8), the number of dimensions, each dimension as a
    big-endian uint32, then the data in C order.
    """
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0:
        raise ValueError("not an idx file (bad magic number)")
    if buf[2] != 0x08:
        raise ValueError(f"idx data type 0x{buf[2]:02x} is not supported (only 0x08, unsigned bytes)")
    ndim = buf[3]
    shape = tuple(int(d) for d in np.frombuffer(buf, dtype=">u4", count=ndim, offset=4))
    data = np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"idx file holds {data.size} values, its header announces shape {shape}")
    return data.reshape(shape).copy()


def _to_idx(a: np.ndarray) -> bytes:
    """An unsigned-byte array as an idx file's bytes (the inverse of :func:`_parse_idx`)."""
    a = np.ascontiguousarray(a)
    if a.dtype != np.uint8:
        raise ValueError(f"only uint8 arrays are written as idx, not {a.dtype}")
    return bytes([0, 0, 0x08, a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes() + a.tobytes()


def _read_idx_gz(path: str | PathLike) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return _parse_idx(f.read())


def fetch_mnist_test(
    *, data_home: str | PathLike | None = None, download_if_missing: bool = True, return_X_y: bool = False
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """The MNIST test set: 10000 handwritten digits, 28x28 grey images, 10 classes (single-view).

    The official ``t10k`` images and labels, pixels divided by 255; ``target`` is the digit. Downloaded once
    (1.6 MB) as the two original idx files, ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``,
    from the mirror at ``https://ossci-datasets.s3.amazonaws.com/mnist/``, and read with NumPy.

    Parameters
    ----------
    {params}
    {return_X_y}

    Returns
    -------
    {returns}

    {raises}

    Notes
    -----
    The files are checked by the SHA-256 of their decompressed content, so a copy compressed again by a
    mirror is accepted as long as it carries the official data.

    Examples
    --------
    >>> from skdeepclust.datasets import fetch_mnist_test
    >>> X, y = fetch_mnist_test(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, X.dtype  # doctest: +SKIP
    ((10000, 784), dtype('float32'))
    """
    images = _read_idx_gz(_fetch_file("t10k-images-idx3-ubyte.gz", data_home, download_if_missing))
    labels = _read_idx_gz(_fetch_file("t10k-labels-idx1-ubyte.gz", data_home, download_if_missing))
    X = (images.reshape(len(images), -1) / 255.0).astype(np.float32)
    return _images(X, labels, (1, 28, 28), _DESCR["t10k"], return_X_y)


for _f, _returns in (
    (fetch_mnist_usps, _MULTIVIEW_RETURNS),
    (fetch_bdgp, _MULTIVIEW_RETURNS),
    (fetch_hw, _MULTIVIEW_RETURNS),
    (fetch_synthetic3d, _MULTIVIEW_RETURNS),
    (fetch_hdigit, _MULTIVIEW_RETURNS),
    (fetch_usps, _IMAGES_RETURNS),
    (fetch_coil20, _IMAGES_RETURNS),
    (fetch_mnist_test, _IMAGES_RETURNS),
):
    if _f.__doc__:  # None under python -OO
        _f.__doc__ = _f.__doc__.format(
            params=_FETCH_PARAMETERS, returns=_returns, raises=_FETCH_RAISES, return_X_y=_RETURN_X_Y
        )
del _f, _returns


def _describe(title: str, body: str, source: str) -> str:
    return f"{title}\n{'=' * len(title)}\n\n{body}\n\nSource: {source}\n"


_DESCR: dict[str, str] = {
    "MNIST_USPS.mat": _describe(
        "MNIST-USPS",
        "5000 samples, 10 classes (500 each), 2 views: an MNIST digit (784 pixels, 28x28) and a USPS digit of "
        "the same class resized to 28x28 (784 pixels), values in [0, 1]. The two-view set of the MFLVC and "
        "DistilMVC papers.",
        _REGISTRY["MNIST_USPS.mat"].url,
    ),
    "BDGP.mat": _describe(
        "BDGP",
        "2500 images of Drosophila embryos from the Berkeley Drosophila Genome Project, 5 classes (500 each), "
        "2 views: 1750 visual features and 79 binary textual features. Stored transposed in the file; one row "
        "per sample here.",
        _REGISTRY["BDGP.mat"].url,
    ),
    "HW.mat": _describe(
        "HW (UCI multiple features, handwritten digits)",
        "2000 digits, 10 classes (200 each), 6 views: pixel averages (240), Fourier coefficients (76), profile "
        "correlations (216), Zernike moments (47), Karhunen-Loeve coefficients (64), morphological features (6). "
        "Raw features with very different scales per view: scale each view before using them together.",
        _REGISTRY["HW.mat"].url,
    ),
    "Synthetic3d.mat": _describe(
        "Synthetic3d",
        "600 synthetic points, 3 classes (200 each), 3 views of 3 features each.",
        _REGISTRY["Synthetic3d.mat"].url,
    ),
    "Hdigit.mat": _describe(
        "Hdigit",
        "10000 samples, 10 classes (1000 each), 2 views: an MNIST image (784 pixels, 28x28) and a USPS image "
        "(256 pixels, 16x16), values 0..255, both row-major here (the file stores the USPS view column-major). "
        "Class y pairs MNIST digit y (view 1) with USPS digit (y + 1) mod 10 (view 2).",
        _REGISTRY["Hdigit.mat"].url,
    ),
    "USPS_9298.mat": _describe(
        "USPS",
        "9298 handwritten digits (training and test parts together), 16x16 grey images, 10 classes; "
        "target = digit; pixels / 255.",
        _REGISTRY["USPS_9298.mat"].url,
    ),
    "COIL20_32x32.mat": _describe(
        "COIL-20",
        "1440 grey images of 20 objects (72 each, turned in steps of 5 degrees), 32x32 pixels; pixels / 255.",
        _REGISTRY["COIL20_32x32.mat"].url,
    ),
    "t10k": _describe(
        "MNIST test set",
        "The official MNIST test set: 10000 handwritten digits, 28x28 grey images, 10 classes; target = digit; "
        "pixels / 255.",
        _MNIST_URL + "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz",
    ),
}
