"""Behaviour of DistilMVC: multi-view input forms, sklearn tooling, devices, pickling, RNG, bad input."""

import importlib.util
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from skdeepclust import DistilMVC, ViewScaler, stack_views
from skdeepclust.datasets import make_multiview_blobs
from skdeepclust.distilmvc import CHECKPOINT_MARGIN, _contrastive_checkpoints
from skdeepclust.metrics import clustering_accuracy, silhouette_scorer
from skdeepclust.training import NonFiniteLossError

from ._instances import small_distilmvc


def _load_ablations():
    """``benchmarks/ablations.py``: the benchmarks' pseudo-label variants."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "ablations.py"
    spec = importlib.util.spec_from_file_location("ablations", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ablations = _load_ablations()


def blob_model(**kw):
    """The small test instance with more steps: 120 samples are only a few batches per epoch."""
    return small_distilmvc(n_clusters=3, batch_size=16, n_epochs_pretrain=30, **kw)


@pytest.fixture(scope="module")
def blobs():
    return make_multiview_blobs(120, n_clusters=3, view_sizes=(6, 4), random_state=0)


@pytest.fixture(scope="module")
def fitted(blobs):
    return blob_model().fit(blobs.views)


def test_clusters_multiview_blobs(fitted, blobs):
    # KMeans gets 1.0 here; the tiny test network trained for seconds reaches ~0.88 (chance: ~0.4)
    assert clustering_accuracy(blobs.y, fitted.labels_) > 0.8
    assert fitted.n_views_ == 2 and fitted.view_sizes_ == (6, 4)
    assert fitted.pseudo_labels_.shape == (2, 120)
    assert fitted.transform(blobs.views).shape == (120, 3)
    np.testing.assert_allclose(fitted.transform(blobs.views).sum(1), 1.0, rtol=1e-6)


def test_consensus_targets_keep_fixed_ids_the_student_learns(fitted):
    # one consensus for every view, aligned once to the student's ids: the student ends on the targets
    # themselves, not on a relabelling of them
    assert (fitted.pseudo_labels_ == fitted.pseudo_labels_[0]).all()
    assert np.mean(fitted.labels_ == fitted.pseudo_labels_[0]) > 0.95


def _modularity_by_hand(graph, labels):
    """Newman's modularity from the dense adjacency matrix (self-loops dropped)."""
    A = graph.toarray().astype(float)
    np.fill_diagonal(A, 0.0)
    deg, total = A.sum(1), A.sum()
    return sum(A[np.ix_(labels == c, labels == c)].sum() / total - (deg[labels == c].sum() / total) ** 2
               for c in np.unique(labels))


def test_auto_consensus_keeps_the_most_modular_candidate(fitted, blobs, monkeypatch):
    import skdeepclust.distilmvc

    calls = []  # (graph, labels, modularity) of every candidate the fit scored
    original = skdeepclust.distilmvc.graph_modularity

    def recorded(graph, labels):
        calls.append((graph, np.asarray(labels).copy(), original(graph, labels)))
        return calls[-1][2]

    monkeypatch.setattr(skdeepclust.distilmvc, "graph_modularity", recorded)
    est = blob_model().fit(blobs.views)
    np.testing.assert_array_equal(est.labels_, fitted.labels_)  # the fixture's fit, recorded
    scores = est.consensus_scores_
    assert set(scores) == {"latent", "input", "union"} and len(calls) == 3
    # each score is the modularity of one candidate on the one graph (the sum of the latent and input graphs)
    assert all(graph is calls[0][0] for graph, _, _ in calls)
    assert sorted(scores.values()) == pytest.approx(sorted(q for _, _, q in calls))
    assert [q for _, _, q in calls] == pytest.approx([_modularity_by_hand(g, lab) for g, lab, _ in calls])
    # the pseudo-labels distilled are the most modular candidate's (its ids renamed), and the student learnt them
    graph, best, q = max(calls, key=lambda c: c[2])
    assert scores[est.consensus_] == pytest.approx(q)
    assert adjusted_rand_score(best, est.pseudo_labels_[0]) == pytest.approx(1.0)
    assert q > 0.5 and clustering_accuracy(blobs.y, est.pseudo_labels_[0]) > 0.95  # three separated blobs


