"""Behaviour shared by the single-view estimators (tabular and image input, hooks, errors), plus
method-specific switches."""

import importlib
import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.metrics import adjusted_rand_score
from torch import nn

from skdeepclust.metrics import clustering_accuracy

from ._instances import small_hadis, small_mtdc, small_secu

FACTORIES = [small_hadis, small_mtdc, small_secu]
ids = ["HaDis", "MTDC", "SeCu"]


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(300, centers=4, n_features=6, cluster_std=1.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def fitted(blobs):
    """Each method's small instance fitted on the blobs, shared by the tests that only read it."""
    X, _ = blobs
    return {name: make(n_clusters=4).fit(X) for make, name in zip(FACTORIES, ids, strict=True)}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16.0).astype(np.float32), y[:600]


@pytest.mark.parametrize("name", ids)
def test_tabular_blobs(name, blobs, fitted):
    X, y = blobs
    est = fitted[name]
    assert clustering_accuracy(y, est.labels_) > 0.9
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    assert est.transform(X).shape == (300, est.n_features_out_)
    assert est.history_[-1]["seconds"] > 0


# SeCu needs more steps: its first epoch only initialises centers (encoder lr 0) and its encoder
# learns against the centers frozen at the start of each epoch.
IMAGE_RUN = {"HaDis": dict(n_epochs=20, batch_size=64), "MTDC": dict(n_epochs=15, batch_size=64),
             "SeCu": dict(n_epochs=40, batch_size=32)}


@pytest.mark.parametrize("make", FACTORIES, ids=ids)
def test_images_with_conv_encoder(make, digits):
    X, y = digits
    est = make(n_clusters=10, image_shape=(1, 8, 8), hidden_dims=(16, 32), **IMAGE_RUN[type(make()).__name__])
    est.fit(X)
    assert any(isinstance(m, nn.Conv2d) for m in est.network_.modules()) and est.transform(X).shape[0] == 600
    assert clustering_accuracy(y, est.labels_) > 0.4  # chance is ~0.11; a short run on 600 images


