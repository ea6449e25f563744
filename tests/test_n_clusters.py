"""Estimating the number of clusters: estimate_n_clusters and n_clusters="auto" on the five estimators."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeepclust import estimate_n_clusters

from ._defaults import NAMES, default_estimator, tiny_data


def _blobs(k, n_features=10, per_cluster=40, std=3.0, seed=0):
    """Blobs whose 10-NN graph is connected (std=3) or falls apart into the blobs (std=1)."""
    return make_blobs(n_samples=per_cluster * k, centers=k, n_features=n_features, cluster_std=std,
                      center_box=(-10, 10), random_state=seed)


@pytest.mark.parametrize("method", ["eigengap", "modularity"])
@pytest.mark.parametrize("k", [3, 5, 8])
def test_finds_the_number_of_blobs_from_the_spectrum(k, method):
    X, _ = _blobs(k)
    found, curves = estimate_n_clusters(X, method=method, random_state=0, return_curves=True)
    assert curves["components"] == 0  # decided by the criterion, not by a disconnected graph
    assert found == k


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_finds_the_number_of_well_separated_blobs(k):
    X, _ = _blobs(k, std=1.0)
    found, curves = estimate_n_clusters(X, random_state=0, return_curves=True)
    assert found == k and curves["components"] == k


@pytest.mark.parametrize("k", [3, 6])
def test_finds_blobs_whose_graph_falls_apart(k):
    # two dimensions, clusters far apart on a circle: the k-NN graph has k components of equal size
    angles = 2 * np.pi * np.arange(k) / k
    centers = 20 * np.c_[np.cos(angles), np.sin(angles)]
    X, _ = make_blobs(n_samples=50 * k, centers=centers, cluster_std=0.5, random_state=0)
    assert estimate_n_clusters(X, random_state=0) == k
    assert estimate_n_clusters(X, method="modularity", random_state=0) == k


def test_curves():
    X, _ = _blobs(4)
    k, curves = estimate_n_clusters(X, random_state=0, return_curves=True)
    assert k == 4 and curves["candidates"][np.argmax(curves["eigengap"])] == 4
    assert np.all(np.diff(curves["eigenvalues"]) <= 1e-9)  # descending
    assert curves["eigenvalues"].size == curves["candidates"].max() + 1
    k, curves = estimate_n_clusters(X, method="modularity", random_state=0, return_curves=True)
    assert k == 4 and curves["candidates"][np.argmax(curves["modularity"])] == 4


def test_range_is_respected_and_reproducible():
    X, _ = _blobs(5)
    assert estimate_n_clusters(X, n_clusters_range=(2, 3), random_state=0) in (2, 3)
    assert estimate_n_clusters(X, n_clusters_range=(7, 9), random_state=0) in (7, 8, 9)
    assert estimate_n_clusters(X, n_clusters_range=(5, 5)) == 5
    # the subsample past max_samples is drawn from random_state
    a = estimate_n_clusters(X, max_samples=150, random_state=1)
    assert a == estimate_n_clusters(X, max_samples=150, random_state=1)


@pytest.mark.parametrize(
    ("bad", "match"),
    [((1, 5), "lower bound must be at least 2"), ((0, 5), "at least 2"), ((2, 60), "below n_samples=60"),
     ((2, 100), "upper bound"), ((6, 4), "above the upper bound")],
)
def test_bad_range_is_a_clear_error(bad, match):
    X = _blobs(3, per_cluster=20)[0]
    with pytest.raises(ValueError, match=match):
        estimate_n_clusters(X, n_clusters_range=bad)


@pytest.mark.parametrize("bad", [5, (2,), (2, 3, 4), (2.0, 5), ("2", "5"), (True, 5)])
def test_malformed_range_is_a_type_error(bad):
    with pytest.raises(TypeError, match="pair of ints"):
        estimate_n_clusters(_blobs(3)[0], n_clusters_range=bad)


def test_other_bad_input():
    X = _blobs(3)[0]
    with pytest.raises(ValueError, match="at least 3 samples"):
        estimate_n_clusters(X[:2])
    with pytest.raises(ValueError, match="method"):
        estimate_n_clusters(X, method="gap")
    with pytest.raises(ValueError, match="resolution"):
        estimate_n_clusters(X, resolution=0)
    with pytest.raises(ValueError, match="n_neighbors"):
        estimate_n_clusters(X, n_neighbors=0)


def test_usable_on_a_pipeline_output():
    X, _ = _blobs(3, n_features=6)
    X[:, 0] *= 1000  # one feature dominates until standardised
    Xs = make_pipeline(StandardScaler()).fit_transform(X)
    assert estimate_n_clusters(Xs, random_state=0) == 3


@pytest.mark.parametrize("name", NAMES)
def test_estimators_accept_auto(name):
    X = tiny_data()  # 3 blobs, 60 rows
    est = default_estimator(name).set_params(n_clusters="auto")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a collapsed 2-epoch fit is not the point here
        est.fit(X)
    assert est.n_clusters_ == 3
    assert est.get_params()["n_clusters"] == "auto"
    assert clone(est).get_params()["n_clusters"] == "auto"
    assert est.labels_.max() < est.n_clusters_
    pred = est.predict(X)
    assert pred.min() >= 0 and pred.max() < est.n_clusters_
    assert pickle.loads(pickle.dumps(est)).n_clusters_ == 3


@pytest.mark.parametrize("name", NAMES)
def test_int_n_clusters_sets_n_clusters_and_bad_range_raises(name):
    X = tiny_data()
    est = default_estimator(name).set_params(n_clusters=4, n_clusters_range=(2, 1000))  # ignored for an int
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert est.fit(X).n_clusters_ == 4
    with pytest.raises(ValueError, match="below n_samples=60"):
        est.set_params(n_clusters="auto").fit(X)
    assert not hasattr(est, "n_clusters_") or est.n_clusters_ == 4  # a failed fit leaves the estimator as it was


def test_n_init_estimates_once(monkeypatch):
    import skdeepclust.n_clusters as module

    calls = []
    original = module.estimate_n_clusters

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "estimate_n_clusters", counting)
    est = default_estimator("MTDC").set_params(n_clusters="auto", n_init=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(tiny_data())
    assert len(calls) == 1 and est.n_clusters_ == 3
