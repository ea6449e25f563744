"""SPC: latent noise, the ensemble vote, the batched ensemble networks and the estimator."""

import sys

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.datasets import make_blobs

import skdeepclust.spc
from skdeepclust import SPC
from skdeepclust._utils import build_module
from skdeepclust.metrics import clustering_accuracy
from skdeepclust.nn import EnsembleConvAutoencoder, EnsembleMLPAutoencoder
from skdeepclust.spc import ensemble_vote, relative_latent_noise

from ._instances import SPCRawCodes, small_spc


def test_relative_latent_noise_hand_computed():
    z = torch.zeros(2, 2, 3)
    out = relative_latent_noise(z, 1.5, torch.Generator().manual_seed(0))
    eps = torch.randn(2, 2, 3, generator=torch.Generator().manual_seed(0))
    for m in range(2):  # each member's noise is scaled by that member's own largest draw
        expected = 1.5 * eps[:, m] / eps[:, m].max()
        assert torch.allclose(out[:, m], expected)
        assert out[:, m].max() == pytest.approx(1.5)
    mask = torch.tensor([[True, False], [False, True]])
    out = relative_latent_noise(z, 1.0, torch.Generator().manual_seed(0), mask=mask)
    assert torch.allclose(out[:, 0], eps[:, 0] / eps[0, 0].max())  # member 0: row 0 only
    assert torch.allclose(out[:, 1], eps[:, 1] / eps[1, 1].max())
    assert relative_latent_noise(z, 0.0, torch.Generator()) is z


def test_ensemble_vote_aligns_votes_and_selects():
    pivot = np.array([0, 0, 1, 1, 2, 2])
    renamed = np.array([2, 2, 0, 0, 1, 1])  # same partition, other ids
    one_off = np.array([1, 0, 0, 0, 2, 2])  # ids renamed, and sample 1 moved to the cluster of samples 2, 3
    labels, sel, n = ensemble_vote([pivot, renamed, one_off], 3, threshold=1.0)
    assert n == 3
    np.testing.assert_array_equal(labels, pivot)
    np.testing.assert_array_equal(sel, [True, False, True, True, True, True])
    # 2 of 3 votes reach a 1/1.2 threshold? 2 < 3/1.2 = 2.5: not selected
    _, sel, _ = ensemble_vote([pivot, renamed, one_off], 3, threshold=1 / 1.2)
    assert not sel[1]
    _, sel, _ = ensemble_vote([pivot, renamed, one_off], 3, threshold=0.6)
    assert sel.all()
    # a voter that does not use all K clusters is not counted
    degenerate = np.zeros(6, dtype=int)
    labels, sel, n = ensemble_vote([degenerate, pivot, renamed], 3, threshold=1.0)
    assert n == 2 and sel.all()
    np.testing.assert_array_equal(labels, pivot)  # pivot = first counted voter
    # an explicit pivot fixes the ids
    labels, _, _ = ensemble_vote([pivot, renamed], 3, threshold=1.0, pivot=renamed)
    np.testing.assert_array_equal(labels, renamed)


@pytest.mark.parametrize(
    "factory, d",
    [
        (lambda: EnsembleMLPAutoencoder(3, 10, (8,), 4), 10),
        (lambda: EnsembleConvAutoencoder(3, (1, 16, 16), 5), 256),
    ],
)
def test_ensemble_members_are_independent(factory, d):
    net = build_module(factory, torch.Generator().manual_seed(0))
    x = torch.rand(6, 3, d, requires_grad=True)
    z = net.encode(x)
    rec = net.decode(z)
    assert z.shape[:2] == (6, 3) and rec.shape == x.shape
    rec[:, 1].sum().backward()  # member 1's output depends on member 1's input only
    assert x.grad[:, 1].abs().sum() > 0
    assert x.grad[:, 0].abs().sum() == 0 and x.grad[:, 2].abs().sum() == 0


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 16, 16), (1, 28, 28), (1, 32, 32), (3, 30, 30), (1, 20, 12)])
def test_conv_autoencoder_reconstructs_any_image_size(shape):
    net = build_module(lambda: EnsembleConvAutoencoder(2, shape, 50), torch.Generator().manual_seed(0))
    x = torch.rand(3, 2, int(np.prod(shape)))
    out = net.decode(net.encode(x))
    assert out.shape == x.shape and out.abs().max() < 1