@pytest.mark.parametrize("make", FACTORIES, ids=ids)
def test_custom_encoder_and_augment(make, blobs):
    X, _ = blobs
    calls = {"n": 0}

    def augment(x, gen):
        calls["n"] += 1
        return x + 0.1 * torch.randn(x.shape, generator=gen, device=x.device)

    torch.manual_seed(0)
    enc = nn.Sequential(nn.Linear(6, 16), nn.ReLU())
    weights = enc[0].weight.detach().clone()
    est = make(n_clusters=4, encoder=enc, augment=augment, n_epochs=5).fit(X)
    steps = sum(r["steps"] for r in est.history_)
    # two views per step, plus one dry run that checks the augmentation's output before training
    assert steps >= 5 * (300 // 32) and calls["n"] == 2 * steps + 1
    assert torch.equal(enc[0].weight, weights)  # the user's module is copied, not trained in place
    trained = [m for m in est.network_.modules() if isinstance(m, nn.Linear) and m.in_features == 6]
    assert trained and not torch.equal(trained[0].weight.cpu(), weights)


@pytest.mark.parametrize("make", FACTORIES, ids=ids)
def test_default_tabular_view_swaps_entries_with_neighbors(make, blobs, digits, monkeypatch):
    """Rows the estimator augments itself swap entries with their nearest rows; images and a user's augment do not."""
    from skdeepclust import single_view
    from skdeepclust.augment import NeighborSwap

    calls = {"n": 0}
    original = NeighborSwap.__call__

    def counting(self, x, idx, gen):
        calls["n"] += 1
        return original(self, x, idx, gen)

    monkeypatch.setattr(NeighborSwap, "__call__", counting)
    X, _ = blobs
    est = make(n_clusters=4, n_epochs=2).fit(X)
    steps = sum(r["steps"] for r in est.history_)
    assert calls["n"] == 2 * steps
    assert single_view.NEIGHBOR_SWAP_PROB == 0.5 and single_view.NEIGHBOR_SWAP_NEIGHBORS == 10
    calls["n"] = 0
    make(n_clusters=4, n_epochs=2, augment=lambda x, g: x).fit(X)
    Xi, _ = digits
    make(n_clusters=10, image_shape=(1, 8, 8), hidden_dims=(8,), n_epochs=1).fit(Xi[:200])
    assert calls["n"] == 0


@pytest.mark.parametrize("make", FACTORIES, ids=ids)
def test_determinism_and_pickle(make, blobs):
    X, _ = blobs
    a = make(n_clusters=4, n_epochs=5, random_state=3).fit(X)
    b = make(n_clusters=4, n_epochs=5, random_state=3).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_allclose(restored.transform(X), a.transform(X))


@pytest.mark.parametrize("make", FACTORIES, ids=ids)
def test_bad_image_input(make, digits):
    X, _ = digits
    with pytest.raises(ValueError, match="has 49 pixels per image but X has 64 features"):
        make(image_shape=(1, 7, 7)).fit(X)
    with pytest.raises(ValueError, match="divide 8-bit images by 255"):
        make(image_shape=(1, 8, 8)).fit(X * 16)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        make(image_shape=(8, 8)).fit(X)
    with pytest.raises(ValueError, match="n_clusters=700 must be <= n_samples=600"):
        make(n_clusters=700).fit(X)


# ---------------------------------------------------------------- method-specific
def test_hadis_embedding_centres_and_warmup(blobs, fitted):
    X, _ = blobs
    est = fitted["HaDis"]
    assert est.cluster_centers_.shape == (4, 8)
    np.testing.assert_allclose(np.linalg.norm(est.cluster_centers_, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(est.transform(X), axis=1), 1.0, rtol=1e-6)
    assert {"dsa", "hsd", "psl"} <= set(est.history_[-1])
    assert "psl" not in est.history_[0]  # warm-up: no prototype term


def test_hadis_final_clustering(blobs, fitted):
    X, y = blobs
    spec = fitted["HaDis"]  # final_clustering="spectral" (the default)
    # spectral labels are the fit's labels; predict is the k-NN vote of the training embedding
    assert spec.train_embedding_.shape == (X.shape[0], 8)
    np.testing.assert_array_equal(spec.labels_, spec._label_map_[spec.train_labels_])
    assert adjusted_rand_score(y, spec.labels_) > 0.9
    assert (spec.predict(X) == spec.labels_).mean() > 0.95
    np.testing.assert_allclose(np.linalg.norm(spec.cluster_centers_, axis=1), 1.0, rtol=1e-5)
    # k-means: the reference's final clustering, predict = nearest centre, no stored embedding
    km = small_hadis(n_clusters=4, final_clustering="kmeans").fit(X)
    assert km.train_embedding_ is None and km.train_labels_ is None
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    emb = km.transform(X)
    np.testing.assert_array_equal(km._label_map_[(emb @ km.cluster_centers_.T).argmax(1)], km.labels_)
    # the training itself does not depend on the final clustering
    np.testing.assert_allclose(spec.transform(X), emb, rtol=1e-6)
    # as many clusters as samples: every sample its own cluster, and predict agrees
    tiny = small_hadis(n_clusters=3, n_epochs=2).fit(X[:3])
    assert sorted(tiny.labels_) == [0, 1, 2]
    np.testing.assert_array_equal(tiny.predict(X[:3]), tiny.labels_)


def test_hadis_final_clustering_auto_keeps_the_more_modular_labels():
    """``"auto"`` computes both final clusterings and keeps the one the input's neighbour graph agrees with."""
    from sklearn.datasets import load_iris

    from skdeepclust._utils import FitContext
    from skdeepclust.hadis import _final_clustering, _kmeans_clustering, _spectral_clustering
    from skdeepclust.metrics import _scoring_graph

    X = load_iris().data
    emb = torch.nn.functional.normalize(torch.as_tensor((X - X.mean(0)) / X.std(0), dtype=torch.float32), dim=1)

    def ctx():
        return FitContext(torch.device("cpu"), torch.Generator().manual_seed(0), torch.Generator().manual_seed(0),
                          np.random.default_rng(0))

    by_kmeans = _kmeans_clustering(emb, 3, 3, ctx()).labels
    by_spectral = _spectral_clustering(emb, 3, 10, ctx()).labels
    assert adjusted_rand_score(by_kmeans, by_spectral) < 0.95  # the two differ here, so the choice matters
    rng = np.random.default_rng(0)
    for winner, labels in (("kmeans", by_kmeans), ("spectral", by_spectral)):
        reference = 10.0 * np.eye(3)[labels] + rng.normal(size=(len(labels), 3))  # a graph that follows `labels`
        chosen = _final_clustering(emb, 3, "auto", 10, 3, ctx(), _scoring_graph(reference))
        assert chosen.method == winner
        np.testing.assert_array_equal(chosen.labels, labels)
    # on an estimator: the kept clustering is recorded, and predict follows it
    est = small_hadis(n_clusters=3, final_clustering="auto", random_state=0).fit(X)
    assert est.final_clustering_ in {"kmeans", "spectral"}
    assert (est.train_labels_ is None) == (est.final_clustering_ == "kmeans")
    if est.final_clustering_ == "kmeans":
        np.testing.assert_array_equal(est.predict(X), est.labels_)
    assert small_hadis(n_clusters=3, random_state=0).fit(X).final_clustering_ == "spectral"


def test_hadis_auto_neighbor_count_keeps_the_most_modular_labels():
    """``n_neighbors="auto"`` clusters the graphs of several neighbour counts and leaves 10 only for labels the
    input's graph clearly prefers; ``n_neighbors_`` records the count, which ``predict``'s vote uses."""
    from sklearn.datasets import load_iris

    from skdeepclust._utils import FitContext
    from skdeepclust.cluster import spectral_knn, spectral_knn_counts
    from skdeepclust.hadis import NEIGHBOR_COUNTS, NEIGHBOR_MARGIN, _pick_count, _spectral_clustering
    from skdeepclust.metrics import _scoring_graph

    X = load_iris().data
    emb = torch.nn.functional.normalize(torch.as_tensor((X - X.mean(0)) / X.std(0), dtype=torch.float32), dim=1)

    def ctx():
        return FitContext(torch.device("cpu"), torch.Generator().manual_seed(0), torch.Generator().manual_seed(0),
                          np.random.default_rng(0))

    candidates = spectral_knn_counts(emb, 3, NEIGHBOR_COUNTS, ctx().seed_for_sklearn())
    assert list(candidates) == list(NEIGHBOR_COUNTS)
    for count, labels in candidates.items():  # one neighbour search, the same labels as one graph per count
        np.testing.assert_array_equal(labels, spectral_knn(emb, 3, count, ctx().seed_for_sklearn()))
    rng = np.random.default_rng(0)
    for count in (5, 30):  # their labels differ from the 10-neighbour graph's here
        assert adjusted_rand_score(candidates[count], candidates[10]) < 0.95
        reference = 10.0 * np.eye(3)[candidates[count]] + rng.normal(size=(len(X), 3))  # follows that count's labels
        chosen = _spectral_clustering(emb, 3, "auto", ctx(), _scoring_graph(reference))
        assert chosen.n_neighbors == count  # its labels beat the 10-neighbour ones by far more than the margin
        np.testing.assert_array_equal(chosen.labels, candidates[count])
    # a small lead does not move the count from 10; a lead past the margin does
    assert _pick_count({5: 0.50, 10: 0.50, 15: 0.49 + NEIGHBOR_MARGIN, 30: 0.52}) == 10
    assert _pick_count({5: 0.50, 10: 0.50, 15: 0.51 + NEIGHBOR_MARGIN, 30: 0.52}) == 15
    assert _pick_count({5: 0.7, 7: 0.4}) == 5  # few rows: the counts are capped, the reference is the nearest to 10
    # the estimator: the default picks a count, records it, and predict follows the training labels
    est = small_hadis(n_clusters=3, random_state=0).fit(X)
    assert est.n_neighbors == "auto" and est.n_neighbors_ in NEIGHBOR_COUNTS
    assert (est.predict(X) == est.labels_).mean() > 0.9
    assert small_hadis(n_clusters=3, n_neighbors=7, random_state=0).fit(X).n_neighbors_ == 7
    assert small_hadis(n_clusters=3, final_clustering="kmeans", random_state=0).fit(X).n_neighbors_ is None


def test_hadis_ablations(blobs):
    X, _ = blobs
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "ablations.py"
    spec = importlib.util.spec_from_file_location("ablations", path)
    ablations = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ablations)
    no_hsd = ablations.HaDisNoHSD(**small_hadis(n_clusters=4, n_epochs=5).get_params()).fit(X)
    no_psl = small_hadis(n_clusters=4, prototype_weight=0.0, n_epochs=5).fit(X)
    assert "hsd" not in no_hsd.history_[-1] and "psl" in no_hsd.history_[-1]
    assert "psl" not in no_psl.history_[-1] and "hsd" in no_psl.history_[-1]
    assert type(clone(no_hsd)) is ablations.HaDisNoHSD  # the ablation is a class, not a parameter


def test_mtdc_balance_ablation(blobs):
    """The ablation's balance weight reaches the loss, and only the balance term changes."""
    from skdeepclust.losses import entropy_balance
    from skdeepclust.mtdc import _cc_terms

    g = torch.Generator().manual_seed(0)
    za, zb = torch.randn(16, 8, generator=g), torch.randn(16, 8, generator=g)
    ca, cb = torch.rand(16, 4, generator=g).softmax(1), torch.rand(16, 4, generator=g).softmax(1)
    full, weak = _cc_terms(za, zb, ca, cb, 0.5, 1.0), _cc_terms(za, zb, ca, cb, 0.5, 1.0, entropy_weight=0.1)
    assert weak["instance"] == full["instance"]
    torch.testing.assert_close(full["cluster"] - weak["cluster"], 0.9 * (entropy_balance(ca) + entropy_balance(cb)))
    # on the estimator: one step on one batch, from the same weights and draws
    X, _ = blobs
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "ablations.py"
    spec = importlib.util.spec_from_file_location("ablations", path)
    ablations = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ablations)
    params = small_mtdc(n_clusters=4, n_epochs=1, batch_size=X.shape[0], random_state=0).get_params()
    weak_fit, full_fit = ablations.MTDCWeakBalance(**params).fit(X), small_mtdc(**params).fit(X)
    assert weak_fit.history_[0]["instance"] == full_fit.history_[0]["instance"]
    assert weak_fit.history_[0]["cluster"] < full_fit.history_[0]["cluster"]
    assert type(clone(weak_fit)) is ablations.MTDCWeakBalance