def test_pseudo_label_ablations_of_the_benchmarks(blobs):
    params = short_model().get_params()
    spectral_only = ablations.DistilMVCLatentPseudoLabels(**params).fit(blobs.views)  # the latent partition alone
    assert not hasattr(spectral_only, "consensus_")
    assert (spectral_only.pseudo_labels_ == spectral_only.pseudo_labels_[0]).all()

    class FewRestarts(ablations.DistilMVCKMeansPseudoLabels):
        _kmeans_n_init = 2

    kmeans = FewRestarts(**params).fit(blobs.views)  # the reference: one k-means per view
    assert not hasattr(kmeans, "consensus_") and kmeans.pseudo_labels_.shape == (2, 120)
    assert kmeans.get_params() == params and ablations.DistilMVCKMeansPseudoLabels._kmeans_n_init == 100


def test_auto_contrastive_stage_keeps_the_most_modular_checkpoint(blobs):
    # 120 rows in batches of 16: 7 steps per epoch, so the reference's 50 epochs (350 steps) go on to 143 (1000)
    est = small_distilmvc(n_clusters=3, batch_size=16, n_epochs_pretrain=2, n_epochs_contrastive="auto",
                          n_epochs_distill=2).fit(blobs.views)
    contrastive = [r for r in est.history_ if r["stage"] == "contrastive"]
    assert len(contrastive) == 143
    scores = {r["epoch"]: r["checkpoint_score"] for r in contrastive if "checkpoint_score" in r}
    assert list(scores) == _contrastive_checkpoints("auto", 120, 16, 2) == [50, 100, 143]
    best = max(scores, key=scores.get)
    assert est.contrastive_epochs_ == (best if scores[best] > scores[50] + CHECKPOINT_MARGIN else 50)
    assert all(0.3 < q <= 1 for q in scores.values())  # three separated blobs: strongly modular graphs
    fixed = short_model().fit(blobs.views)  # a given length: no checkpoints
    assert fixed.contrastive_epochs_ == 5
    assert not any("checkpoint_score" in r for r in fixed.history_)


def short_model(**kw):
    """For tests of bookkeeping rather than quality: every stage runs, for a few epochs."""
    return small_distilmvc(n_clusters=3, n_epochs_pretrain=2, n_epochs_contrastive=5, n_epochs_distill=5, **kw)


def test_list_and_stacked_input_agree(fitted, blobs):
    X, sizes = stack_views(blobs.views)
    stacked = short_model(view_sizes=sizes).fit(X)
    listed = short_model().fit(blobs.views)
    np.testing.assert_array_equal(stacked.labels_, listed.labels_)
    np.testing.assert_array_equal(stacked.transform(X), listed.transform(blobs.views))
    np.testing.assert_array_equal(fitted.predict(X), fitted.predict(blobs.views))
    np.testing.assert_array_equal(fitted.predict(blobs.views), fitted.labels_)


def test_history_and_verbose(blobs, capsys):
    est = small_distilmvc(n_clusters=3, n_epochs_pretrain=2, n_epochs_contrastive=3, n_epochs_distill=4, verbose=1)
    est.fit(blobs.views)
    stages = [r["stage"] for r in est.history_]
    assert stages == ["pretrain"] * 2 + ["contrastive"] * 3 + ["distill"] * 4
    assert {"instance", "cluster", "mi", "rec", "loss", "seconds"} <= set(est.history_[2])
    assert all(r["seconds"] > 0 for r in est.history_)
    err = capsys.readouterr().err
    assert "contrastive" in err and "instance=" in err and "3/3" in err


