"""A fit is all-or-nothing; Ctrl-C gives a usable model or the pre-fit state; bad input gets a clear error."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from torch import nn

import skdeepclust.base
import skdeepclust.distilmvc
import skdeepclust.spc
import skdeepclust.training._trainer
from skdeepclust import MTDC, SPC, DistilMVC, HaDis, SeCu
from skdeepclust.spc import _embed_and_cluster
from skdeepclust.training import epoch_batches, n_batches

from ._instances import small_distilmvc, small_hadis, small_mtdc, small_secu, small_spc

FAST = {
    "DistilMVC": lambda **kw: small_distilmvc(**{"n_epochs_pretrain": 1, "n_epochs_contrastive": 1,
                                                 "n_epochs_distill": 1, **kw}),
    "HaDis": lambda **kw: small_hadis(**{"n_epochs": 2, "n_epochs_warmup": 1, **kw}),
    "MTDC": lambda **kw: small_mtdc(**{"n_epochs": 2, **kw}),
    "SeCu": lambda **kw: small_secu(**{"n_epochs": 2, "n_epochs_warmup": 0, **kw}),
    "SPC": lambda **kw: small_spc(**{"n_epochs_pretrain": 1, "n_epochs_round": 1, **kw}),
}
NAMES = sorted(FAST)


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)
    return X


def _snapshot(est):
    """Everything fitted, pickled: equal snapshots mean the estimator was not touched."""
    return pickle.dumps({k: v for k, v in vars(est).items() if k.endswith("_")})


# ---------------------------------------------------------------------------------------------- all-or-nothing
@pytest.mark.parametrize("name", NAMES)
def test_failed_fit_leaves_fresh_estimator_unfitted(name, blobs, monkeypatch):
    est = FAST[name]()

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(type(est), "_inference_modules", boom)  # fails after training, before labels_
    with pytest.raises(RuntimeError, match="boom"):
        est.fit(blobs)
    assert not [k for k in vars(est) if k.endswith("_")]
    with pytest.raises(NotFittedError):
        est.predict(blobs)


@pytest.mark.parametrize("name", NAMES)
def test_failed_refit_keeps_the_old_model(name, blobs, monkeypatch):
    est = FAST[name]().fit(blobs)
    before, labels, pred = _snapshot(est), est.labels_.copy(), est.predict(blobs)
    wide = np.hstack([blobs, blobs])
    with pytest.raises(ValueError, match="float32 range"):  # validation fails
        est.fit(wide * 1e39)

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(type(est), "_inference_modules", boom)  # training done, labelling fails
    with pytest.raises(RuntimeError, match="boom"):
        est.fit(wide)
    monkeypatch.undo()
    assert _snapshot(est) == before
    np.testing.assert_array_equal(est.labels_, labels)
    np.testing.assert_array_equal(est.predict(blobs), pred)
    assert est.n_features_in_ == blobs.shape[1]


@pytest.mark.parametrize("name", NAMES)
def test_successful_refit_drops_stale_attributes(name, blobs):
    est = FAST[name]().fit(blobs)
    est.stale_attribute_ = 1
    est.fit(blobs[:40, :3])
    assert not hasattr(est, "stale_attribute_")
    assert est.n_features_in_ == 3 and est.labels_.shape == (40,)


# ---------------------------------------------------------------------------------------------- Ctrl-C
def _interrupt_on_call(n):
    calls = {"n": 0}

    def maybe_interrupt():
        calls["n"] += 1
        if calls["n"] >= n:
            raise KeyboardInterrupt

    return maybe_interrupt


@pytest.mark.parametrize("name", NAMES)
def test_interrupt_before_the_networks_exist_reraises_and_keeps_state(name, blobs, monkeypatch):
    est = FAST[name]()
    real = skdeepclust.base.make_fit_context

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skdeepclust.base, "make_fit_context", interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.fit(blobs)
    with pytest.raises(NotFittedError):
        est.predict(blobs)
    monkeypatch.setattr(skdeepclust.base, "make_fit_context", real)
    est.fit(blobs)
    before = _snapshot(est)
    monkeypatch.setattr(skdeepclust.base, "make_fit_context", interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.fit(blobs[:, :3])
    assert _snapshot(est) == before


@pytest.mark.parametrize("name", ["DistilMVC", "HaDis", "MTDC", "SeCu"])
def test_interrupt_during_training_keeps_a_usable_model(name, blobs, monkeypatch):
    est = FAST[name](**({"n_epochs_contrastive": 3} if name == "DistilMVC" else {}))
    tick = _interrupt_on_call(2)
    real = skdeepclust.training._trainer.epoch_batches

    def batches(*args, **kwargs):
        tick()  # Ctrl-C at the start of the second epoch
        return real(*args, **kwargs)

    monkeypatch.setattr(skdeepclust.training._trainer, "epoch_batches", batches)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        est.fit(blobs)
    assert est.interrupted_ and len(est.history_) == 1
    assert est.labels_.shape == (60,)
    assert est.predict(blobs).shape == (60,)
    assert np.isfinite(est.transform(blobs)).all()


def test_interrupt_in_distilmvc_pseudo_labels_keeps_a_usable_model(blobs, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skdeepclust.distilmvc, "spectral_graph", interrupted)  # the consensus pseudo-labels
    est = FAST["DistilMVC"]()
    with pytest.warns(RuntimeWarning, match="after stage 'contrastive'"):
        est.fit(blobs)
    assert est.interrupted_ and not hasattr(est, "pseudo_labels_")
    assert est.predict(blobs).shape == (60,)


def test_spc_interrupts(blobs, monkeypatch):
    real = skdeepclust.spc._embed_and_cluster
    tick = {"n": 0, "at": 1}

    def vote(*args, **kwargs):
        tick["n"] += 1
        if tick["n"] >= tick["at"]:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(skdeepclust.spc, "_embed_and_cluster", vote)
    est = FAST["SPC"](n_members=1, max_rounds=2, n_jobs=None)
    with pytest.raises(KeyboardInterrupt):  # during the first vote: nothing clustered yet
        est.fit(blobs)
    with pytest.raises(NotFittedError):
        est.predict(blobs)
    tick.update(n=0, at=2)  # the first vote done, Ctrl-C in round 1's vote
    with pytest.warns(RuntimeWarning, match="interrupted"):
        est.fit(blobs)
    assert est.interrupted_ and est.best_round_ == 0
    np.testing.assert_array_equal(est.labels_, est.rounds_[0]["labels"])
    assert est.predict(blobs).shape == (60,)


# ---------------------------------------------------------------------------------------------- batches
@pytest.mark.parametrize("n, batch, drop_last", [(129, 128, False), (257, 128, False), (33, 32, False),
                                                 (64, 32, False), (5, 8, False), (33, 32, True), (2, 1, False)])
def test_epoch_batches_never_leave_one_row(n, batch, drop_last):
    from skdeepclust._utils import make_fit_context

    ctx = make_fit_context(0, torch.device("cpu"))
    parts = epoch_batches(n, batch, drop_last, True, ctx)
    sizes = [len(p) for p in parts]
    assert len(parts) == n_batches(n, batch, drop_last)
    if batch > 1:
        assert min(sizes) >= 2
    covered = torch.cat(parts)
    assert len(set(covered.tolist())) == len(covered)
    if not drop_last:
        assert len(covered) == n


@pytest.mark.parametrize("n", [129, 257])
def test_secu_default_batch_with_a_one_row_remainder(n):
    X = np.random.default_rng(0).normal(size=(n, 5))
    est = SeCu(n_clusters=3, n_epochs=1, device="cpu", random_state=0).fit(X)
    assert est.labels_.shape == (n,) and est.history_[0]["steps"] == n // 128


# ---------------------------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("params", [{"n_clusters": True}, {"hidden_dims": (0,)}, {"hidden_dims": (-3,)},
                                    {"hidden_dims": ()}, {"hidden_dims": (2.5,)}, {"hidden_dims": ("a",)},
                                    {"batch_size": False}])
def test_structural_parameters_are_validated(name, params, blobs):
    key = next(iter(params))
    with pytest.raises(ValueError, match=f"'{key}' parameter"):
        FAST[name](**params).fit(blobs)


def test_image_shape_must_be_three_positive_ints(blobs):
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        FAST["HaDis"](image_shape=(1, 2, 0)).fit(blobs)


# ---------------------------------------------------------------------------------------------- input
def test_distilmvc_refuses_a_nested_list():
    X = np.random.default_rng(0).normal(size=(80, 5))
    with pytest.raises(ValueError, match="nested list"):
        FAST["DistilMVC"]().fit(X[:, :, None].tolist())
    assert FAST["DistilMVC"](n_clusters=2).fit(X.tolist()).labels_.shape == (80,)  # rows as lists: fine


@pytest.mark.parametrize("name", NAMES)
def test_degenerate_data(name):
    with pytest.raises(ValueError, match="rows of X are identical"):
        FAST[name](n_clusters=3).fit(np.ones((40, 5)))
    assert FAST[name](n_clusters=1).fit(np.ones((40, 5))).labels_.tolist() == [0] * 40
    X = np.repeat(np.eye(5)[:2], 20, axis=0)  # two distinct rows
    est = FAST[name](n_clusters=2).fit(X)
    assert set(est.labels_) <= {0, 1} and np.isfinite(est.transform(X)).all()


@pytest.mark.parametrize("embedding", ["tsne", "umap", None])
def test_spc_voter_with_identical_codes_abstains(embedding):
    labels = _embed_and_cluster(np.ones((40, 5)), 3, embedding, 10, 0)
    np.testing.assert_array_equal(labels, 0)  # one cluster: ensemble_vote does not count this voter


@pytest.mark.parametrize("embedding", ["tsne", "umap"])
@pytest.mark.parametrize("n", [3, 4, 6])
def test_spc_tiny_data(embedding, n):
    X = np.random.default_rng(0).normal(size=(n, 5))
    est = SPC(n_clusters=3, n_members=2, embedding=embedding, n_epochs_pretrain=1, max_rounds=1, n_epochs_round=1,
              device="cpu", random_state=0).fit(X)
    assert est.labels_.shape == (n,) and est.labels_.max() < 3


@pytest.mark.parametrize("name", NAMES)
def test_values_beyond_float32(name, blobs):
    with pytest.raises(ValueError, match="float32 range"):
        FAST[name]().fit(blobs * 1e39)


class _Wrong3D(nn.Module):
    def forward(self, x):
        return x[:, None, :]


class _Raises(nn.Module):
    def forward(self, x):
        raise RuntimeError("user bug")


class _LyingWidth(nn.Sequential):
    out_dim = 99


@pytest.mark.parametrize("name", ["HaDis", "MTDC", "SeCu"])
@pytest.mark.parametrize("encoder, match", [(_Wrong3D(), "encoder must map"), (_Raises(), "encoder failed.*user bug"),
                                            (_LyingWidth(nn.Linear(4, 8)), "out_dim is 99")])
def test_bad_encoder(name, encoder, match, blobs):
    with pytest.raises(ValueError, match=match):
        FAST[name](encoder=encoder).fit(blobs)


@pytest.mark.parametrize("name", ["HaDis", "MTDC", "SeCu"])
@pytest.mark.parametrize("augment, match", [(lambda x, g: x[:, :2], "shape of x"),
                                            (lambda x, g: x.numpy(), "float tensor"),
                                            (lambda x: x, "augment.*failed")])
def test_bad_augment(name, augment, match, blobs):
    with pytest.raises(ValueError, match=match):
        FAST[name](augment=augment).fit(blobs)


@pytest.mark.parametrize("cls", [DistilMVC, HaDis, MTDC, SeCu, SPC])
def test_random_state_generator_is_refused(cls, blobs):
    with pytest.raises(ValueError, match="random_state"):
        cls(random_state=np.random.default_rng(0)).fit(blobs)


# ---------------------------------------------------------------- fewer clusters than asked for
def test_collapsed_fit_warns_with_the_count():
    """A fit whose training labels use fewer than n_clusters clusters says so, with the count (as KMeans does)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6))
    # no contrastive or distillation stage: the cluster head stays at its random start, which uses few of 20 clusters
    est = DistilMVC(n_clusters=20, view_sizes=(3, 3), hidden_dims=(8,), latent_dim=4, projection_hidden_dim=4,
                    feature_dim=4, n_epochs_pretrain=1, n_epochs_contrastive=0, n_epochs_distill=0,
                    device="cpu", random_state=0)
    match = r"distinct clusters \((\d+)\) found smaller than n_clusters \(20\)"
    with pytest.warns(ConvergenceWarning, match=match) as rec:
        est.fit(X)
    n_used = len(np.unique(est.labels_))
    assert n_used < 20
    assert f"({n_used})" in str(rec[0].message)


def test_fit_using_every_cluster_does_not_warn():
    import warnings

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    X = np.hstack([rng.normal(size=(40, 5)) + 4 * y[:, None], rng.normal(size=(40, 3)) - 4 * y[:, None]])
    est = DistilMVC(n_clusters=2, view_sizes=(5, 3), hidden_dims=(32,), latent_dim=16, projection_hidden_dim=16,
                    feature_dim=8, n_epochs_pretrain=20, n_epochs_contrastive=50, n_epochs_distill=50,
                    batch_size=10, lr=1e-3, device="cpu", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X)
    assert len(np.unique(est.labels_)) == 2
