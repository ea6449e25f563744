"""Property-based fuzzing of the input contract of all five estimators.

Each example draws a small data set (shape, dtype, scale, duplicate rows, constant columns) and parameters
(cluster count, batch size, layer widths), and may inject faults (NaN, inf, values beyond float32,
identical rows, too many clusters, a boolean cluster count, invalid widths or batch size, too few rows).
The fit starts from an already fitted estimator. Every example must end either in a fitted model that
meets the invariants, or, when a fault was injected, in a ``ValueError``/``TypeError`` whose message
names one of the injected faults, with the previous model left exactly as it was.
"""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from ._instances import small_distilmvc, small_hadis, small_mtdc, small_secu, small_spc

FACTORIES = {
    "DistilMVC": lambda: small_distilmvc(n_epochs_pretrain=1, n_epochs_contrastive=1, n_epochs_distill=1),
    "HaDis": lambda: small_hadis(n_epochs=1, n_epochs_warmup=0, kmeans_n_init=1),
    "MTDC": lambda: small_mtdc(n_epochs=1),
    "SeCu": lambda: small_secu(n_epochs=1, n_epochs_warmup=0),
    "SPC": lambda: small_spc(n_epochs_pretrain=1, n_epochs_round=1),
}

#: estimators whose ``labels_`` are their model's prediction on the training rows (HaDis' are spectral labels of
#: the training embedding, SPC's the ensemble vote)
LABELS_FROM_MODEL = {"DistilMVC", "MTDC", "SeCu"}

#: the words an error message must contain for each injected fault
FAULT_WORDS = {
    "nan": "NaN",
    "inf": "infinity",
    "huge": "float32",
    "identical": "identical",
    "too_many_clusters": "n_clusters",
    "bool_clusters": "n_clusters",
    "bad_widths": "hidden_dims",
    "bad_batch": "batch_size",
    "too_few_rows": "sample",
}

_PREFITTED: dict = {}


def _prefitted(name):
    """A fitted estimator, rebuilt from bytes each time (the fuzzed fit must not change it if it fails)."""
    if name not in _PREFITTED:
        X, _ = make_blobs(n_samples=30, centers=2, n_features=3, random_state=0)
        _PREFITTED[name] = pickle.dumps(FACTORIES[name]().set_params(n_clusters=2).fit(X))
    return pickle.loads(_PREFITTED[name])


def _fitted_state(est) -> bytes:
    return pickle.dumps({k: v for k, v in vars(est).items() if k.endswith("_")})


@st.composite
def cases(draw, name):
    faults = set(draw(st.sets(st.sampled_from(sorted(FAULT_WORDS)), max_size=2)))
    n = draw(st.integers(4, 40))
    d = draw(st.integers(1, 6))
    if "too_few_rows" in faults:
        n = draw(st.integers(1, 2)) if name == "SPC" else 1
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    X = rng.normal(size=(n, d)) * 10.0 ** draw(st.integers(-20, 20))
    if draw(st.booleans()):  # duplicated rows
        X[: n // 2] = X[0]
    if d > 1 and draw(st.booleans()):  # a constant column
        X[:, draw(st.integers(0, d - 1))] = draw(st.floats(-5, 5))
    if "identical" in faults:
        X[:] = X[0]
    for fault, value in (("nan", np.nan), ("inf", np.inf), ("huge", 1e39)):
        if fault in faults:
            X[draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))] = value
    dtype = draw(st.sampled_from(["float64", "float32", "int64"]))
    if dtype == "float32" and "huge" not in faults:
        X = X.astype(np.float32)
    elif dtype == "int64" and np.isfinite(X).all() and np.abs(X).max() < 1e15:
        X = np.round(X).astype(np.int64)
    k = draw(st.integers(1, max(1, min(n, 5))))
    params = {"n_clusters": k, "batch_size": draw(st.integers(2, 48))}
    if "identical" in faults and k == 1:
        params["n_clusters"] = 2
    if "too_many_clusters" in faults:
        params["n_clusters"] = n + draw(st.integers(1, 3))
    if "bool_clusters" in faults:
        params["n_clusters"] = True
    if "bad_batch" in faults:
        params["batch_size"] = draw(st.sampled_from([0, 1, -4, False, True]))
    if "bad_widths" in faults:
        params["hidden_dims"] = draw(st.sampled_from([(0,), (-3,), (), (4, 0), (2.5,), ("a",)]))
    elif draw(st.booleans()):
        params["hidden_dims"] = tuple(draw(st.lists(st.integers(1, 16), min_size=1, max_size=2)))
    if n > 1 and params["n_clusters"] is not True and params["n_clusters"] > 1 and not np.any(X != X[:1]):
        faults.add("identical")  # e.g. small values rounded to integers
    return X, params, faults


def _check_case(name, X, params, faults):
    est = _prefitted(name)
    before = _fitted_state(est)
    est.set_params(**params)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(X)
    except (ValueError, TypeError) as exc:
        assert faults, f"{name} refused valid input {X.shape} {X.dtype} {params}: {exc!r}"
        words = [FAULT_WORDS[f] for f in faults]
        assert any(w.lower() in str(exc).lower() for w in words), f"{exc!r} names none of {faults}"
        assert _fitted_state(est) == before, "a failing fit changed the estimator"
        return
    k = int(est.n_clusters)
    assert not (faults - {"identical"}) or k == 1, f"{name} accepted faults {faults}"
    n = X.shape[0]
    Xf = X.astype(np.float64)
    pred = est.predict(Xf)
    if name in LABELS_FROM_MODEL:  # the fit labels the training rows with the model: predict gives them again
        np.testing.assert_array_equal(pred, est.labels_)
    np.testing.assert_array_equal(est.predict(Xf[:3]), pred[:3])  # a row's label does not depend on its batch
    # fewer clusters than asked for is reported, and only then
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert warned == (np.unique(est.labels_).size < k), (np.unique(est.labels_), k)
    emb = est.transform(Xf)
    assert emb.shape == (n, est.n_features_out_) and np.isfinite(emb).all()


def _fuzz(name):
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=cases(name))
    def run(case):
        _check_case(name, *case)

    run()


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_fuzz_input_contract(name):
    _fuzz(name)