def test_same_seed_same_labels_and_global_rng_untouched(blobs):
    torch_state = torch.random.get_rng_state().clone()
    np_state = np.random.get_state()[1].copy()
    a = short_model(random_state=7).fit(blobs.views)
    b = short_model(random_state=7).fit(blobs.views)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.transform(blobs.views), b.transform(blobs.views))
    assert torch.equal(torch_state, torch.random.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])


def test_single_view_input_builds_augmented_views(blobs):
    X, _ = stack_views(blobs.views)
    est = small_distilmvc(n_clusters=3).fit(X)
    assert est.n_views_ == 2 and est.view_sizes_ == (10,)
    assert clustering_accuracy(blobs.y, est.labels_) > 0.8


def test_single_view_input_takes_a_users_augment(blobs):
    X, _ = stack_views(blobs.views)
    shapes = []

    def augment(x, generator):
        shapes.append(tuple(x.shape))
        return x + 0.05 * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)

    est = short_model(augment=augment).fit(X)
    assert shapes[0] == (2, 10) and (32, 10) in shapes  # a dry run on two rows, then the batches
    assert est.predict(X).shape == (120,)
    with pytest.raises(ValueError, match="augment"):
        short_model(augment=lambda x, generator: x[:, :3]).fit(X)
    short_model(augment=lambda x, generator: x[:, :3]).fit(blobs.views)  # several views: not used


def test_pipeline_with_view_scaler(blobs):
    X, sizes = stack_views(blobs.views)
    X = X * np.r_[np.full(6, 1000.0), np.ones(4)]  # wildly different view scales
    pipe = make_pipeline(ViewScaler(view_sizes=sizes), blob_model(view_sizes=sizes))
    labels = pipe.fit_predict(X)
    assert clustering_accuracy(blobs.y, labels) > 0.8
    assert pipe.transform(X).shape == (120, 3)
    assert list(pipe.get_feature_names_out()) == ["distilmvc0", "distilmvc1", "distilmvc2"]


def test_grid_search_without_labels(blobs):
    X, sizes = stack_views(blobs.views)
    # short runs: 2 x 8 fits in the searches; the scores only have to tell the candidates apart
    est = small_distilmvc(n_clusters=3, view_sizes=sizes, n_epochs_pretrain=3, n_epochs_contrastive=10,
                          n_epochs_distill=5)
    param_grid = {"lr": [1e-3, 3e-3], "temperature_instance": [0.5, 1.0]}
    serial, parallel = (GridSearchCV(est, param_grid, cv=2, n_jobs=n_jobs).fit(X) for n_jobs in (1, 2))
    scores = serial.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and np.all(scores >= -1) and np.all(scores <= 1)
    # score() tells the candidates apart, and the search refits the best-scoring one
    assert len(np.unique(scores)) == len(scores)
    assert serial.best_params_ == serial.cv_results_["params"][int(np.argmax(scores))]
    # fits in worker processes (loky, n_jobs=2) score exactly as in the main process
    np.testing.assert_array_equal(parallel.cv_results_["mean_test_score"], scores)
    assert parallel.best_params_ == serial.best_params_
    scorer_scores = cross_val_score(est, X, cv=2, scoring=silhouette_scorer)
    assert np.all(np.isfinite(scorer_scores))


def test_clone_and_pickle_round_trip(fitted, blobs):
    cloned = clone(fitted)
    assert not hasattr(cloned, "labels_") and cloned.get_params() == fitted.get_params()
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(blobs.views), fitted.predict(blobs.views))
    np.testing.assert_allclose(restored.transform(blobs.views), fitted.transform(blobs.views))