def test_mtdc_zero_weights_give_cc_baseline(blobs):
    X, _ = blobs
    mtdc = small_mtdc(n_clusters=4, n_epochs=3).fit(X)
    cc = small_mtdc(n_clusters=4, n_epochs=3, hcr_weight=0.0, supcon_weight=0.0).fit(X)
    assert {"instance", "cluster", "hcr", "pcl"} <= set(mtdc.history_[-1])
    assert "hcr" not in cc.history_[-1] and "pcl" not in cc.history_[-1]
    assert cc.n_epochs_warmup_ == 3 and [r["stage"] for r in cc.history_] == ["cc"] * 3  # all of it CC
    np.testing.assert_allclose(cc.transform(X).sum(1), 1.0, rtol=1e-6)


def test_mtdc_zero_weight_term_is_left_out(blobs):
    X, _ = blobs
    no_hcr = small_mtdc(n_clusters=4, n_epochs=2, n_epochs_warmup=0, hcr_weight=0.0).fit(X)
    no_pcl = small_mtdc(n_clusters=4, n_epochs=2, n_epochs_warmup=0, supcon_weight=0.0).fit(X)
    assert "hcr" not in no_hcr.history_[-1] and "pcl" in no_hcr.history_[-1]
    assert "pcl" not in no_pcl.history_[-1] and "hcr" in no_pcl.history_[-1]
    assert [r["stage"] for r in no_pcl.history_] == ["mtdc"] * 2


