"""Hyperparameter search on a cluster: joblib's "dask" backend on a ``dask.distributed`` LocalCluster of two
worker processes (part of the default tests), and Ray's joblib backend (only where ray is installed).

The fits are tiny (SeCu, 2 epochs, one 16-unit hidden layer, 200 rows); what is checked is that the work is
done in the workers, that the fitted models come back intact, that the scores and the refitted best model are
those of the same search run in this process, and how many torch threads a fit gets inside a worker.
"""

import logging
import os

import numpy as np
import pytest
import torch
from joblib import parallel_backend
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skdeepclust import SeCu
from skdeepclust._config import NUM_THREADS_ENV

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'dask[distributed]'; it is in the test extra)"
)

GRID = {"lr": [0.1, 0.2], "temperature_instance": [0.05, 0.1]}


#: the process ids of the fits of ``_RecordingSeCu`` run in this process (in a worker: the worker's fits)
_FIT_PIDS: list[int] = []

_SECU_PARAMS = dict(n_clusters=3, n_heads=2, hidden_dims=(16,), projection_hidden_dim=16, feature_dim=8,
                    n_epochs=2, n_epochs_warmup=1, batch_size=32, device="cpu", random_state=0)


class _RecordingSeCu(SeCu):
    """SeCu that records the process its fit trains in: in ``_FIT_PIDS`` of that process, and as ``fit_pid_``."""

    def _fit_torch(self, X, trainer):
        self.fit_pid_ = os.getpid()
        _FIT_PIDS.append(self.fit_pid_)
        return super()._fit_torch(X, trainer)


def _secu():
    return SeCu(**_SECU_PARAMS)


def _recording_secu():
    return _RecordingSeCu(**_SECU_PARAMS)


def _fits_here():
    """Run in a worker: (its process id, the process ids its ``_RecordingSeCu`` fits recorded), then forget them."""
    fits = list(_FIT_PIDS)
    _FIT_PIDS.clear()
    return os.getpid(), fits


@pytest.fixture(scope="module")
def X():
    return make_blobs(n_samples=200, centers=3, n_features=5, random_state=0)[0]


def _local_cluster(**kwargs):
    return distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                    silence_logs=logging.ERROR, **kwargs)


@pytest.fixture(scope="module")
def client():
    """A client of two single-threaded worker processes; this process's environment is restored afterwards
    (dask's nanny writes ``OMP_NUM_THREADS=1`` and the like into it before it starts a worker)."""
    saved = dict(os.environ)
    try:
        with _local_cluster() as cluster, distributed.Client(cluster) as c:
            yield c
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _threads_in_fit(X):
    """Run in a worker: fit SeCu and return (torch threads inside ``_fit_torch``, torch threads afterwards)."""
    seen = []
    fit_torch = SeCu._fit_torch

    def spy(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return fit_torch(self, *args, **kwargs)

    SeCu._fit_torch = spy
    try:
        _secu().set_params(n_epochs=1, n_epochs_warmup=0).fit(X)
    finally:
        SeCu._fit_torch = fit_torch
    return seen[0], torch.get_num_threads()


def _check_search(search, X):
    """``search`` (run on a cluster) found what the same search finds in this process, and its model works."""
    local = GridSearchCV(_secu(), GRID, cv=2).fit(X)
    assert search.best_params_ == local.best_params_
    # the same fits, so the same scores (a worker runs one torch thread, as this process does: conftest.py)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"],
                               rtol=1e-6, atol=1e-9)
    best = search.best_estimator_
    assert best.device_ == torch.device("cpu") and best.labels_.shape == (X.shape[0],)
    refit = clone(_secu()).set_params(**search.best_params_).fit(X)
    np.testing.assert_array_equal(best.predict(X), refit.predict(X))
    np.testing.assert_array_equal(best.labels_, refit.labels_)


def test_dask_workers_train_with_one_torch_thread_by_default(client, X):
    # dask's nanny starts each worker with OMP_NUM_THREADS=1 (distributed.nanny.pre-spawn-environ), which torch
    # reads at start-up: two fits in two workers do not compete for the cores with one thread per core each
    result = client.run(_threads_in_fit, X)
    assert len(result) == 2
    assert all(r == (1, 1) for r in result.values()), result


def test_num_threads_variable_takes_effect_in_dask_workers(X):
    saved = dict(os.environ)
    try:
        with _local_cluster(env={NUM_THREADS_ENV: "2"}) as cluster, distributed.Client(cluster) as c:
            result = c.run(_threads_in_fit, X)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert len(result) == 2
    # two threads inside the fit, the worker's own single thread again afterwards
    assert all(r == (2, 1) for r in result.values()), result


def test_grid_search_on_dask_cluster(client, X):
    client.run(_fits_here)  # forget fits of earlier tests
    _FIT_PIDS.clear()
    search = GridSearchCV(_recording_secu(), GRID, cv=2)  # no scoring: the estimator's label-free score
    with parallel_backend("dask"):
        search.fit(X)
    assert len(search.cv_results_["params"]) == 4
    # the 8 fits of the search (4 candidates x 2 folds) trained in the workers, each in its own process; only the
    # refit of the best candidate trained here
    workers = client.run(_fits_here)
    assert len(workers) == 2
    assert all(set(fits) <= {pid} for pid, fits in workers.values()), workers
    assert sum(len(fits) for _, fits in workers.values()) == 8, workers
    assert os.getpid() not in {pid for pid, _ in workers.values()}
    assert _FIT_PIDS == [os.getpid()] and search.best_estimator_.fit_pid_ == os.getpid()
    _check_search(search, X)


def test_models_fitted_in_dask_workers_come_back_intact(client, X):
    pids = {pid for pid, _ in client.run(_fits_here).values()}
    assert len(pids) == 2 and os.getpid() not in pids
    cv = KFold(2)
    with parallel_backend("dask"):
        res = cross_validate(_recording_secu(), X, cv=cv, return_estimator=True, return_indices=True)
    # each model came back from the worker process that trained it
    assert all(est.fit_pid_ in pids for est in res["estimator"]), ([est.fit_pid_ for est in res["estimator"]], pids)
    for est, train in zip(res["estimator"], res["indices"]["train"], strict=True):
        local = _secu().fit(X[train])
        assert est.device_ == torch.device("cpu")
        np.testing.assert_array_equal(est.labels_, local.labels_)
        np.testing.assert_array_equal(est.predict(X), local.predict(X))
        np.testing.assert_allclose(est.transform(X), local.transform(X), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(res["test_score"], [_secu().fit(X[tr]).score(X[te]) for tr, te in cv.split(X)],
                               rtol=1e-6, atol=1e-9)


def test_grid_search_on_ray(X):
    ray = pytest.importorskip("ray", reason="ray is not installed (optional: pip install ray)")
    from ray.util.joblib import register_ray

    saved = dict(os.environ)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        register_ray()
        threads = ray.get([ray.remote(_threads_in_fit).remote(X) for _ in range(2)])
        search = GridSearchCV(_secu(), GRID, cv=2)
        with parallel_backend("ray"):
            search.fit(X)
    finally:
        ray.shutdown()
        os.environ.clear()
        os.environ.update(saved)
    assert threads == [(1, 1), (1, 1)]  # a Ray task runs with OMP_NUM_THREADS set to its CPUs (1)
    _check_search(search, X)
