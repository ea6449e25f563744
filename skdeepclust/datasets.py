"""Data sets: fetchers for the benchmark data, research ``.mat`` multi-view files, digits as views, synthetic views.

The ``fetch_*`` functions download a benchmark data set once from its public source into a cache folder
(:func:`get_data_home`), check its SHA-256 every time it is read, and return it ready to cluster.
:func:`load_mat_views` reads the MATLAB layouts that multi-view clustering research passes around (views as
cell arrays or numbered keys, views stored transposed, labels under ``Y``/``gt``/``truth``/...). The other
helpers work offline.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import tempfile
import urllib.request
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse
from sklearn.utils import Bunch, check_random_state

from ._validation import one_line

__all__ = [
    "ChecksumMismatchError",
    "DownloadError",
    "fetch_bdgp",
    "fetch_coil20",
    "fetch_hdigit",
    "fetch_hw",
    "fetch_mnist_test",
    "fetch_mnist_usps",
    "fetch_synthetic3d",
    "fetch_usps",
    "get_data_home",
    "load_digits_views",
    "load_mat_views",
    "make_multiview_blobs",
]

_LABEL_KEYS = ("Y", "y", "gt", "GT", "truth", "gnd", "label", "labels", "Label", "Labels")
_CELL_KEYS = ("X", "data", "Data", "fea", "views")


def _as_dense_2d(a, name: str) -> np.ndarray:
    if scipy.sparse.issparse(a):
        a = a.toarray()
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"{name} is not a 2-D matrix (shape {a.shape}).")
    return a.astype(np.float64)


def _orient(view: np.ndarray, n_samples: int, name: str) -> np.ndarray:
    if view.shape[0] == n_samples:
        return view
    if view.shape[1] == n_samples:
        return view.T  # stored features x samples
    raise ValueError(f"{name} has shape {view.shape}; neither dimension matches the {n_samples} labels.")


def load_mat_views(path: str | PathLike, *, view_keys=None, label_key: str | None = None) -> Bunch:
    """Read a multi-view clustering dataset stored as a MATLAB ``.mat`` file.

    Handles the common layouts: views in a cell array (``X``, ``data``, ... of shape ``(1, V)`` or
    ``(V, 1)``) or under numbered keys (``X1``, ``X2``, ...); views stored transposed (features x
    samples, detected from the label count); sparse views; labels under ``Y``, ``gt``, ``truth``,
    ``gnd``, ``label(s)`` as a row or column vector.

    Parameters
    ----------
    path : str or path-like
        The ``.mat`` file (MATLAB v5/v7 format, as read by :func:`scipy.io.loadmat`).
    view_keys : sequence of str, optional
        Keys of the view matrices, in order; by default found as described above.
    label_key : str, optional
        Key of the label vector; by default the first of the usual names present.

    Returns
    -------
    Bunch
        ``views`` (list of float64 arrays of shape ``(n_samples, n_features_v)``), ``y`` (labels
        renumbered to ``0 .. K-1`` in sorted order), ``view_sizes`` (tuple), ``n_clusters`` and
        ``view_names``.

    Raises
    ------
    ValueError
        If no labels or no views are found, or a view's shape does not match the labels.
    """
    mat = scipy.io.loadmat(path)
    keys = [k for k in mat if not k.startswith("__")]
    label_key = label_key or next((k for k in _LABEL_KEYS if k in mat), None)
    if label_key is None:
        raise ValueError(f"No label vector found in {path}; keys are {keys}. Pass label_key=...")
    y_raw = np.asarray(mat[label_key]).ravel()
    n = y_raw.shape[0]
    if view_keys is not None:
        names = list(view_keys)
        raw = [mat[k] for k in names]
    else:
        cell_key = next((k for k in _CELL_KEYS if k in mat and np.asarray(mat[k]).dtype == object), None)
        if cell_key is not None:
            cells = np.asarray(mat[cell_key]).ravel()
            raw = list(cells)
            names = [f"{cell_key}[{i}]" for i in range(len(raw))]
        else:
            numbered = sorted(
                (k for k in keys if re.fullmatch(r"[xX]_?\d+", k)), key=lambda k: int(re.sub(r"\D", "", k))
            )
            names, raw = numbered, [mat[k] for k in numbered]
    if not raw:
        raise ValueError(f"No views found in {path}; keys are {keys}. Pass view_keys=[...]")
    views = [_orient(_as_dense_2d(v, name), n, name) for v, name in zip(raw, names, strict=True)]
    classes, y = np.unique(y_raw, return_inverse=True)
    return Bunch(
        views=views,
        y=y.astype(np.int64),
        view_sizes=tuple(v.shape[1] for v in views),
        n_clusters=int(classes.size),
        view_names=names,
    )


def load_digits_views() -> Bunch:
    """scikit-learn's digits as a two-view dataset (offline, ships with scikit-learn).

    View 1 is the 8x8 pixel intensities scaled to ``[0, 1]``; view 2 is a different description of
    the same image: its horizontal and vertical intensity gradients (2 x 7 x 8 = 112 features, scaled
    to ``[-1, 1]``).

    Returns
    -------
    Bunch
        ``views`` (list of two float64 arrays), ``y`` (digits 0-9), ``view_sizes``, ``n_clusters`` (10).
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    img = d.images / 16.0
    grad = np.concatenate(
        [np.diff(img, axis=2).reshape(len(img), -1), np.diff(img, axis=1).reshape(len(img), -1)], axis=1
    )
    views = [img.reshape(len(img), -1), grad]
    return Bunch(views=views, y=d.target.astype(np.int64), view_sizes=(64, grad.shape[1]), n_clusters=10)


