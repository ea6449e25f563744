"""Label-free model selection: the input-graph modularity behind ``score``, its scorer, and ``n_init``."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skdeepclust import SeCu
from skdeepclust.base import _init_seeds
from skdeepclust.metrics import knn_modularity, modularity_scorer, reference_space

from ._defaults import ESTIMATORS, NAMES, default_estimator, tiny_data
from ._instances import small_distilmvc

#: longer schedules than ``default_estimator``'s where its fit puts every row of ``tiny_data`` in one cluster
#: (DistilMVC with one distillation epoch: one cluster; with 10: the three blobs, seeds 0, 1 and 2)
SCORED_FIT = {"DistilMVC": {"n_epochs_distill": 10}}
#: the multi-view scorer test's DistilMVC: its 1-epoch stages, as the tiny network of the check suite, put all 120
#: rows in one cluster; these give the three blobs (seeds 0, 1 and 2)
VIEWS_DISTILMVC = {"n_epochs_pretrain": 10, "n_epochs_contrastive": 10, "n_epochs_distill": 20}


def _modularity_by_hand(X, labels, k):
    """Newman's modularity of the symmetrised k-NN graph, from the dense adjacency matrix."""
    n = X.shape[0]
    idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)
    C = np.zeros((n, n))
    for i in range(n):
        C[i, idx[i][idx[i] != i][:k]] = 1.0
    A = (C + C.T) / 2
    deg, two_m = A.sum(1), A.sum()
    same = labels[:, None] == labels[None, :]
    return float(((A - np.outer(deg, deg) / two_m) * same).sum() / two_m)


def test_knn_modularity_matches_the_definition():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    labels = rng.integers(0, 4, 120)
    assert knn_modularity(X, labels, n_neighbors=6) == pytest.approx(_modularity_by_hand(X, labels, 6), abs=1e-12)


def test_knn_modularity_rewards_the_true_partition():
    X, y = make_blobs(300, centers=4, cluster_std=0.5, random_state=0)
    good = knn_modularity(X, y)
    assert good > 0.7
    assert knn_modularity(X, np.zeros(300)) == 0.0  # one cluster: nothing beyond chance
    assert knn_modularity(X, np.random.default_rng(0).integers(0, 4, 300)) < 0.05
    merged = np.where(y == 3, 2, y)
    assert knn_modularity(X, merged) < good


def test_knn_modularity_subsamples_large_inputs():
    X, y = make_blobs(3000, centers=3, random_state=0)
    full = knn_modularity(X, y, max_samples=3000)
    sub = knn_modularity(X, y, max_samples=1000)
    assert sub == knn_modularity(X, y, max_samples=1000)  # a fixed subsample
    assert abs(sub - full) < 0.05


def test_knn_modularity_checks_lengths():
    with pytest.raises(ValueError, match="rows"):
        knn_modularity(np.zeros((5, 2)), [0, 1])


def test_reference_space_balances_views():
    rng = np.random.default_rng(0)
    X = np.hstack([rng.normal(size=(50, 3)) * 100, rng.normal(size=(50, 30))])
    R = reference_space(X, (3, 30))
    assert R[:, :3].var(0, ddof=1).sum() == pytest.approx(1.0)
    assert R[:, 3:].var(0, ddof=1).sum() == pytest.approx(1.0)
    # one scale per view: the features' relative scales inside a view are kept
    np.testing.assert_allclose(R[:, :3] / X[:, :3], R[0, 0] / X[0, 0])


@pytest.mark.parametrize("name", NAMES)
def test_score_is_input_graph_modularity(name):
    X = tiny_data()
    est = default_estimator(name).set_params(**SCORED_FIT.get(name, {})).fit(X)
    pred = est.predict(X)
    # at least two clusters: a one-cluster fit scores 0 whatever the graph, and would compare 0 with 0
    assert np.unique(pred).size >= 2, np.bincount(pred)
    sizes = getattr(est, "view_sizes_", None)
    sizes = None if sizes is None or len(sizes) == 1 else sizes
    assert est.score(X) == pytest.approx(knn_modularity(reference_space(X, sizes), pred))
    assert modularity_scorer(est, X) == pytest.approx(est.score(X))


def test_score_does_not_depend_on_the_embedding(monkeypatch):
    """Two models that predict the same labels get the same score, whatever their embeddings."""
    X = tiny_data()
    est = default_estimator("SeCu").fit(X)
    before = est.score(X)
    original = type(est)._infer

    def scaled(self, mods, xb):
        emb, raw = original(self, mods, xb)
        return emb * 100 + 3, raw

    monkeypatch.setattr(type(est), "_infer", scaled)
    assert est.score(X) == before


