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
    # K classes: 1 - eps + eps / K on the label, eps / K elsewhere
    assert torch.allclose(smoothed_one_hot(torch.tensor([2]), 4, 0.2), torch.tensor([[0.05, 0.05, 0.85, 0.05]]))
    assert torch.equal(smoothed_one_hot(torch.tensor([1, 0]), 2, 0.0), torch.tensor([[0.0, 1.0], [1.0, 0.0]]))


def test_kl_distillation_hand_computed():
    target = torch.tensor([[0.95, 0.05]])
    log_probs = torch.log(torch.tensor([[0.5, 0.5]]))
    expected = 0.95 * math.log(0.95 / 0.5) + 0.05 * math.log(0.05 / 0.5)  # one row: summed over the clusters
    assert kl_distillation(log_probs, target).item() == pytest.approx(expected, rel=1e-6)
    # per row, averaged over the rows: the same at any number of clusters
    wide_target = torch.cat([target, torch.zeros(1, 98)], dim=1)
    wide_log_probs = torch.log(torch.cat([torch.tensor([[0.5, 0.5]]), torch.full((1, 98), 1e-12)], dim=1))
    assert kl_distillation(wide_log_probs, wide_target).item() == pytest.approx(expected, rel=1e-4)
    assert kl_distillation(log_probs.repeat(3, 1), target.repeat(3, 1)).item() == pytest.approx(expected, rel=1e-6)
    assert kl_distillation(torch.log(target), target).item() == pytest.approx(0.0, abs=1e-7)


# ---------------------------------------------------------------- HaDis terms
from skdeepclust.losses import (  # noqa: E402
    byol_alignment,
    diffused_prediction,
    hardness_aware_distillation,
    prototype_contrastive_loss,
)


def test_byol_alignment_values():
    assert byol_alignment(EYE, EYE).item() == pytest.approx(-2.0)
    assert byol_alignment(EYE, EYE.flip(0)).item() == pytest.approx(0.0, abs=1e-7)
    assert byol_alignment(5 * EYE, EYE).item() == pytest.approx(-2.0)  # scale-free


def test_diffused_alignment_hand_computed():
    z, target = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    eps = torch.randn(1, 2, generator=torch.Generator().manual_seed(3))
    p = diffused_prediction(lambda v: v, z, 0.5, torch.Generator().manual_seed(3))
    torch.testing.assert_close(p, z + 0.5 * eps)  # the predictor sees z + std * eps, eps ~ N(0, I)
    # with eps = (0, 1) the predictor (identity) sees (1, 0.5); against the target (0, 1)
    # the cosine is 0.5 / sqrt(1.25), so DSA = -2 * 0.5 / sqrt(1.25) = -0.894427...
    p = torch.tensor([[1.0, 0.0]]) + 0.5 * torch.tensor([[0.0, 1.0]])
    assert byol_alignment(p, target).item() == pytest.approx(-1.0 / math.sqrt(1.25), rel=1e-6)
    # without diffusion the same pair is orthogonal: DSA 0, and nothing is drawn
    gen = torch.Generator().manual_seed(3)
    assert byol_alignment(diffused_prediction(lambda v: v, z, 0.0, gen), target).item() == pytest.approx(0.0)
    assert torch.equal(torch.randn(1, 2, generator=gen), eps)


def test_diffused_prediction_draws_seeded_gaussian_noise():
    z = torch.zeros(20000, 4)
    p = diffused_prediction(lambda v: v, z, 1e-3, torch.Generator().manual_seed(0))
    torch.testing.assert_close(p, 1e-3 * torch.randn(20000, 4, generator=torch.Generator().manual_seed(0)))
    assert p.std().item() == pytest.approx(1e-3, rel=0.02) and abs(p.mean().item()) < 5e-5
    # the gradient reaches the online projection unchanged (the noise is additive)
    z = torch.ones(3, 2, requires_grad=True)
    diffused_prediction(lambda v: 2 * v, z, 0.1, torch.Generator().manual_seed(1)).sum().backward()
    torch.testing.assert_close(z.grad, torch.full((3, 2), 2.0))


def test_hsd_student_equal_teacher_gives_log2():
    # identical embeddings: every hardness weight is 0, both logits 0 -> log 2 per anchor
    t = torch.nn.functional.normalize(torch.randn(6, 3, generator=torch.Generator().manual_seed(0)), dim=1)
    assert hardness_aware_distillation(t, t, tau=0.5).item() == pytest.approx(math.log(2), rel=1e-6)


def test_hsd_swapped_student_hand_computed():
    # teacher e1, e2; student swapped. Anchor 0: radius sqrt2, no teacher distance exceeds it -> no
    # negative (w_n = 0); hardest positive is itself at sqrt2 with weight sqrt2 - 1e-6.
    # loss = softplus(w_p * d_p / tau) = softplus((sqrt2 - 1e-6) * sqrt2 / 0.5)
    t = EYE
    s = EYE.flip(0)
    expected = math.log1p(math.exp((math.sqrt(2) - 1e-6) * math.sqrt(2) / 0.5))
    assert hardness_aware_distillation(t, s, tau=0.5).item() == pytest.approx(expected, rel=1e-5)


