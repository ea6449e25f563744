"""SeCu's own pieces: the loss terms' gradient properties and the constrained assignments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import make_blobs

from skdeepclust.metrics import clustering_accuracy
from skdeepclust.secu import (
    _dual_steps,
    entropy_constrained_assignment,
    refine_centers,
    secu_center_loss,
    secu_instance_loss,
    size_constrained_assignment,
)

from ._instances import small_secu


def test_center_loss_moves_only_own_centers_with_hardness_weights():
    g = torch.Generator().manual_seed(0)
    x = F.normalize(torch.randn(6, 4, generator=g), dim=1).requires_grad_(True)
    w = F.normalize(torch.randn(4, 5, generator=g), dim=0).requires_grad_(True)
    labels = torch.tensor([0, 0, 2, 2, 2, 3])  # centers 1 and 4 have no instance
    T = 0.05
    secu_center_loss(x, w, labels, T).backward()
    assert x.grad is None  # the encoder gets nothing from this loss
    assert torch.all(w.grad[:, [1, 4]] == 0)  # negatives never move a center
    p = torch.softmax(x.detach() @ w.detach() / T, dim=1)
    expected = torch.zeros(4, 5)
    for i, k in enumerate(labels.tolist()):
        expected[:, k] -= (1 - p[i, k]) * x.detach()[i] / (T * len(labels))
    torch.testing.assert_close(w.grad, expected, rtol=1e-4, atol=1e-6)


def test_plain_cross_entropy_would_move_every_center():
    """The contrast that makes SeCu 'stable': ordinary CE pushes the absent centers too."""
    g = torch.Generator().manual_seed(1)
    x = F.normalize(torch.randn(6, 4, generator=g), dim=1)
    w = F.normalize(torch.randn(4, 5, generator=g), dim=0).requires_grad_(True)
    labels = torch.tensor([0, 0, 2, 2, 2, 3])
    F.cross_entropy(x @ w / 0.05, labels).backward()
    assert torch.all(w.grad[:, [1, 4]].abs().sum(0) > 0)


def test_instance_loss_soft_labels_hand_computed():
    g = torch.Generator().manual_seed(2)
    x1 = F.normalize(torch.randn(6, 4, generator=g), dim=1).requires_grad_(True)
    x2 = F.normalize(torch.randn(6, 4, generator=g), dim=1).requires_grad_(True)
    w = F.normalize(torch.randn(4, 5, generator=g), dim=0)
    previous = torch.tensor([0, 1, 1, 2, 4, 4])
    T, tau = 0.1, 0.2
    loss = secu_instance_loss(x1, x2, w, previous, T, tau)
    loss.backward()
    # each view's soft label: the other view's prediction (no gradient) mixed with the previous assignment
    a1, a2 = x1.detach().clone().requires_grad_(True), x2.detach().clone().requires_grad_(True)
    u1, u2 = a1 @ w / T, a2 @ w / T
    one_hot = F.one_hot(previous, 5).float()
    q1 = (1 - tau) * torch.softmax(u2.detach(), 1) + tau * one_hot
    q2 = (1 - tau) * torch.softmax(u1.detach(), 1) + tau * one_hot
    expected = F.cross_entropy(u1, q1) + F.cross_entropy(u2, q2)
    expected.backward()
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(x1.grad, a1.grad)
    torch.testing.assert_close(x2.grad, a2.grad)
    # tau = 1: plain cross-entropy against the previous assignment, view by view
    only_labels = secu_instance_loss(x1, x2, w, previous, T, 1.0)
    plain = F.cross_entropy(x1 @ w / T, previous) + F.cross_entropy(x2 @ w / T, previous)
    torch.testing.assert_close(only_labels, plain)


def test_size_constraint_dual_step_hand_computed():
    scores = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.8, 0.3], [0.7, 0.2]])  # all prefer cluster 0
    labels, duals = size_constrained_assignment(scores, torch.zeros(2), ratio=0.9, dual_lr=0.1)
    assert labels.tolist() == [0, 0, 0, 0]
    torch.testing.assert_close(duals, torch.tensor([0.0, 0.1 * 0.45]))


def test_size_constraint_fills_an_unpopular_cluster():
    scores = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.8, 0.3], [0.7, 0.2]])
    duals = torch.zeros(2)
    for _ in range(200):
        labels, duals = size_constrained_assignment(scores, duals, ratio=0.9, dual_lr=0.1)
    assert 1 in labels.tolist()


@pytest.mark.parametrize("k", [2, 10, 26, 50, 300])
def test_auto_dual_step_keeps_an_empty_clusters_dual_rising_with_many_clusters(k):
    scores = torch.zeros(64, k)
    scores[:, 0] = 1.0  # every row prefers cluster 0: the others are empty in the batch
    (step,) = _dual_steps("auto", [k])
    _, duals = size_constrained_assignment(scores, torch.zeros(k), ratio=0.9, dual_lr=step)
    # below 50 clusters the reference's step; from 50, the rise of 10 centers under it
    torch.testing.assert_close(duals[1:], torch.full((k - 1,), 0.1 * 0.9 / (k if k < 50 else 10)))
    (fixed,) = _dual_steps(0.1, [k])  # the reference's fixed step: the more centers, the slower
    _, duals = size_constrained_assignment(scores, torch.zeros(k), ratio=0.9, dual_lr=fixed)
    torch.testing.assert_close(duals[1:], torch.full((k - 1,), 0.1 * 0.9 / k))


def test_auto_dual_step_follows_the_main_heads_clusters():
    assert _dual_steps("auto", [10, 20, 30]) == [0.1, 0.1, 0.1]  # the second and third heads keep the reference's
    assert _dual_steps("auto", [26, 52, 78]) == [0.1, 0.1, 0.1]
    assert _dual_steps("auto", [50, 100, 150]) == pytest.approx([0.5, 1.0, 1.5])


def test_entropy_assignment_hand_computed():
    # counts [3, 1]; the instance sits in cluster 0 and prefers it by 0.1.
    # Moving it: Delta = [phi(.5) - phi(.75)] + [phi(.5) - phi(.25)] = -0.1308
    costs = torch.tensor([[0.0, 0.1]])
    counts = torch.tensor([3.0, 1.0])
    moved, c1 = entropy_constrained_assignment(costs, counts, alpha=1.0, previous=torch.tensor([0]))
    assert moved.tolist() == [1] and c1.tolist() == [2.0, 2.0]
    stayed, c2 = entropy_constrained_assignment(costs, counts, alpha=0.5, previous=torch.tensor([0]))
    assert stayed.tolist() == [0] and c2.tolist() == [3.0, 1.0]


def test_entropy_assignment_first_epoch_hand_computed():
    # counts [2, 0]; adding: Delta_0 = phi(1) - phi(2/3) = 0.2703, Delta_1 = phi(1/3) - phi(0) = -0.3662
    costs = torch.tensor([[0.0, 0.5]])
    labels, counts = entropy_constrained_assignment(costs, torch.tensor([2.0, 0.0]), alpha=1.0, previous=None)
    assert labels.tolist() == [1] and counts.tolist() == [2.0, 1.0]
    # cluster 1 wins while its extra cost stays below Delta_0 - Delta_1 = 0.6365, and not above it
    for cost, expected in [(0.63, 1), (0.64, 0)]:
        out, _ = entropy_constrained_assignment(torch.tensor([[0.0, cost]]), torch.tensor([2.0, 0.0]), 1.0, None)
        assert out.tolist() == [expected], cost
    # the entropy term scales with alpha: at alpha=0.5 the margin halves to 0.318 < 0.5
    halved, _ = entropy_constrained_assignment(costs, torch.tensor([2.0, 0.0]), alpha=0.5, previous=None)
    assert halved.tolist() == [0]
    labels0, _ = entropy_constrained_assignment(costs, torch.zeros(2), alpha=1.0, previous=None)
    assert labels0.tolist() == [0]  # first batch: plain argmin


@pytest.mark.parametrize("constraint", ["size", "entropy"])
def test_secu_fits_blobs_with_balanced_clusters(constraint):
    X, y = make_blobs(300, centers=4, n_features=6, random_state=0)
    est = small_secu(n_clusters=4, constraint=constraint).fit(X)
    assert clustering_accuracy(y, est.labels_) > 0.9
    assert len(est.assignments_) == 2 and est.assignments_[1].max() < 8
    assert est.history_[-1]["min_cluster"] > 0
    assert est.cluster_centers_.shape == (4, 8)
    np.testing.assert_array_equal(est.predict(X), est.labels_)


def test_default_schedule_is_set_in_steps(monkeypatch):
    import skdeepclust.secu as secu_module

    monkeypatch.setattr(secu_module, "DEFAULT_STEPS", 12)
    X, _ = make_blobs(40, centers=2, n_features=4, random_state=0)
    est = small_secu(n_clusters=2, n_epochs="auto", n_epochs_warmup=1, batch_size=16).fit(X)
    assert est.n_epochs_ == 4  # 3 batches per epoch -> 4 epochs for 12 steps
    assert len(est.history_) == est.n_iter_ == 4 and sum(h["steps"] for h in est.history_) == 12
    est = small_secu(n_clusters=2, n_epochs="auto", n_epochs_warmup=5, batch_size=16).fit(X)
    assert est.n_epochs_ == 7  # at least n_epochs_warmup + 2
    assert small_secu(n_clusters=2, n_epochs=3).fit(X).n_epochs_ == 3


def test_refine_centers_frees_the_sizes():
    # 90 rows around one direction, 10 around another; the start splits the big group in two
    noise = 0.05 * torch.as_tensor(np.random.default_rng(0).normal(size=(100, 2)), dtype=torch.float32)
    emb = F.normalize(torch.tensor([[1.0, 0.0]] * 90 + [[0.0, 1.0]] * 10) + noise, dim=1)
    start = F.normalize(torch.tensor([[1.0, -0.1], [1.0, 0.1]]), dim=1)  # both on the big group
    assert torch.bincount((emb @ start.T).argmax(1)).tolist() != [90, 10]
    centers, n_iter = refine_centers(emb, start)
    labels = (emb @ centers.T).argmax(1)
    assert sorted(torch.bincount(labels).tolist()) == [10, 90] and 1 <= n_iter < 100
    torch.testing.assert_close(centers.norm(dim=1), torch.ones(2))
    for c in range(2):  # a fixed point: each center is its rows' normalised mean
        torch.testing.assert_close(centers[c], F.normalize(emb[labels == c].mean(0), dim=0))


def test_refine_centers_keeps_a_center_without_rows():
    emb = F.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1]]), dim=1)
    start = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    centers, _ = refine_centers(emb, start)
    torch.testing.assert_close(centers[1], start[1])


def test_final_clustering_head_keeps_the_trained_centers():
    X, _ = make_blobs(200, centers=[[0, 0, 0, 0], [6, 0, 0, 0], [0, 6, 0, 0]], n_features=4, random_state=1)
    head = small_secu(n_clusters=3, final_clustering="head").fit(X)
    refined = small_secu(n_clusters=3).fit(X)
    # same training (same seed): only the main head's centers differ
    np.testing.assert_array_equal(head.assignments_[0], refined.assignments_[0])
    trained = F.normalize(head.network_.centers[0].detach(), dim=0).T.numpy()
    np.testing.assert_allclose(head.cluster_centers_, trained, atol=1e-6)
    emb = refined.transform(X)
    for c in np.unique(refined.labels_):  # the refined centers are their clusters' normalised means
        mean = emb[refined.labels_ == c].mean(0)
        np.testing.assert_allclose(refined.cluster_centers_[c], mean / np.linalg.norm(mean), atol=1e-4)
    np.testing.assert_array_equal(refined.predict(X), refined.labels_)