def _agreement_by_hand(voters, labels, k):
    """How many voters give each row the cluster ``labels`` gives it, each voter renamed to ``labels``' ids first."""
    agree = np.zeros(labels.size, dtype=int)
    for lab in voters:
        rows, cols = linear_sum_assignment(-np.histogram2d(lab, labels, bins=(k, k), range=((0, k), (0, k)))[0])
        agree += np.asarray(cols)[np.argsort(rows)][lab] == labels
    return agree


def test_spc_clusters_blobs_with_umap(monkeypatch):
    X, y = make_blobs(n_samples=300, centers=4, n_features=10, cluster_std=1.5, random_state=3)
    n_threads = torch.get_num_threads()
    votes = []  # every vote's voter labellings
    label_voters = skdeepclust.spc.label_voters

    def recorded(*args, **kwargs):
        votes.append(label_voters(*args, **kwargs))
        return votes[-1]

    monkeypatch.setattr(skdeepclust.spc, "label_voters", recorded)
    est = small_spc(n_clusters=4, embedding="umap", n_members=3, n_epochs_round=10, max_rounds=2, patience=1).fit(X)
    assert torch.get_num_threads() == n_threads  # numba's OpenMP start-up in UMAP must not change torch's threads
    assert clustering_accuracy(y, est.labels_) > 0.95
    assert [r["round"] for r in est.rounds_][:2] == [0, 1]
    assert len(votes) == len(est.rounds_)
    for r, voters in zip(est.rounds_, votes, strict=True):
        # 3 members and their concatenation, each clustering the blobs into 4; a row is selected when at least
        # 1/1.2 of them (4 of 4) give it the vote's cluster
        assert r["n_voters"] == len(voters) == 4 and all(np.unique(v).size == 4 for v in voters)
        agree = _agreement_by_hand(voters, r["labels"], 4)
        np.testing.assert_array_equal(r["selected"], agree >= 4)
    # the kept round is the last with the largest selected fraction among the trained rounds; labels_ is its vote
    fractions = [r["fraction_selected"] for r in est.rounds_[1:]]
    assert est.best_round_ == 1 + max(i for i, f in enumerate(fractions) if f == max(fractions))
    np.testing.assert_array_equal(est.labels_, est.rounds_[est.best_round_]["labels"])
    assert est.rounds_[est.best_round_]["fraction_selected"] > 0.9  # the voters agree on separated blobs
    # predict (the heads) agrees with the ensemble vote on the rows it selected, and finds the blobs itself
    pred, sel = est.predict(X), est.rounds_[est.best_round_]["selected"]
    assert (pred[sel] == est.labels_[sel]).mean() > 0.95
    assert clustering_accuracy(y, pred) > 0.95
    assert est.transform(X).shape == (300, 3 * est.latent_dim)


def test_spc_raw_codes_variant_clusters_the_codes():
    X, y = make_blobs(n_samples=120, centers=3, n_features=6, random_state=0)
    est = SPCRawCodes(n_clusters=3, n_members=2, hidden_dims=(32,), latent_dim=4, n_epochs_pretrain=5,
                      n_epochs_round=2, max_rounds=1, device="cpu", random_state=0).fit(X)
    assert est.rounds_[0]["n_voters"] == 3  # two members and their concatenation
    assert clustering_accuracy(y, est.labels_) > 0.95