def _hsd_reference(t, s, tau):
    """Plain per-anchor loops, straight from the spec."""
    s = torch.nn.functional.normalize(s, dim=1)

    def dist(a, b):
        return math.sqrt(max(float(a @ a + b @ b - 2 * a @ b), 1e-12))

    n = t.shape[0]
    total = 0.0
    for i in range(n):
        r = dist(t[i], s[i])
        negs = [j for j in range(n) if dist(t[i], t[j]) > r]
        poss = [j for j in range(n) if j not in negs]
        p = max(poss, key=lambda j: dist(t[i], s[j]))
        dp = dist(t[i], s[p])
        wp = max(0.0, dp - dist(t[i], t[p]))
        if negs:
            k = min(negs, key=lambda j: dist(t[i], s[j]))
            dn = dist(t[i], s[k])
            wn = max(0.0, dist(t[i], t[k]) - dn)
        else:
            dn, wn = 1e5, 0.0
        total += math.log1p(math.exp((wp * dp - wn * dn) / tau))
    return total / n


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hsd_matches_loop_reference(seed):
    g = torch.Generator().manual_seed(seed)
    t = torch.nn.functional.normalize(torch.randn(7, 4, generator=g, dtype=torch.float64), dim=1)
    s = t + 0.5 * torch.randn(7, 4, generator=g, dtype=torch.float64)
    got = hardness_aware_distillation(t, s, tau=0.5).item()
    assert got == pytest.approx(_hsd_reference(t, s, 0.5), rel=1e-4)


def test_hsd_gradient_only_on_student():
    t = torch.nn.functional.normalize(torch.randn(5, 3, generator=torch.Generator().manual_seed(3)), dim=1)
    t.requires_grad_(True)
    s = torch.randn(5, 3, generator=torch.Generator().manual_seed(4), requires_grad=True)
    hardness_aware_distillation(t, s).backward()
    assert t.grad is None and s.grad is not None and s.grad.abs().sum() > 0


def test_prototype_contrast_hand_computed():
    labels = torch.tensor([0, 1])
    # prototypes e1, e2 in both networks: diag logit 1/T = 2, off-diagonal 0
    val = prototype_contrastive_loss(EYE, EYE, labels, 2, temperature=0.5).item()
    assert val == pytest.approx(math.log1p(math.exp(-2)), rel=1e-5)  # float32
    # a third cluster absent from the batch: its column is -10 and it has no row
    val3 = prototype_contrastive_loss(EYE, EYE, labels, 3, temperature=0.5).item()
    assert val3 == pytest.approx(-2 + math.log(math.exp(2) + 1 + math.exp(-10)), rel=1e-5)


def test_prototype_contrast_uses_cluster_means():
    # two samples of cluster 0 average to one prototype; scaling rows changes nothing
    online = torch.tensor([[1.0, 1.0], [1.0, -1.0], [0.0, 3.0]])
    target = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    a = prototype_contrastive_loss(online, target, labels, 2)
    b = prototype_contrastive_loss(online * 7, target, labels, 2)
    assert a.item() == pytest.approx(b.item(), rel=1e-6)
    assert a.item() == pytest.approx(math.log1p(math.exp(-2)), rel=1e-5)


# ---------------------------------------------------------------- MTDC terms
from skdeepclust.losses import hyperspherical_consistency, pseudo_label_supcon, topk_agreement_mask  # noqa: E402


def test_topk_agreement_mask():
    probs = torch.tensor([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2], [0.5, 0.2, 0.3]])
    expected = torch.tensor([[True, True, False], [True, True, False], [False, False, True]])
    assert torch.equal(topk_agreement_mask(probs, 2), expected)
    assert topk_agreement_mask(probs, 1).all()  # same top-1 everywhere


def test_hcr_hand_computed():
    # orthogonal rows in both spaces: off-diagonal Q = e^-2 for both -> BCE entropy H(e^-2);
    # diagonal Q = 1 for both -> 0. Mean over the 4 entries = H / 2.
    p = math.exp(-2)
    h = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    assert hyperspherical_consistency(EYE, EYE).item() == pytest.approx(h / 2, rel=1e-5)


def test_hcr_pulls_assignments_of_similar_features_together():
    feats = torch.tensor([[1.0, 0.0], [1.0, 0.05]])  # near-identical features
    probs = torch.tensor([[0.9, 0.1], [0.1, 0.9]], requires_grad=True)
    loss = hyperspherical_consistency(probs, feats)
    loss.backward()
    # gradient descent moves sample 0 towards cluster 1 and sample 1 towards cluster 0
    assert probs.grad[0, 1] < probs.grad[0, 0] and probs.grad[1, 0] < probs.grad[1, 1]


def test_supcon_with_identity_mask_is_nt_xent():
    same = torch.eye(2, dtype=torch.bool)
    val = pseudo_label_supcon(EYE, EYE, same, temperature=0.5, base_temperature=0.5).item()
    assert val == pytest.approx(math.log(math.exp(2) + 2) - 2, rel=1e-6)
    g = torch.Generator().manual_seed(0)
    za, zb = torch.randn(6, 3, generator=g), torch.randn(6, 3, generator=g)
    eye = torch.eye(6, dtype=torch.bool)
    assert pseudo_label_supcon(za, zb, eye, 0.5, 0.5).item() == pytest.approx(nt_xent(za, zb, 0.5).item(), rel=1e-5)


def test_supcon_all_positive_hand_computed():
    same = torch.ones(2, 2, dtype=torch.bool)
    val = pseudo_label_supcon(EYE, EYE, same, temperature=0.5, base_temperature=0.07).item()
    assert val == pytest.approx((0.5 / 0.07) * (math.log(math.exp(2) + 2) - 2 / 3), rel=1e-6)