def test_pickle_of_cuda_model_loads_on_cpu(fitted, blobs):
    """Simulate a model fitted on CUDA: its state says cuda, the machine has none."""
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the CPU fallback path is exercised on CPU-only machines")
    state = fitted.__getstate__()
    state["device_"] = torch.device("cuda")
    est = DistilMVC.__new__(DistilMVC)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        est.__setstate__(state)
    assert est.device_ == torch.device("cpu")
    np.testing.assert_array_equal(est.predict(blobs.views), fitted.labels_)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fit_and_cpu_unpickle(blobs):
    est = small_distilmvc(n_clusters=3, device="cuda").fit(blobs.views)
    assert est.device_.type == "cuda"
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(blobs.views), est.labels_)


def test_keyboard_interrupt_keeps_model_usable(blobs, monkeypatch):
    from skdeepclust.training import Trainer

    stages = []
    original = Trainer.run

    def interrupted(self, stage, step, **kw):
        stages.append(stage)
        if stage == "contrastive":

            def step(idx, state):
                raise KeyboardInterrupt

        return original(self, stage, step, **kw)

    monkeypatch.setattr(Trainer, "run", interrupted)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        est = small_distilmvc(n_clusters=3).fit(blobs.views)
    assert est.interrupted_ and stages == ["pretrain", "contrastive"]  # no distillation after the interrupt
    assert [r["stage"] for r in est.history_] == ["pretrain"] * est.n_epochs_pretrain
    assert est.predict(blobs.views).shape == (120,)


def test_non_finite_loss_is_clear_error(blobs):
    with pytest.raises(NonFiniteLossError, match="Non-finite loss"):
        small_distilmvc(n_clusters=3, lr=1e30).fit(blobs.views)


# ---------------------------------------------------------------- bad input
def test_bad_inputs(blobs, fitted):
    v1, v2 = blobs.views
    est = small_distilmvc(n_clusters=3)
    bad = v1.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit([bad, v2])
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.fit([bad, v2])
    with pytest.raises(ValueError, match="same number of rows"):
        est.fit([v1, v2[:-1]])
    with pytest.raises(ValueError, match="empty list"):
        est.fit([])
    X, _ = stack_views(blobs.views)
    with pytest.raises(ValueError, match="add up to 9 columns but X has 10"):
        small_distilmvc(view_sizes=(5, 4)).fit(X)
    with pytest.raises(ValueError, match="positive integers"):
        small_distilmvc(view_sizes=(10, 0)).fit(X)
    with pytest.raises(ValueError, match="n_clusters=200 must be <= n_samples=120"):
        small_distilmvc(n_clusters=200).fit(X)
    with pytest.raises(ValueError, match="n_clusters"):
        small_distilmvc(n_clusters=0).fit(X)
    with pytest.raises(ValueError, match="Unknown device"):
        small_distilmvc(device="gpu").fit(X)
    with pytest.raises(ValueError, match="could not convert|numeric"):
        est.fit(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="1 sample"):
        est.fit(X[:1])
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :9])
    with pytest.raises(ValueError, match="views have \\[4, 6\\] columns"):
        fitted.predict([v2, v1])
    with pytest.raises(ValueError, match="2-D"):
        est.fit([v1, v2[:, 0]])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n_rows=st.lists(st.integers(1, 6), min_size=2, max_size=3),
    n_cols=st.lists(st.integers(1, 4), min_size=2, max_size=3),
)
def test_stack_views_rejects_mismatched_rows(n_rows, n_cols):
    views = [np.zeros((r, c)) for r, c in zip(n_rows, n_cols, strict=False)]
    if len(set(n_rows[: len(views)])) > 1:
        with pytest.raises(ValueError, match="same number of rows"):
            stack_views(views)
    else:
        X, sizes = stack_views(views)
        assert X.shape == (n_rows[0], sum(sizes))


@settings(max_examples=20, deadline=None)
@given(value=st.sampled_from([np.nan, np.inf, -np.inf]), row=st.integers(0, 9), col=st.integers(0, 2))
def test_non_finite_anywhere_is_rejected(value, row, col):
    X = np.random.default_rng(0).normal(size=(10, 3))
    X[row, col] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="NaN|infinity"):
            small_distilmvc(n_clusters=2).fit(X)
