"""Loss functions shared by the deep clustering methods.

Each loss is one small function with one job, written for batched tensors and unit-tested on tiny
inputs against hand-computed values. Losses compute in float32 even under mixed precision.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = [
    "byol_alignment",
    "cluster_contrastive_loss",
    "cross_view_mutual_information",
    "diffused_prediction",
    "entropy_balance",
    "hardness_aware_distillation",
    "hyperspherical_consistency",
    "kl_distillation",
    "nt_xent",
    "prototype_contrastive_loss",
    "pseudo_label_supcon",
    "smoothed_one_hot",
    "topk_agreement_mask",
]

_EPS = torch.finfo(torch.float64).eps  # 2.22e-16, the constant of the IIC reference code


def nt_xent(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """Normalised-temperature cross entropy (SimCLR / NT-Xent) between two aligned batches.

    Row ``i`` of ``a`` and row ``i`` of ``b`` are a positive pair; every other row of either batch is
    a negative. Rows are compared by dot product of their L2-normalised versions.

    Parameters
    ----------
    a, b : torch.Tensor of shape (n, d)
        Two views of the same ``n`` items, ``n >= 1``.
    temperature : float, default=0.5
        Softmax temperature.

    Returns
    -------
    torch.Tensor
        Scalar: the per-anchor loss
        ``-s(i, p(i)) + log sum_{j != i} exp s(i, j)`` averaged over the ``2n`` anchors.
    """
    n = a.shape[0]
    h = F.normalize(torch.cat([a, b], dim=0).float(), dim=1)
    sim = h @ h.T / temperature
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=h.device), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(h.device)
    return F.cross_entropy(sim, targets)


def entropy_balance(probs: torch.Tensor) -> torch.Tensor:
    """Anti-collapse term ``log K - H(pi)``, with ``pi`` the batch's mean cluster distribution.

    Parameters
    ----------
    probs : torch.Tensor of shape (n, K)
        Soft cluster assignments (rows on the simplex).

    Returns
    -------
    torch.Tensor
        Scalar in ``[0, log K]``; 0 when the clusters are used uniformly.
    """
    pi = probs.float().sum(dim=0)
    pi = pi / pi.sum()
    return math.log(probs.shape[1]) + (pi * torch.log(pi.clamp_min(1e-12))).sum()


def cluster_contrastive_loss(
    pa: torch.Tensor, pb: torch.Tensor, temperature: float = 1.0, entropy_weight: float = 1.0
) -> torch.Tensor:
    """Cluster-level contrast of Contrastive Clustering (Li et al., 2021).

    The ``K`` columns of each soft-assignment matrix are treated as ``K`` cluster representations
    (vectors over the batch); column ``k`` of ``pa`` and column ``k`` of ``pb`` are a positive pair
    in an NT-Xent over the ``2K`` columns (cosine similarity). An entropy balance term
    (:func:`entropy_balance`) per view prevents all samples from falling into one cluster.

    Parameters
    ----------
    pa, pb : torch.Tensor of shape (n, K)
        Soft assignments of the same samples under two views.
    temperature : float, default=1.0
        Temperature of the cluster-level NT-Xent.
    entropy_weight : float, default=1.0
        Weight of ``entropy_balance(pa) + entropy_balance(pb)``.

    Returns
    -------
    torch.Tensor
        Scalar loss.
    """
    contrast = nt_xent(pa.T, pb.T, temperature)
    return contrast + entropy_weight * (entropy_balance(pa) + entropy_balance(pb))


def cross_view_mutual_information(
    za: torch.Tensor, zb: torch.Tensor, entropy_lambda: float = 9.0
) -> torch.Tensor:
    """IIC-style cross-view mutual-information loss on low-level features (COMPLETER / DistilMVC).

    Each feature column is turned into a distribution over the batch (softmax along the batch
    dimension), a symmetric joint ``P`` over feature pairs is formed and normalised, and the loss is
    ``-sum P_ij (log P_ij - (lambda+1) log P_i - (lambda+1) log P_j)``, i.e.
    ``-I(row; col) - lambda (H(P_row) + H(P_col))``.

    Parameters
    ----------
    za, zb : torch.Tensor of shape (n, d)
        Features of the same samples in two views (``n >= 2``).
    entropy_lambda : float, default=9.0
        Weight of the marginal-entropy bonus.

    Returns
    -------
    torch.Tensor
        Scalar loss (negative; lower is better).
    """
    a = torch.softmax(za.float(), dim=0)
    b = torch.softmax(zb.float(), dim=0)
    joint = a.T @ b
    joint = (joint + joint.T) / 2
    joint = joint / joint.sum()
    p_row = joint.sum(dim=1, keepdim=True).clamp_min(_EPS)
    p_col = joint.sum(dim=0, keepdim=True).clamp_min(_EPS)
    joint = joint.clamp_min(_EPS)
    return -(
        joint * (torch.log(joint) - (entropy_lambda + 1) * torch.log(p_row) - (entropy_lambda + 1) * torch.log(p_col))
    ).sum()


def smoothed_one_hot(labels: torch.Tensor, n_classes: int, epsilon: float = 0.1) -> torch.Tensor:
    """Label-smoothed one-hot targets ``(1 - epsilon) onehot + epsilon / K`` ("dark knowledge").

    Parameters
    ----------
    labels : torch.Tensor of shape (n,)
        Integer labels in ``[0, n_classes)``.
    n_classes : int
        Number of classes ``K``.
    epsilon : float, default=0.1
        Smoothing coefficient in ``[0, 1]``.

    Returns
    -------
    torch.Tensor of shape (n, K)
        Rows sum to one.
    """
    one_hot = F.one_hot(labels.long(), n_classes).float()
    return (1.0 - epsilon) * one_hot + epsilon / n_classes


def kl_distillation(log_probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """KL divergence ``KL(target || softmax)`` per row, averaged over the rows.

    Parameters
    ----------
    log_probs : torch.Tensor of shape (n, K)
        Log-probabilities of the student (e.g. ``log_softmax`` of its logits).
    target : torch.Tensor of shape (n, K)
        Target distributions (rows on the simplex).

    Returns
    -------
    torch.Tensor
        Scalar: the KL divergence of each row summed over its ``K`` entries, averaged over the ``n``
        rows (PyTorch's ``KLDivLoss(reduction="batchmean")``). The DistilMVC reference code averages
        over the ``n * K`` entries instead (``reduction="mean"``), ``K`` times less, which weakens the
        loss as the number of clusters grows.
    """
    target = target.float()
    pointwise = torch.xlogy(target, target) - target * log_probs.float()
    return pointwise.sum() / target.shape[0]


def byol_alignment(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BYOL-style alignment ``-2 mean_i cos(prediction_i, target_i)`` (the DSA term of HaDis/ProPos).

    Equals the BYOL loss ``2 - 2 cos`` minus a constant.

    Parameters
    ----------
    prediction : torch.Tensor of shape (n, d)
        Online predictions (gradients flow here).
    target : torch.Tensor of shape (n, d)
        Target projections (treated as constants).

    Returns
    -------
    torch.Tensor
        Scalar in ``[-2, 2]``.
    """
    return -2.0 * F.cosine_similarity(prediction.float(), target.detach().float(), dim=1).mean()


def diffused_prediction(
    predictor: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    std: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The student side of HaDis's diffused sampling alignment: ``predictor(z + std * eps)``.

    ``eps ~ N(0, I)`` samples a neighbour of each online projection from an isotropic Gaussian (the
    "diffused" positive); :func:`byol_alignment` of the result with the other view's target
    projection is the DSA loss, and the same prediction is HSD's student.

    Parameters
    ----------
    predictor : callable
        The online predictor.
    z : torch.Tensor of shape (n, d)
        Online projections (not normalised).
    std : float
        Absolute standard deviation of the perturbation; 0 gives ``predictor(z)`` (BYOL).
    generator : torch.Generator, default=None
        Generator on ``z``'s device for ``eps``.

    Returns
    -------
    torch.Tensor of shape (n, d_out)
        The predictions.
    """
    if std > 0:
        z = z + std * torch.randn(z.shape, generator=generator, device=z.device, dtype=z.dtype)
    return predictor(z)


def _unit_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distances between rows, as ``sqrt(max(|a|^2 + |b|^2 - 2 a.b, 1e-12))``."""
    sq = (a * a).sum(1, keepdim=True) + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return sq.clamp_min(1e-12).sqrt()


def hardness_aware_distillation(teacher: torch.Tensor, student: torch.Tensor, tau: float = 0.5) -> torch.Tensor:
    """Hardness-aware self-distillation (HSD) of HaDis, on one batch.

    For teacher anchor ``i`` with radius ``r_i = ||t_i - s_i||``, negatives are the samples the teacher
    places farther than ``r_i`` (``||t_i - t_j|| > r_i``), positives the rest. The hardest negative is
    the negative whose student embedding is closest to ``t_i``, the hardest positive the positive whose
    student embedding is farthest. Their distances are weighted by how much the student is worse than
    the teacher "template" (weights without gradient, 0 when the student is as good as the teacher),
    and the loss is ``softplus((w_p d_p - w_n d_n) / tau)`` averaged over anchors. An anchor without
    negatives contributes with ``w_n = 0``.

    Parameters
    ----------
    teacher : torch.Tensor of shape (n, d)
        Unit-norm teacher embeddings (constants).
    student : torch.Tensor of shape (n, d)
        Student predictions (normalised inside).
    tau : float, default=0.5
        Temperature of the two-logit softmax.

    Returns
    -------
    torch.Tensor
        Scalar loss.
    """
    t = teacher.detach().float()
    s = F.normalize(student.float(), dim=1)
    # a teacher's distance to itself is 0 (the clamp's 1e-6), not float32 cancellation noise (~3e-4):
    # it is the template distance of an anchor that is its own hardest positive
    d_tt = _unit_dist(t, t).fill_diagonal_(1e-6)
    d_ts = _unit_dist(t, s)
    radius = d_ts.diagonal()[:, None]
    neg = d_tt > radius.detach()
    has_neg = neg.any(1)
    d_neg = torch.where(neg, d_ts, torch.full_like(d_ts, float("inf"))).min(1)
    d_pos = torch.where(neg, torch.full_like(d_ts, float("-inf")), d_ts).max(1)
    rows = torch.arange(t.shape[0], device=t.device)
    neg_idx = torch.where(has_neg, d_neg.indices, rows)
    dn = torch.where(has_neg, d_ts[rows, neg_idx], torch.full_like(radius[:, 0], 1e5))
    dp = d_ts[rows, d_pos.indices]
    w_n = torch.where(has_neg, (d_tt[rows, neg_idx] - dn).clamp_min(0), torch.zeros_like(dn)).detach()
    w_p = (dp - d_tt[rows, d_pos.indices]).clamp_min(0).detach()
    return F.softplus((w_p * dp - w_n * dn) / tau).mean()


def prototype_contrastive_loss(
    online: torch.Tensor, target: torch.Tensor, labels: torch.Tensor, n_clusters: int, temperature: float = 0.5
) -> torch.Tensor:
    """Prototype scattering / contrastive loss of ProPos and HaDis.

    Batch prototypes ``mu_k`` (mean of the normalised online embeddings with pseudo-label ``k``,
    normalised) must match the target prototype ``mu'_k`` of the same cluster (the positive logit
    ``mu_k . mu'_k / T``) and differ from the other online prototypes (negatives ``mu_k . mu_j / T``).
    Clusters absent from the batch get logit -10 as negatives and contribute no row.

    Parameters
    ----------
    online : torch.Tensor of shape (n, d)
        Online projections (normalised inside; gradients flow).
    target : torch.Tensor of shape (n, d)
        Target projections of the other view (constants).
    labels : torch.Tensor of shape (n,)
        Pseudo-labels in ``[0, n_clusters)``.
    n_clusters : int
        Number of clusters ``K``.
    temperature : float, default=0.5
        Softmax temperature ``T``.

    Returns
    -------
    torch.Tensor
        Scalar loss averaged over the clusters present in the batch.
    """
    one_hot = F.one_hot(labels.long(), n_clusters).float()
    present = one_hot.sum(0) > 0
    mu = F.normalize(one_hot.T @ F.normalize(online.float(), dim=1), dim=1)
    mu_t = F.normalize(one_hot.T @ F.normalize(target.detach().float(), dim=1), dim=1)
    logits = mu @ mu.T / temperature
    eye = torch.eye(n_clusters, dtype=torch.bool, device=logits.device)
    logits = torch.where(eye, ((mu * mu_t).sum(1) / temperature).diag_embed(), logits)
    logits = logits.masked_fill(~present[None, :], -10.0)
    per_row = -logits.diagonal() + torch.logsumexp(logits, dim=1)
    return per_row[present].mean()


def _sq_unit_dist(u: torch.Tensor) -> torch.Tensor:
    """``||u_i - u_j||^2`` via the Gram matrix, clamped at 1e-12, exact zeros on the diagonal."""
    sq = (u * u).sum(1, keepdim=True) + (u * u).sum(1)[None, :] - 2.0 * u @ u.T
    sq = sq.clamp_min(1e-12)
    return sq.masked_fill(torch.eye(u.shape[0], dtype=torch.bool, device=u.device), 0.0)


def hyperspherical_consistency(cluster_probs: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """Feature-to-label regulariser of MTDC (HCR, "BCELoss" in its code).

    Pairwise similarities ``Q = exp(-||u_i - u_j||^2)`` of the L2-normalised cluster-probability rows
    are the binary cross-entropy *targets* and those of the (detached, normalised) features the
    *predictions*: ``-mean_ij [Q^C log(Q^F + 1e-12) + (1 - Q^C) log(1 - Q^F + 1e-12)]`` over all pairs.
    It pulls the assignments of samples together whose feature cosine exceeds ``1 - ln(2)/2`` and
    pushes the others apart.

    Parameters
    ----------
    cluster_probs : torch.Tensor of shape (n, K)
        Soft cluster assignments (gradients flow).
    features : torch.Tensor of shape (n, d)
        Instance features (detached inside).

    Returns
    -------
    torch.Tensor
        Scalar loss.
    """
    qc = torch.exp(-_sq_unit_dist(F.normalize(cluster_probs.float(), dim=1)))
    qf = torch.exp(-_sq_unit_dist(F.normalize(features.detach().float(), dim=1)))
    eps = 1e-12
    return -(qc * torch.log(qf + eps) + (1 - qc) * torch.log(1 - qf + eps)).mean()


def topk_agreement_mask(probs: torch.Tensor, k: int) -> torch.Tensor:
    """``M_nm = 1`` iff samples ``n`` and ``m`` have the same ordered top-``k`` clusters.

    Parameters
    ----------
    probs : torch.Tensor of shape (n, K)
        Cluster probabilities.
    k : int
        Length of the ordered tuple (clamped to ``K``).

    Returns
    -------
    torch.Tensor of shape (n, n), bool
    """
    top = probs.topk(min(k, probs.shape[1]), dim=1).indices
    return (top[:, None, :] == top[None, :, :]).all(-1)


def pseudo_label_supcon(
    za: torch.Tensor,
    zb: torch.Tensor,
    same: torch.Tensor,
    temperature: float = 0.5,
    base_temperature: float = 0.07,
) -> torch.Tensor:
    """Supervised contrast on two views with pseudo-label positives (MTDC's label-to-feature term).

    Anchors are the ``2n`` rows of ``[za; zb]`` (unit-normalised); the positives of an anchor are its
    other view and both views of every sample with the same pseudo-label (``same``), never itself.
    ``-(T / T_base) mean_i [sum_j M_ij log p_ij / sum_j M_ij]`` with ``p`` the softmax over ``j != i``
    of ``z_i . z_j / T``.

    Parameters
    ----------
    za, zb : torch.Tensor of shape (n, d)
        Instance features of the two views.
    same : torch.Tensor of shape (n, n), bool
        Pseudo-label agreement (see :func:`topk_agreement_mask`); the diagonal must be true.
    temperature : float, default=0.5
        Softmax temperature ``T``.
    base_temperature : float, default=0.07
        ``T_base`` of SupCon's loss scale.

    Returns
    -------
    torch.Tensor
        Scalar loss.
    """
    z = F.normalize(torch.cat([za, zb], 0).float(), dim=1)
    n2 = z.shape[0]
    logits = z @ z.T / temperature
    self_mask = torch.eye(n2, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    pos = same.repeat(2, 2) & ~self_mask
    mean_log_p = torch.where(pos, log_p, torch.zeros_like(log_p)).sum(1) / pos.sum(1)
    return -(temperature / base_temperature) * mean_log_p.mean()