def make_multiview_blobs(
    n_samples: int = 300,
    n_clusters: int = 3,
    view_sizes=(10, 5),
    *,
    cluster_std: float = 1.0,
    separation: float = 4.0,
    noise_views: int = 0,
    random_state=None,
) -> Bunch:
    """Synthetic multi-view data: each view a random linear image of shared Gaussian clusters.

    A latent cluster centre is drawn per class; every view maps the latent point (centre + noise) with
    its own random linear map and adds its own noise, so every view carries the clusters, seen
    differently.

    Parameters
    ----------
    n_samples : int, default=300
        Number of samples (split as evenly as possible between clusters).
    n_clusters : int, default=3
        Number of clusters.
    view_sizes : sequence of int, default=(10, 5)
        Width of each informative view.
    cluster_std : float, default=1.0
        Within-cluster standard deviation in the latent space.
    separation : float, default=4.0
        Scale of the latent centres.
    noise_views : int, default=0
        Extra views of pure noise (width 5) appended after the informative ones.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    Bunch
        ``views``, ``y``, ``view_sizes``, ``n_clusters``.
    """
    rs = check_random_state(random_state)
    latent_dim = 4
    y = np.arange(n_samples) % n_clusters
    rs.shuffle(y)
    centers = rs.normal(scale=separation, size=(n_clusters, latent_dim))
    latent = centers[y] + rs.normal(scale=cluster_std, size=(n_samples, latent_dim))
    views = []
    for d in view_sizes:
        w = rs.normal(size=(latent_dim, d)) / np.sqrt(latent_dim)
        views.append(latent @ w + 0.1 * rs.normal(size=(n_samples, d)))
    for _ in range(noise_views):
        views.append(rs.normal(size=(n_samples, 5)))
    return Bunch(views=views, y=y.astype(np.int64), view_sizes=tuple(v.shape[1] for v in views), n_clusters=n_clusters)


# -- fetchers: the benchmark data sets, downloaded once and checked every time ------------------------------------

#: environment variable naming the cache folder (see :func:`get_data_home`)
DATA_HOME_ENV = "SKDEEPCLUST_DATA_HOME"
#: environment variable naming a base URL that replaces every public source: ``<base>/<file name>``
DATA_MIRROR_ENV = "SKDEEPCLUST_DATA_MIRROR"
_DEFAULT_DATA_HOME = "~/skdeepclust_data"
#: seconds a connection attempt or a read may block before a download is given up
_TIMEOUT = 60.0
_CHUNK = 1 << 20


class DownloadError(OSError):
    """A data file could not be downloaded (no connection, an HTTP error, a timeout)."""


class ChecksumMismatchError(OSError):
    """A data file, downloaded or found in the cache, is not the expected file (its SHA-256 differs)."""


@dataclass(frozen=True)
class _RemoteFile:
    """One file of the registry.

    ``name`` in the cache folder and on a mirror, its public ``url``, and the SHA-256 of the file or, with
    ``gzip_content``, of its decompressed content.
    """

    name: str
    url: str
    sha256: str
    gzip_content: bool = False


def _github(repo: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/HEAD/{path}"


_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

#: The files behind the fetchers. The ``.mat`` digests are those of the files as committed in the public
#: repositories named in the URLs. The MNIST entries check the SHA-256 of the *decompressed* idx content instead
#: of the ``.gz`` bytes: a gzip stream depends on the compressor, its level and its header (which stores a file
#: name and a modification time), so a faithful copy compressed again (a mirror, or one made from another copy of
#: MNIST) has other bytes, while the data it carries, which is what matters, is the same. gzip's own CRC-32 still
#: guards the stream. The two content digests are of the official t10k files (their MD5s are the widely
#: published 2646ac647ad5339dbf082846283269ea and 27ae3e4e09519cfbb04c329615203637).
_REGISTRY: dict[str, _RemoteFile] = {
    f.name: f
    for f in (
        _RemoteFile(
            "MNIST_USPS.mat",
            _github("myliu2048/DSE-FDMC", "data/MNIST_USPS.mat"),
            "0130ae9ce7d395543df841d25e84d99354dcb77993006d390d3c42d4c2e3f056",
        ),
        _RemoteFile(
            "BDGP.mat",
            _github("scutbioinformatics/CELT", "BDGP.mat"),
            "dd53d29ad7cfd3adf4caf5203f51387b97981d60cd427798acfe1f2481363e11",
        ),
        _RemoteFile(
            "HW.mat",
            _github("zskong/Multi-view-data", "data/handwritten.mat"),
            "4f3a2e66292dce4cee3f1627c92c789cedaf05b7d6b831edb12ced9065a067d6",
        ),
        _RemoteFile(
            "Synthetic3d.mat",
            _github("Galaxy922/GCFAggMVC", "synthetic3d.mat"),
            "f5ebb44be9d98550877622b2f6eb4b70ff3dc9a1de3c3797bf3fad9ebb40ba9b",
        ),
        _RemoteFile(
            "Hdigit.mat",
            _github("Machinelearning20/Incomplete-MVC", "data/Hdigit.mat"),
            "794cc56da5452ace0908e11dfdfb499ab418f8736f711245c474c8df44a01375",
        ),
        _RemoteFile(
            "USPS_9298.mat",
            _github("hyzhang98/AnchorGAE-torch", "data/usps_all.mat"),
            "6808d327acc6a5d9335acf4647ad64b2285490dcab053a32509caacb7fbf0303",
        ),
        _RemoteFile(
            "COIL20_32x32.mat",
            _github("hyzhang98/AdaGAE", "data/COIL20.mat"),
            "b22b9beb0668f707990eda2b5f922384fd3e6d63d6df7ede3a3b5e2319c4e397",
        ),
        _RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            _MNIST_URL + "t10k-images-idx3-ubyte.gz",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            gzip_content=True,
        ),
        _RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            _MNIST_URL + "t10k-labels-idx1-ubyte.gz",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            gzip_content=True,
        ),
    )
}


