"""Loss functions shared by the deep clustering methods.

Each loss is one small function with one job, written for batched tensors and unit-tested on tiny
inputs against hand-computed values. Losses compute in float32 even under mixed precision.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "cluster_contrastive_loss",
    "cross_view_mutual_information",
    "entropy_balance",
    "kl_distillation",
    "nt_xent",
    "smoothed_one_hot",
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
    """KL divergence ``KL(target || softmax)`` between target distributions and predictions.

    Parameters
    ----------
    log_probs : torch.Tensor of shape (n, K)
        Log-probabilities of the student (e.g. ``log_softmax`` of its logits).
    target : torch.Tensor of shape (n, K)
        Target distributions (rows on the simplex).

    Returns
    -------
    torch.Tensor
        Scalar: the KL divergence averaged over the ``n * K`` entries, as PyTorch's
        ``KLDivLoss(reduction="mean")`` in the DistilMVC reference code.
    """
    target = target.float()
    pointwise = torch.xlogy(target, target) - target * log_probs.float()
    return pointwise.sum() / target.numel()
