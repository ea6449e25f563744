"""The ``tol`` rule of HaDis, SeCu and MTDC: training ends once the clusters of a fixed set of rows stop changing."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from skdeepclust import single_view

from ._instances import small_hadis, small_mtdc, small_secu


@pytest.fixture(scope="module")
def X():
    return make_blobs(n_samples=90, centers=3, n_features=5, cluster_std=0.6, random_state=0)[0]


# (factory, its settings, epochs before the rule starts checking)
CASES = {
    "SeCu": (small_secu, dict(n_epochs=12, n_epochs_warmup=1), 0),
    "HaDis": (small_hadis, dict(n_epochs=12, n_epochs_warmup=3), 3),  # checks the pseudo-labels, after the warm-up
    "MTDC": (small_mtdc, dict(n_epochs=12, n_epochs_warmup=4), 4),  # checks the mutual stage
}


@pytest.mark.parametrize("name", CASES)
def test_tol_ends_training_and_says_why(name, X):
    make, params, before = CASES[name]
    est = make(n_clusters=3, tol=0.99, **params).fit(X)
    # the first check has nothing to compare with; the next STABLE_CHECKS all fall below 0.99 and end the stage
    assert est.n_iter_ == before + 1 + single_view.STABLE_CHECKS < params["n_epochs"]
    assert "stop" in est.history_[-1] and "0.99" in est.history_[-1]["stop"]
    assert all("stop" not in r for r in est.history_[:-1])
    assert len(est.labels_) == len(X) and est.predict(X).shape == (len(X),)


@pytest.mark.parametrize("subsample", [False, True], ids=["all-rows", "subsample"])
@pytest.mark.parametrize("name", CASES)
def test_tol_zero_trains_the_whole_schedule_unchanged(name, subsample, X, monkeypatch):
    make, params, _ = CASES[name]
    est = make(n_clusters=3, **params).fit(X)
    assert est.n_iter_ == params["n_epochs"]
    assert all("changed" not in r and "stop" not in r for r in est.history_)
    # watching without ever stopping leaves the training as it was: the same labels and embedding, also when the
    # rule follows a subsample of the rows
    monkeypatch.setattr(single_view, "STABLE_CHECKS", 10**6)
    if subsample:
        monkeypatch.setattr(single_view, "STABLE_ROWS", 40)
    watched = make(n_clusters=3, tol=0.5, **params).fit(X)
    assert watched.n_iter_ == params["n_epochs"]
    assert any("changed" in r for r in watched.history_)
    np.testing.assert_array_equal(est.labels_, watched.labels_)
    np.testing.assert_array_equal(est.transform(X), watched.transform(X))


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("tol", [-0.1, 1.0, "0.1"])
def test_bad_tol_is_a_clear_error(name, tol, X):
    make, params, _ = CASES[name]
    with pytest.raises((ValueError, TypeError), match="tol"):
        make(n_clusters=3, tol=tol, **params).fit(X)


def test_stable_rows_is_a_fixed_subsample_of_large_data():
    import torch

    from skdeepclust._utils import make_fit_context

    ctx = make_fit_context(0, torch.device("cpu"))
    state = ctx.generator.get_state()
    for n in (single_view.STABLE_ROWS + 1, 10 * single_view.STABLE_ROWS + 7):
        rows = single_view.stable_rows(n, ctx)
        assert rows.shape == (single_view.STABLE_ROWS,) and bool((rows[1:] > rows[:-1]).all())
        assert int(rows[0]) == 0 and int(rows[-1]) < n
    # nothing is drawn: a fit with tol > 0 trains as one with tol=0 until it stops
    assert torch.equal(ctx.generator.get_state(), state)
    assert torch.equal(single_view.stable_rows(50, ctx), torch.arange(50))
