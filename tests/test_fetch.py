"""The fetchers, offline: a local HTTP server stands in for the public sources (through SKDEEPCLUST_DATA_MIRROR)."""

import dataclasses
import gzip
import hashlib
import socket
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.io

from skdeepclust import datasets
from skdeepclust.datasets import (
    ChecksumMismatchError,
    DownloadError,
    fetch_bdgp,
    fetch_coil20,
    fetch_hdigit,
    fetch_hw,
    fetch_mnist_test,
    fetch_mnist_usps,
    fetch_synthetic3d,
    fetch_usps,
    get_data_home,
)

MNIST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, requests, **kwargs):
        self._requests = requests
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self._requests.append(self.path)
        super().do_GET()

    def log_message(self, format, *args):  # quiet
        pass


@contextmanager
def _serve(root):
    """Serve the folder ``root`` on 127.0.0.1 (a free port) in a thread; record the paths requested."""
    requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root), requests=requests))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}", requests=requests, root=root)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def _no_user_settings(monkeypatch):
    """The user's own cache folder and mirror must not leak into the tests."""
    monkeypatch.delenv(datasets.DATA_HOME_ENV, raising=False)
    monkeypatch.delenv(datasets.DATA_MIRROR_ENV, raising=False)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local mirror (an empty folder served over HTTP), set as SKDEEPCLUST_DATA_MIRROR."""
    root = tmp_path / "mirror"
    root.mkdir()
    with _serve(root) as server:
        monkeypatch.setenv(datasets.DATA_MIRROR_ENV, server.url + "/")
        yield server


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _register(monkeypatch, name, sha256):
    """Point the registry entry ``name`` at another digest (for the tiny stand-in files)."""
    monkeypatch.setitem(datasets._REGISTRY, name, dataclasses.replace(datasets._REGISTRY[name], sha256=sha256))


@pytest.fixture
def tiny_synthetic3d(mirror, monkeypatch):
    """A 12-sample file in Synthetic3d's layout on the mirror, registered under its name with its digest."""
    rng = np.random.default_rng(0)
    cell = np.empty((3, 1), dtype=object)
    for i in range(3):
        cell[i, 0] = rng.normal(size=(12, 3))
    path = mirror.root / "Synthetic3d.mat"
    scipy.io.savemat(path, {"X": cell, "Y": (np.arange(12) % 3 + 1)[:, None], "extra": 1})
    _register(monkeypatch, "Synthetic3d.mat", _sha256(path))
    return cell


def _files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- without the benchmark data ----------------------------------------------------------------------------------