def test_modularity_scorer_with_views_and_pipelines():
    rng = np.random.default_rng(0)
    X, _ = make_blobs(120, centers=3, n_features=6, random_state=0)
    views = [X[:, :2], X[:, 2:] + rng.normal(scale=0.1, size=(120, 4))]
    est = small_distilmvc(n_clusters=3, **VIEWS_DISTILMVC).fit(views)
    pred = est.predict(views)
    assert np.unique(pred).size >= 2, np.bincount(pred)  # a one-cluster fit would compare 0 with 0
    stacked = np.hstack(views)
    balanced = knn_modularity(reference_space(stacked, (2, 4)), pred)
    assert modularity_scorer(est, views) == pytest.approx(balanced)
    # the views' balance matters here: the stacked columns scaled as one view give another graph and score
    assert balanced != pytest.approx(knn_modularity(reference_space(stacked, None), pred))
    assert est.score(views) == pytest.approx(modularity_scorer(est, views))
    pipe = make_pipeline(MinMaxScaler(), SeCu(n_clusters=3, n_epochs=2, n_epochs_warmup=1, batch_size=32,
                                              hidden_dims=(16,), feature_dim=8, device="cpu", random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = GridSearchCV(pipe, {"secu__lr": [0.05, 0.2]}, scoring=modularity_scorer, cv=2).fit(X)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_init_seeds():
    assert _init_seeds(7, 1) == [7]
    assert _init_seeds(None, 1) == [None]
    seeds = _init_seeds(7, 3)
    assert seeds == _init_seeds(7, 3) and len(set(seeds)) == 3
    rs = np.random.RandomState(0)
    assert _init_seeds(rs, 2) == [int(v) for v in np.random.RandomState(0).randint(0, 2**31 - 1, size=2)]


@pytest.mark.parametrize("name", ["SeCu", "DistilMVC"])
def test_n_init_keeps_the_best_scoring_fit(name, monkeypatch):
    """The second of three initialisations scores best (the selection score is patched): that fit is kept."""
    X = tiny_data()
    seeds = _init_seeds(0, 3)
    forced = [0.2, 0.9, 0.4]  # init 2 of 3 wins
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        singles = [default_estimator(name).set_params(random_state=seed).fit(X) for seed in seeds[:2]]
        runs, real = [], []
        original = ESTIMATORS[name]._selection_score

        def forced_score(self, Xv):  # the real score is recorded; the forced one is returned
            real.append(original(self, Xv))
            return forced[len(real) - 1]

        for _ in range(2):  # twice, for reproducibility
            real.clear()
            with monkeypatch.context() as m:
                m.setattr(ESTIMATORS[name], "_selection_score", forced_score)
                runs.append(default_estimator(name).set_params(n_init=3).fit(X))
            assert len(real) == 3  # one selection score per initialisation ...
    est, again = runs
    first, second = singles
    # ... each of its own fit on the training data
    assert real[:2] == pytest.approx([first.score(X), second.score(X)])
    first, second = singles
    # the first and the second initialisation are different models: keeping the first would not pass
    assert not np.allclose(first.transform(X), second.transform(X))
    np.testing.assert_array_equal(est.init_scores_, forced)
    assert int(np.argmax(est.init_scores_)) == 1
    np.testing.assert_array_equal(est.labels_, second.labels_)
    np.testing.assert_allclose(est.transform(X), second.transform(X))
    np.testing.assert_array_equal(est.predict(X), second.predict(X))
    assert est.score(X) == pytest.approx(second.score(X))
    np.testing.assert_array_equal(est.labels_, again.labels_)
    np.testing.assert_array_equal(est.transform(X), again.transform(X))
    assert not hasattr(second, "init_scores_")


def test_n_init_is_validated():
    with pytest.raises(ValueError, match="n_init"):
        SeCu(n_init=0).fit(tiny_data())


def test_failed_later_init_leaves_the_estimator_as_it_was(monkeypatch):
    X = tiny_data()
    est = default_estimator("SeCu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X)
    before = est.labels_.copy()
    calls = []
    original = ESTIMATORS["SeCu"]._fit_torch

    def failing(self, Xt, trainer):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom in the second initialisation")
        return original(self, Xt, trainer)

    monkeypatch.setattr(ESTIMATORS["SeCu"], "_fit_torch", failing)
    est.set_params(n_init=3, random_state=5)
    with pytest.raises(RuntimeError, match="second"):
        est.fit(X)
    np.testing.assert_array_equal(est.labels_, before)
    assert not hasattr(est, "init_scores_")


def test_ctrl_c_in_a_later_init_keeps_the_finished_ones(monkeypatch):
    X = tiny_data()
    calls = []
    original = ESTIMATORS["SeCu"]._fit_torch

    def interrupted(self, Xt, trainer):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, Xt, trainer)

    monkeypatch.setattr(ESTIMATORS["SeCu"], "_fit_torch", interrupted)
    monkeypatch.setattr(ESTIMATORS["SeCu"], "_networks_exist", lambda self: False)
    est = default_estimator("SeCu").set_params(n_init=3)
    with pytest.warns(RuntimeWarning, match="initialisation 2 of 3"):
        est.fit(X)
    assert est.interrupted_
    assert est.labels_.shape == (X.shape[0],)
    assert len(calls) == 2


def test_ctrl_c_inside_a_later_init_is_reported(monkeypatch):
    """Ctrl-C in a later run once its networks exist: no further runs, the best kept, and the user is told."""
    X = tiny_data()
    calls = []
    original = ESTIMATORS["SeCu"]._fit_torch

    def interrupted_after_training(self, Xt, trainer):
        calls.append(1)
        raw = original(self, Xt, trainer)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the networks exist: the run ends with a usable model
        return raw

    monkeypatch.setattr(ESTIMATORS["SeCu"], "_fit_torch", interrupted_after_training)
    est = default_estimator("SeCu").set_params(n_init=3)
    with pytest.warns(RuntimeWarning, match="initialisation 2 of 3"):
        est.fit(X)
    assert est.interrupted_ and len(calls) == 2 and est.init_scores_.shape == (2,)
