import math

import pytest
import torch

from skdeepclust.losses import (
    cluster_contrastive_loss,
    cross_view_mutual_information,
    entropy_balance,
    kl_distillation,
    nt_xent,
    smoothed_one_hot,
)

EYE = torch.eye(2)


def test_nt_xent_hand_computed():
    # anchors e1,e2,e1,e2: positive similarity 1, two negatives of similarity 0 -> log(e + 2) - 1
    assert nt_xent(EYE, EYE, temperature=1.0).item() == pytest.approx(math.log(math.e + 2) - 1, rel=1e-6)


def test_nt_xent_temperature_and_normalisation():
    # scaling rows does not matter (cosine); temperature 0.5 doubles the logits
    expected = math.log(math.exp(2) + 2) - 2
    assert nt_xent(3 * EYE, EYE, temperature=0.5).item() == pytest.approx(expected, rel=1e-6)


def test_nt_xent_prefers_aligned_pairs():
    a = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    assert nt_xent(a, a + 0.01) < nt_xent(a, a.flip(0))


def test_entropy_balance_values():
    assert entropy_balance(EYE).item() == pytest.approx(0.0, abs=1e-7)
    collapsed = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert entropy_balance(collapsed).item() == pytest.approx(math.log(2), rel=1e-6)


def test_cluster_contrastive_hand_computed():
    # columns e1, e2 in both views -> the NT-Xent value above, balance terms are zero
    val = cluster_contrastive_loss(EYE, EYE, temperature=1.0).item()
    assert val == pytest.approx(math.log(math.e + 2) - 1, rel=1e-6)
    collapsed = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    with_collapse = cluster_contrastive_loss(collapsed, collapsed, temperature=1.0, entropy_weight=1.0)
    without = cluster_contrastive_loss(collapsed, collapsed, temperature=1.0, entropy_weight=0.0)
    assert (with_collapse - without).item() == pytest.approx(2 * math.log(2), rel=1e-6)


def test_mutual_information_hand_computed():
    # uniform joint over 2x2: I = 0, H_row = H_col = log 2 -> -lambda * 2 log 2
    z = torch.zeros(2, 2)
    assert cross_view_mutual_information(z, z, entropy_lambda=9.0).item() == pytest.approx(-18 * math.log(2), rel=1e-6)


def test_mutual_information_rewards_dependence():
    g = torch.Generator().manual_seed(1)
    za = torch.randn(64, 8, generator=g) * 3
    zb = torch.randn(64, 8, generator=g) * 3
    assert cross_view_mutual_information(za, za, 0.0) < cross_view_mutual_information(za, zb, 0.0)


def test_smoothed_one_hot():
    t = smoothed_one_hot(torch.tensor([0, 1]), 2, 0.1)
    assert torch.allclose(t, torch.tensor([[0.95, 0.05], [0.05, 0.95]]))
    assert torch.allclose(t.sum(1), torch.ones(2))


def test_kl_distillation_hand_computed():
    target = torch.tensor([[0.95, 0.05]])
    log_probs = torch.log(torch.tensor([[0.5, 0.5]]))
    expected = (0.95 * math.log(0.95 / 0.5) + 0.05 * math.log(0.05 / 0.5)) / 2
    assert kl_distillation(log_probs, target).item() == pytest.approx(expected, rel=1e-6)
    assert kl_distillation(torch.log(target), target).item() == pytest.approx(0.0, abs=1e-7)