def get_data_home(data_home: str | PathLike | None = None) -> str:
    """The folder where the ``fetch_*`` functions keep the files they download.

    The first of: the ``data_home`` argument, the environment variable ``SKDEEPCLUST_DATA_HOME``,
    ``~/skdeepclust_data``. A leading ``~`` is expanded. The folder is created when a file is first downloaded
    into it, not by this function.

    Parameters
    ----------
    data_home : str or path-like, optional
        The folder; by default as above.

    Returns
    -------
    str
        The path of the folder.

    Examples
    --------
    >>> from skdeepclust.datasets import get_data_home
    >>> get_data_home("/data/benchmarks")
    '/data/benchmarks'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or _DEFAULT_DATA_HOME
    return str(Path(data_home).expanduser())


def _source_url(entry: _RemoteFile) -> str:
    mirror = os.environ.get(DATA_MIRROR_ENV)
    if mirror:
        return f"{mirror.rstrip('/')}/{entry.name}"
    return entry.url


def _content_problem(path: str | PathLike, entry: _RemoteFile) -> str | None:
    """``None`` when the file is the expected one, else what is wrong with it, in a few words."""
    digest = hashlib.sha256()
    try:
        with (gzip.open(path, "rb") if entry.gzip_content else open(path, "rb")) as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                digest.update(chunk)
    except (EOFError, gzip.BadGzipFile, ValueError) as exc:  # truncated or not gzip (zlib.error is a ValueError)
        return f"not a valid gzip file: {exc}"
    got = digest.hexdigest()
    if got == entry.sha256:
        return None
    what = "SHA-256 of its decompressed content" if entry.gzip_content else "SHA-256"
    return f"{what} {got}, expected {entry.sha256}"


def _download(url: str, path: Path, entry: _RemoteFile) -> None:
    """Download ``url`` to ``path`` through a temporary file in the same folder, renamed once verified."""
    home = path.parent
    try:
        home.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=home, prefix=f".{entry.name}.", suffix=".part")
    except OSError as exc:
        raise DownloadError(
            f"Cannot write {entry.name} into {home} ({one_line(exc)}); pass another data_home."
        ) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                request = urllib.request.Request(url, headers={"User-Agent": "skdeepclust"})
                with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
                    for chunk in iter(lambda: response.read(_CHUNK), b""):
                        out.write(chunk)
            except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts are OSErrors; ValueError: bad URL
                raise DownloadError(
                    f"Could not download {entry.name} from {url} ({one_line(exc)}); download it by hand from "
                    f"{entry.url} into {home} (as {entry.name}), or set {DATA_MIRROR_ENV} to a mirror that has it."
                ) from exc
        problem = _content_problem(tmp, entry)
        if problem is not None:
            raise ChecksumMismatchError(
                f"{entry.name} downloaded from {url} is not the expected file ({problem}) and was not kept; "
                "try again, and if it persists, the file at the source has changed and cannot be verified."
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fetch_file(name: str, data_home: str | PathLike | None, download_if_missing: bool) -> Path:
    """Path of the registry file ``name`` in the cache folder, downloaded first if needed, verified always."""
    entry = _REGISTRY[name]
    path = Path(get_data_home(data_home)) / entry.name
    if path.exists():
        problem = _content_problem(path, entry)
        if problem is not None:
            raise ChecksumMismatchError(
                f"{path} is not the expected file ({problem}); delete it, and call again to download it from "
                f"{_source_url(entry)}."
            )
        return path
    if not download_if_missing:
        raise FileNotFoundError(
            f"{path} not found and download_if_missing=False; call again with download_if_missing=True, "
            f"or put the file from {entry.url} there."
        )
    _download(_source_url(entry), path, entry)
    return path


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