def test_mtdc_mutual_warmup_trains_cc_first(blobs):
    X, _ = blobs
    est = small_mtdc(n_clusters=4, n_epochs=5, n_epochs_warmup=2).fit(X)
    assert [r["stage"] for r in est.history_] == ["cc"] * 2 + ["mtdc"] * 3
    assert "hcr" not in est.history_[1] and {"hcr", "pcl"} <= set(est.history_[2])
    # a warm-up as long as the schedule is the CC baseline, step for step
    cc = small_mtdc(n_clusters=4, n_epochs=3, hcr_weight=0.0, supcon_weight=0.0, random_state=3).fit(X)
    warm = small_mtdc(n_clusters=4, n_epochs=3, n_epochs_warmup=10, random_state=3).fit(X)
    np.testing.assert_array_equal(warm.labels_, cc.labels_)
    assert [r["stage"] for r in warm.history_] == ["cc"] * 3
    half = small_mtdc(n_clusters=4, n_epochs=5, n_epochs_warmup="auto").fit(X)
    assert half.n_epochs_warmup_ == 2 and [r["stage"] for r in half.history_] == ["cc"] * 2 + ["mtdc"] * 3


@pytest.mark.parametrize(
    "make, module", [(small_hadis, "hadis"), (small_mtdc, "mtdc")], ids=["HaDis", "MTDC"],
)
def test_default_schedule_is_set_in_steps(make, module, monkeypatch, blobs):
    monkeypatch.setattr(importlib.import_module(f"skdeepclust.{module}"), "DEFAULT_STEPS", 40)
    X, _ = blobs
    est = make(n_clusters=4, n_epochs="auto", batch_size=64).fit(X)  # 4 full batches per epoch
    assert est.n_epochs_ == 10 and len(est.history_) == 10
    assert sum(h["steps"] for h in est.history_) == 40
    assert make(n_clusters=4, n_epochs=3, batch_size=64).fit(X).n_epochs_ == 3