def test_get_data_home_order(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == str(tmp_path / "skdeepclust_data")
    monkeypatch.setenv(datasets.DATA_HOME_ENV, "")  # empty: as if unset
    assert get_data_home() == str(tmp_path / "skdeepclust_data")
    monkeypatch.setenv(datasets.DATA_HOME_ENV, str(tmp_path / "env"))
    assert get_data_home() == str(tmp_path / "env")
    assert get_data_home("~/mine") == str(tmp_path / "mine")
    assert not (tmp_path / "env").exists() and not (tmp_path / "skdeepclust_data").exists()  # nothing created


def test_download_once_then_cache(tiny_synthetic3d, mirror, home):
    ds = fetch_synthetic3d(data_home=home)
    assert mirror.requests == ["/Synthetic3d.mat"]
    assert _files(home) == ["Synthetic3d.mat"]  # no temporary file left
    assert ds.view_sizes == (3, 3, 3) and ds.n_clusters == 3 and ds.y.tolist() == (np.arange(12) % 3).tolist()
    np.testing.assert_array_equal(ds.views[1], tiny_synthetic3d[1, 0])
    assert "Synthetic3d" in ds.DESCR
    again = fetch_synthetic3d(data_home=home)
    assert mirror.requests == ["/Synthetic3d.mat"]  # read from the cache, verified, not downloaded
    np.testing.assert_array_equal(again.views[2], ds.views[2])


def test_data_home_from_environment(tiny_synthetic3d, mirror, home, monkeypatch):
    monkeypatch.setenv(datasets.DATA_HOME_ENV, str(home))
    fetch_synthetic3d()
    assert _files(home) == ["Synthetic3d.mat"]


def test_file_url_mirror(tiny_synthetic3d, mirror, home, monkeypatch):
    monkeypatch.setenv(datasets.DATA_MIRROR_ENV, mirror.root.as_uri())  # a folder works as a mirror too
    assert fetch_synthetic3d(data_home=home).y.shape == (12,)
    assert mirror.requests == []


def test_corrupted_cache_file(tiny_synthetic3d, mirror, home):
    fetch_synthetic3d(data_home=home)
    cached = home / "Synthetic3d.mat"
    cached.write_bytes(cached.read_bytes()[:-10])
    with pytest.raises(ChecksumMismatchError, match="delete it") as info:
        fetch_synthetic3d(data_home=home)
    assert str(cached) in str(info.value) and "SHA-256" in str(info.value)
    assert mirror.requests == ["/Synthetic3d.mat"]  # not downloaded again behind the user's back


def test_checksum_mismatch_from_the_server(tiny_synthetic3d, mirror, home, monkeypatch):
    _register(monkeypatch, "Synthetic3d.mat", "0" * 64)
    with pytest.raises(ChecksumMismatchError, match="not kept") as info:
        fetch_synthetic3d(data_home=home)
    assert f"{mirror.url}/Synthetic3d.mat" in str(info.value)
    assert _files(home) == []  # neither the file nor a temporary copy


def test_server_down(home, monkeypatch, tmp_path):
    with _serve(tmp_path) as server:
        url = server.url
    monkeypatch.setenv(datasets.DATA_MIRROR_ENV, url)
    with pytest.raises(DownloadError) as info:
        fetch_synthetic3d(data_home=home)
    message = str(info.value)
    assert "\n" not in message and f"{url}/Synthetic3d.mat" in message and "by hand" in message
    assert _files(home) == []


def test_timeout(home, monkeypatch):
    """A server that accepts the connection and never answers: the download gives up after the timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monkeypatch.setattr(datasets._base, "_TIMEOUT", 0.2)  # read where the download is made
        monkeypatch.setenv(datasets.DATA_MIRROR_ENV, f"http://127.0.0.1:{listener.getsockname()[1]}")
        with pytest.raises(DownloadError, match="timed out"):
            fetch_synthetic3d(data_home=home)
    assert _files(home) == []


def test_missing_on_the_server(mirror, home):
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_bdgp(data_home=home)
    assert _files(home) == []


def test_download_if_missing_false(mirror, home):
    with pytest.raises(FileNotFoundError, match="download_if_missing=False") as info:
        fetch_usps(data_home=home, download_if_missing=False)
    assert str(home / "USPS_9298.mat") in str(info.value)
    assert mirror.requests == [] and not home.exists()


def test_idx_round_trip_and_errors():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(datasets._parse_idx(datasets._to_idx(a)), a)
    with pytest.raises(ValueError, match="magic"):
        datasets._parse_idx(b"\x01\x00\x08\x01")
    with pytest.raises(ValueError, match="announces"):
        datasets._parse_idx(datasets._to_idx(a)[:-1])
    with pytest.raises(ValueError, match="uint8"):
        datasets._to_idx(a.astype(np.int32))


def _write_gz(path, content, *, mtime, level=9):
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime,
                                                compresslevel=level) as f:
        f.write(content)


def test_mnist_files_are_checked_by_their_content(mirror, home, monkeypatch):
    """The .gz bytes depend on the compressor (and gzip headers hold a time): the digest is of the content."""
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8), np.arange(20, dtype=np.uint8) % 10
    for name, a in zip(MNIST_FILES, (images, labels), strict=True):
        content = datasets._to_idx(a)
        _register(monkeypatch, name, hashlib.sha256(content).hexdigest())
        _write_gz(mirror.root / name, content, mtime=0)
        other = mirror.root.parent / name
        _write_gz(other, content, mtime=1_700_000_000, level=1)
        assert _sha256(other) != _sha256(mirror.root / name)  # other bytes, same data
    X, y = fetch_mnist_test(data_home=home, return_X_y=True)
    assert X.shape == (20, 784) and X.dtype == np.float32 and y.tolist() == labels.tolist()
    np.testing.assert_array_equal(X, (images.reshape(20, -1) / 255.0).astype(np.float32))
    for name in MNIST_FILES:  # the other compression, dropped into the cache by hand, is accepted too
        (home / name).write_bytes((mirror.root.parent / name).read_bytes())
    assert fetch_mnist_test(data_home=home).image_shape == (1, 28, 28)
    assert len(mirror.requests) == 2
    (home / MNIST_FILES[0]).write_bytes((home / MNIST_FILES[0]).read_bytes()[:500])  # truncated
    with pytest.raises(ChecksumMismatchError, match="not a valid gzip file"):
        fetch_mnist_test(data_home=home)


# -- on the benchmark data ---------------------------------------------------------------------------------------


@pytest.fixture
def shared_mirror(shared_data, mirror):
    """The mirror holding the benchmark files (as links) and the MNIST idx files made from MNIST_test10k.npz."""
    for path in shared_data.glob("*.mat"):
        (mirror.root / path.name).symlink_to(path)
    return mirror


def _write_mnist_idx(shared_data, folder):
    d = np.load(shared_data / "MNIST_test10k.npz")
    for name, a in zip(MNIST_FILES, (d["X"], d["y"]), strict=True):
        _write_gz(folder / name, datasets._to_idx(a), mtime=0, level=1)
    return d


# the README's table of ../shared/data
MULTI_VIEW = [
    (fetch_mnist_usps, 5000, (784, 784), 10),
    (fetch_bdgp, 2500, (1750, 79), 5),
    (fetch_hw, 2000, (240, 76, 216, 47, 64, 6), 10),
    (fetch_synthetic3d, 600, (3, 3, 3), 3),
    (fetch_hdigit, 10000, (784, 256), 10),
]
SINGLE_VIEW = [
    (fetch_usps, 9298, (1, 16, 16), 10),
    (fetch_coil20, 1440, (1, 32, 32), 20),
]


@pytest.mark.parametrize("fetch,n,sizes,k", MULTI_VIEW, ids=[case[0].__name__ for case in MULTI_VIEW])
def test_multiview_fetchers(shared_mirror, home, fetch, n, sizes, k):
    ds = fetch(data_home=home)
    assert len(shared_mirror.requests) == 1
    assert ds.view_sizes == sizes and [v.shape for v in ds.views] == [(n, d) for d in sizes]
    assert all(v.dtype == np.float64 for v in ds.views) and len(ds.view_names) == len(sizes)
    assert ds.n_clusters == k and ds.y.shape == (n,) and ds.y.dtype == np.int64
    assert np.bincount(ds.y).tolist() == [n // k] * k and ds.DESCR


@pytest.mark.parametrize("fetch,n,shape,k", SINGLE_VIEW, ids=[case[0].__name__ for case in SINGLE_VIEW])
def test_image_fetchers(shared_mirror, home, fetch, n, shape, k):
    d = fetch(data_home=home)
    assert d.data.shape == (n, int(np.prod(shape))) and d.data.dtype == np.float32
    assert d.data.min() == 0.0 and d.data.max() == 1.0
    assert d.image_shape == shape and d.n_clusters == k and d.target.min() == 0 and d.target.max() == k - 1
    X, y = fetch(data_home=home, return_X_y=True)
    np.testing.assert_array_equal(X, d.data)
    assert len(shared_mirror.requests) == 1


def test_usps_labels_are_the_digits(shared_mirror, home):
    # the file's last column is digit + 1; digit 0 is USPS's largest class
    assert np.bincount(fetch_usps(data_home=home).target).argmax() == 0


def test_hdigit_usps_view_row_major(shared_data, home, shared_mirror):
    raw = scipy.io.loadmat(shared_data / "Hdigit.mat")["X2"]
    ds = fetch_hdigit(data_home=home)
    np.testing.assert_array_equal(ds.views[1].reshape(-1, 16, 16), raw.reshape(-1, 16, 16).transpose(0, 2, 1))


def test_mnist_test_from_regenerated_idx_files(shared_data, mirror, home):
    d = _write_mnist_idx(shared_data, mirror.root)
    mnist = fetch_mnist_test(data_home=home)  # the digests are the official files': the npz is that data
    assert sorted(mirror.requests) == ["/" + name for name in MNIST_FILES]
    assert mnist.data.shape == (10000, 784) and mnist.image_shape == (1, 28, 28) and mnist.n_clusters == 10
    np.testing.assert_array_equal(mnist.target, d["y"])
    np.testing.assert_array_equal(mnist.data, (d["X"].reshape(10000, -1) / 255.0).astype(np.float32))


def test_benchmark_folder_as_data_home(shared_data):
    """The benchmarks read ../shared/data in place: same file names, checked, nothing downloaded or written."""
    assert fetch_synthetic3d(data_home=shared_data, download_if_missing=False).y.shape == (600,)
    for name, entry in datasets._REGISTRY.items():
        if not entry.gzip_content:
            assert (shared_data / name).is_file(), name
