"""Where the fetchers keep their files, and how they get them.

The cache folder (:func:`get_data_home`), the registry of the remote files with their public URLs and SHA-256
digests, the download of a file into the cache through a temporary file (from its source or from a mirror),
the checksum check every time a file is read, and the errors that these raise.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from .. import _config
from .._config import DATA_HOME_ENV, DATA_MIRROR_ENV  # noqa: F401  (re-exported by skdeepclust.datasets)
from .._validation import one_line

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
        data_home = _config.data_home() or _DEFAULT_DATA_HOME
    return str(Path(data_home).expanduser())


def _source_url(entry: _RemoteFile) -> str:
    mirror = _config.data_mirror()
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