def test_hadis_default_warmup_is_a_tenth_of_the_epochs(blobs):
    X, _ = blobs
    est = small_hadis(n_clusters=4, n_epochs=20, n_epochs_warmup="auto").fit(X[:64])  # 2 steps per epoch
    assert est.n_epochs_warmup_ == 2
    assert "psl" not in est.history_[1] and "psl" in est.history_[2]


def test_hadis_predict_voters_bounded(monkeypatch, blobs):
    from skdeepclust import hadis

    X, _ = blobs
    monkeypatch.setattr(hadis, "PREDICT_VOTERS_MAX_ROWS", 100)  # 300 training rows: a subsample votes
    est = small_hadis(n_clusters=4).fit(X)
    n_voters = est.train_embedding_.shape[0]
    assert 100 - 4 <= n_voters <= 100 + 4 * est.n_neighbors_ and est.train_labels_.shape == (n_voters,)
    assert est.labels_.shape == (300,)
    # every cluster keeps voters, in proportion to its size
    sizes = np.bincount(est.labels_, minlength=4)
    kept = np.bincount(est._label_map_[est.train_labels_], minlength=4)
    np.testing.assert_allclose(kept / n_voters, sizes / 300, atol=0.05)
    assert (est.predict(X) == est.labels_).mean() > 0.9


def test_mtdc_auto_batch_keeps_rows_per_cluster(monkeypatch, blobs):
    """``batch_size="auto"``: 256 rows up to 25 clusters, 10 per cluster beyond, and the rows of the schedule kept."""
    import skdeepclust.mtdc as mtdc

    monkeypatch.setattr(mtdc, "DEFAULT_STEPS", 40)
    X, _ = blobs  # 300 rows
    few = small_mtdc(n_clusters=4, n_epochs="auto", batch_size="auto").fit(X)
    assert few.batch_size_ == 256 and sum(h["steps"] for h in few.history_) == 40  # one batch of 256 per epoch
    many = small_mtdc(n_clusters=28, n_epochs="auto", batch_size="auto").fit(X[:290])
    assert many.batch_size_ == 280  # 10 rows per cluster
    assert sum(h["steps"] for h in many.history_) == 37  # ceil(40 * 256 / 280) steps of 280 rows
    assert small_mtdc(n_clusters=4, batch_size=64, n_epochs=1).fit(X).batch_size_ == 64
    with pytest.raises(ValueError, match="batch_size"):
        small_mtdc(n_clusters=4, batch_size="big").fit(X)
