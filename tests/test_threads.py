"""The thread policy: the idle cores by default, or the count SKDEEPCLUST_NUM_THREADS fixes, for torch and the
BLAS libraries during fit and inference, restored afterwards."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from threadpoolctl import ThreadpoolController, threadpool_limits

from skdeepclust import SeCu, _threads
from skdeepclust._config import NUM_THREADS_ENV

from ._instances import small_secu


def _blas_threads():
    info = ThreadpoolController().select(user_api="blas").info()
    assert info, "no BLAS library loaded: the check would be empty"
    return sorted({lib["num_threads"] for lib in info})


@pytest.fixture
def caller_threads():
    """The caller runs with 3 torch threads and 3 BLAS threads (not what the tests' conftest sets)."""
    before = torch.get_num_threads()
    with threadpool_limits(3, user_api="blas"):
        torch.set_num_threads(3)
        try:
            yield
        finally:
            torch.set_num_threads(before)


@pytest.fixture
def seen(monkeypatch):
    """Record torch's and the BLAS threads inside SeCu's training and inference."""
    record = {}
    fit_torch, infer = SeCu._fit_torch, SeCu._infer

    def spy(where, method):
        def wrapped(self, *args, **kwargs):
            record.setdefault(where, (torch.get_num_threads(), _blas_threads()))
            return method(self, *args, **kwargs)
        return wrapped

    monkeypatch.setattr(SeCu, "_fit_torch", spy("fit", fit_torch))
    monkeypatch.setattr(SeCu, "_infer", spy("infer", infer))
    return record


@pytest.fixture(scope="module")
def X():
    return make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)[0]


def _fast():
    return small_secu(n_clusters=3, n_epochs=1, n_epochs_warmup=0)


def _idle(monkeypatch, cores):
    """Make the machine look as if ``cores`` cores were idle (``None``: a platform that does not say)."""
    monkeypatch.setattr(_threads, "_measure", lambda: cores)
    monkeypatch.setattr(_threads, "_last", None)


@pytest.mark.parametrize("value", [None, "auto", " "])
def test_unset_on_an_idle_machine_leaves_threads_alone(caller_threads, seen, X, monkeypatch, value):
    if value is None:
        monkeypatch.delenv(NUM_THREADS_ENV, raising=False)
    else:
        monkeypatch.setenv(NUM_THREADS_ENV, value)
    _idle(monkeypatch, 7.6)  # more idle cores than the caller's 3 threads: capped at 3
    est = _fast().fit(X)
    assert seen["fit"] == seen["infer"] == (3, [3])
    assert est.n_threads_ == 3
    assert torch.get_num_threads() == 3 and _blas_threads() == [3]


@pytest.mark.parametrize(("cores", "expected"), [(1.3, 1), (1.6, 2), (0.1, 1), (None, 3)])
def test_unset_uses_the_idle_cores(caller_threads, seen, X, monkeypatch, cores, expected):
    monkeypatch.delenv(NUM_THREADS_ENV, raising=False)
    _idle(monkeypatch, cores)
    est = _fast().fit(X)
    assert seen["fit"] == seen["infer"] == (expected, [expected])
    assert est.n_threads_ == expected
    assert torch.get_num_threads() == 3 and _blas_threads() == [3]


def test_one_caller_thread_is_not_measured(seen, X, monkeypatch):
    monkeypatch.delenv(NUM_THREADS_ENV, raising=False)

    def fail():
        raise AssertionError("measured although the caller runs one thread")

    monkeypatch.setattr(_threads, "_measure", fail)
    monkeypatch.setattr(_threads, "_last", None)
    assert torch.get_num_threads() == 1  # conftest.py
    assert _fast().fit(X).n_threads_ == 1


def test_idle_cores_is_measured_within_the_usable_cores(monkeypatch):
    monkeypatch.setattr(_threads, "_last", None)
    idle = _threads.idle_cores()
    if idle is None:
        pytest.skip("this platform reports neither per-CPU counters nor a load average")
    cpus = _threads._usable_cpus()
    assert 0.0 <= idle <= (len(cpus) if cpus is not None else 10**6)


def test_limit_during_fit_restored_after(caller_threads, seen, X, monkeypatch):
    monkeypatch.setenv(NUM_THREADS_ENV, "1")
    est = _fast().fit(X)
    assert seen["fit"] == seen["infer"] == (1, [1])  # training, and the labelling of the training rows
    assert est.n_threads_ == 1
    assert torch.get_num_threads() == 3 and _blas_threads() == [3]
    seen.clear()
    monkeypatch.setenv(NUM_THREADS_ENV, "2")
    est.predict(X)
    assert seen == {"infer": (2, [2])}
    assert torch.get_num_threads() == 3 and _blas_threads() == [3]
    est.transform(X), est.score(X)
    assert torch.get_num_threads() == 3 and _blas_threads() == [3]


def test_limit_restored_after_a_failing_fit(caller_threads, seen, X, monkeypatch):
    monkeypatch.setenv(NUM_THREADS_ENV, "1")

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(SeCu, "_inference_modules", boom)  # fails after training
    est = _fast()
    with pytest.raises(RuntimeError, match="boom"):
        est.fit(X)
    assert seen["fit"] == (1, [1])
    assert torch.get_num_threads() == 3 and _blas_threads() == [3]
    assert not hasattr(est, "labels_")


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_bad_value_is_a_clear_error(caller_threads, X, monkeypatch, value):
    monkeypatch.setenv(NUM_THREADS_ENV, value)
    with pytest.raises(ValueError, match=f"{NUM_THREADS_ENV}.*positive integer"):
        _fast().fit(X)
    assert torch.get_num_threads() == 3 and _blas_threads() == [3]


def test_same_results_with_and_without_the_variable_at_one_thread(X, monkeypatch):
    """The limit changes only the thread count: at the same count the labels and embedding are identical."""
    monkeypatch.delenv(NUM_THREADS_ENV, raising=False)
    assert torch.get_num_threads() == 1  # conftest.py
    a = _fast().fit(X)
    monkeypatch.setenv(NUM_THREADS_ENV, "1")
    b = _fast().fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