def test_spc_rounds_history_and_kept_round():
    """The rounds are one trainer stage; each round's last epoch votes, and KeepBest keeps the best round."""
    X, _ = make_blobs(n_samples=80, centers=3, n_features=5, cluster_std=0.5, random_state=1)
    est = small_spc(n_clusters=3, n_epochs_pretrain=2, n_epochs_round=2, max_rounds=5, patience=2).fit(X)
    stages = [r["stage"] for r in est.history_]
    assert stages == ["pretrain"] * 2 + ["vote"] + ["rounds"] * (stages.count("rounds"))
    rows = [r for r in est.history_ if r["stage"] == "rounds"]
    assert [r["round"] for r in rows] == [e // 2 + 1 for e in range(len(rows))]
    ends = [r for r in rows if "fraction_selected" in r]
    assert ends == rows[1::2]
    assert [r["round"] for r in est.rounds_] == list(range(len(ends) + 1))
    for r in ends:
        assert r["checkpoint_score"] == r["fraction_selected"] == est.rounds_[r["round"]]["fraction_selected"]
    fractions = [r["fraction_selected"] for r in est.rounds_[1:]]
    # the last round with the largest selected fraction is kept; patience counts rounds without a larger one
    assert est.best_round_ == max(i + 1 for i, f in enumerate(fractions) if f == max(fractions))
    np.testing.assert_array_equal(est.labels_, est.rounds_[est.best_round_]["labels"])
    if len(ends) < 5:
        assert "stop" in ends[-1] and fractions.index(max(fractions)) == len(fractions) - 3
    assert est.n_iter_ == 2 + len(rows)  # epochs run (the vote is no epoch), the early end included


def test_cleared_adam_state_is_a_new_adam():
    """A round clears the optimizer's state instead of building a new Adam: the same computation."""
    gen = torch.Generator().manual_seed(0)
    w0, grads = torch.randn(5, generator=gen), torch.randn(6, 5, generator=gen)
    a, b = torch.nn.Parameter(w0.clone()), torch.nn.Parameter(w0.clone())
    opt_a, opt_b = torch.optim.Adam([a], lr=0.1, weight_decay=0.01), torch.optim.Adam([b], lr=0.1, weight_decay=0.01)
    for i, g in enumerate(grads):
        if i == 3:
            opt_a.state.clear()
            opt_b = torch.optim.Adam([b], lr=0.1, weight_decay=0.01)
        a.grad, b.grad = g.clone(), g.clone()
        opt_a.step()
        opt_b.step()
    assert torch.equal(a, b)


def test_spc_is_reproducible_and_keeps_global_rng():
    X, _ = make_blobs(n_samples=120, centers=3, n_features=6, random_state=0)
    torch.manual_seed(123)
    np.random.seed(123)
    state_t, state_np = torch.get_rng_state(), np.random.get_state()[1].copy()
    a = small_spc(n_clusters=3).fit(X)
    b = small_spc(n_clusters=3).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert torch.equal(torch.get_rng_state(), state_t)
    np.testing.assert_array_equal(np.random.get_state()[1], state_np)


def test_spc_images_and_bad_inputs():
    rng = np.random.default_rng(0)
    X = rng.random((40, 64))
    est = small_spc(n_clusters=2, image_shape=(1, 8, 8), n_members=2, n_epochs_pretrain=1, n_epochs_round=1)
    assert est.fit(X).autoencoder_ == "mlp"  # "auto" on the CPU
    est.set_params(autoencoder="conv")
    assert est.fit(X).transform(X).shape == (40, 2 * 4)
    assert est.autoencoder_ == "conv" and type(est.network_.ae).__name__ == "EnsembleConvAutoencoder"
    with pytest.raises(ValueError, match=r"pixel values must lie in \[0, 1\]"):
        small_spc(n_clusters=2, image_shape=(1, 8, 8)).fit(X * 255)
    with pytest.raises(ValueError, match="image_shape"):
        small_spc(n_clusters=2, autoencoder="conv").fit(X)
    with pytest.raises(ValueError, match="agreement_threshold"):
        small_spc(n_clusters=2, agreement_threshold=1.5).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        small_spc(n_clusters=2).fit(np.where(X > 0.99, np.nan, X))
    with pytest.raises(ValueError, match="n_samples=2"):
        small_spc(n_clusters=2).fit(X[:2])


def test_spc_without_umap_says_how_to_repair(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)  # a broken install: import umap -> ImportError
    X, _ = make_blobs(n_samples=30, centers=2, random_state=0)
    est = SPC(n_clusters=2, device="cpu")
    with pytest.raises(ImportError, match=r"pip install umap-learn.*embedding=\"tsne\""):
        est.fit(X)
    assert not hasattr(est, "labels_")
