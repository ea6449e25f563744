"""SeCu: stable cluster discrimination with a global size or entropy constraint.

Qian, "Stable Cluster Discrimination for Deep Clustering" (ICCV 2023; code idstcv/SeCu).
Specification: the official code. Contents, in order: the network (encoder, projection head and one
matrix of unit-norm centers per head), the two loss terms (the encoder's instance loss with its soft
labels, the centers' SeCu loss), the constrained assignment step (size or entropy), the training step
with its per-head state, the callbacks of the loop, and the estimator.
"""

from __future__ import annotations

import functools
from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._utils import build_module
from ._validation import IntInterval
from .base import BaseDeepClusterer
from .nn import ProjectionHead
from .single_view import SingleViewMixin, stop_when_stable
from .training import (
    Callback,
    LoopState,
    LRSchedule,
    Trainer,
    clamp_batch_size,
    embed_batches,
    epochs_for_steps,
    n_batches,
    warmup_cosine,
)

__all__ = [
    "SeCu",
    "entropy_constrained_assignment",
    "refine_centers",
    "secu_center_loss",
    "secu_instance_loss",
    "size_constrained_assignment",
]

#: optimizer steps of the ``n_epochs="auto"`` schedule (see the User Guide and benchmarks/results/studies/)
DEFAULT_STEPS = 4500
#: with ``final_clustering="kmeans"``: at most this many Lloyd iterations of :func:`refine_centers`
REFINE_MAX_ITER = 100
#: ``dual_lr="auto"``: the reference's step ``AUTO_DUAL_LR`` for every head when ``n_clusters`` is below
#: ``AUTO_DUAL_MIN_CLUSTERS``; from there, each head's step is ``AUTO_DUAL_LR * K_h / AUTO_DUAL_CENTERS``
AUTO_DUAL_LR = 0.1
AUTO_DUAL_CENTERS = 10
AUTO_DUAL_MIN_CLUSTERS = 50


# --- network -------------------------------------------------------------------------------------------------------


class _SeCuNet(nn.Module):
    """Backbone + projection head (unit-norm output) + one ``(feature_dim, K_h)`` center matrix per head."""

    def __init__(self, backbone: nn.Module, projector: nn.Module, centers: list[torch.Tensor]):
        super().__init__()
        self.backbone, self.projector = backbone, projector
        self.centers = nn.ParameterList(nn.Parameter(c) for c in centers)

    @property
    def n_heads(self) -> int:
        return len(self.centers)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.backbone(x))

    def head(self, h: int) -> torch.Tensor:
        """The unit-norm centers (columns) of head ``h``."""
        return F.normalize(self.centers[h], dim=0)


# --- loss terms ----------------------------------------------------------------------------------------------------


def secu_instance_loss(
    features1: torch.Tensor,
    features2: torch.Tensor,
    centers: torch.Tensor,
    previous: torch.Tensor,
    temperature: float,
    label_weight: float,
) -> torch.Tensor:
    """SeCu's instance (representation) loss: each view predicts a soft label made from the other view.

    With the logits ``u^v = x^v . W / T`` against fixed centers ``W`` (those of the start of the epoch),
    the soft label of view 1 is ``(1 - tau) softmax(u^2) + tau onehot(y_prev)`` (no gradient), and the
    other way round for view 2; the loss is the sum of the two views' cross-entropies, each averaged
    over the batch. Only the features receive gradient.

    Parameters
    ----------
    features1, features2 : torch.Tensor of shape (n, d)
        Unit-norm embeddings of the two views.
    centers : torch.Tensor of shape (d, K)
        Unit-norm centers (columns), without gradient.
    previous : torch.Tensor of shape (n,)
        Each instance's assignment of the previous epoch.
    temperature : float
        Softmax temperature ``lambda_x``.
    label_weight : float
        ``tau``: weight of the previous assignment in the soft labels.

    Returns
    -------
    torch.Tensor
        The sum of the two views' losses.
    """
    u1 = features1.float() @ centers / temperature
    u2 = features2.float() @ centers / temperature
    one_hot = F.one_hot(previous, centers.shape[1]).float()
    with torch.no_grad():
        q1 = (1 - label_weight) * torch.softmax(u2, 1) + label_weight * one_hot
        q2 = (1 - label_weight) * torch.softmax(u1, 1) + label_weight * one_hot
    return -(q1 * F.log_softmax(u1, 1)).sum(1).mean() - (q2 * F.log_softmax(u2, 1)).sum(1).mean()


def secu_center_loss(features: torch.Tensor, centers: torch.Tensor, labels: torch.Tensor, temperature: float):
    """SeCu's cluster-discrimination loss: only each instance's own center receives gradient.

    The logits ``x_i . w_k / T`` are computed with detached features; every column but the assigned
    one is detached as well, so a center is moved only by its own instances, each weighted by
    ``1 - p_ik`` (hard instances pull more), and clusters without instances in the batch stay put.

    Parameters
    ----------
    features : torch.Tensor of shape (n, d)
        Unit-norm embeddings (detached inside).
    centers : torch.Tensor of shape (d, K)
        Unit-norm centers (columns), with gradient.
    labels : torch.Tensor of shape (n,)
        Assigned cluster of each instance.
    temperature : float
        Softmax temperature ``lambda_w``.

    Returns
    -------
    torch.Tensor
        Cross-entropy averaged over the batch.
    """
    x = features.detach().float()
    w = centers.float()
    logits = (x @ w.detach()) / temperature
    own = (x * w[:, labels].T).sum(1, keepdim=True) / temperature
    logits = logits.scatter(1, labels[:, None], own)
    return F.cross_entropy(logits, labels)


# --- constrained assignment ----------------------------------------------------------------------------------------


def size_constrained_assignment(
    scores: torch.Tensor, duals: torch.Tensor, ratio: float, dual_lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Assign with a cluster-size lower bound (dual variables, one dual-ascent step per batch).

    ``y_i = argmax_k (s_ik + rho_k)``, then ``rho_k <- max(0, rho_k + dual_lr (ratio / K - b_k / B))``
    with ``b_k`` the batch counts: clusters below ``ratio * N / K`` become more attractive.

    Parameters
    ----------
    scores : torch.Tensor of shape (B, K)
        Similarities to the centers.
    duals : torch.Tensor of shape (K,)
        Current dual variables (non-negative).
    ratio : float
        ``gamma``: every cluster should hold at least ``gamma * N / K`` instances.
    dual_lr : float
        Dual ascent step ``eta``.

    Returns
    -------
    labels : torch.Tensor of shape (B,)
    duals : torch.Tensor of shape (K,)
        The updated duals.
    """
    b, k = scores.shape
    labels = (scores + duals).argmax(1)
    counts = torch.bincount(labels, minlength=k).to(scores.dtype)
    return labels, (duals + dual_lr * (ratio / k - counts / b)).clamp_min(0.0)


def _dual_steps(dual_lr: float | str, sizes: list[int]) -> list[float]:
    """Each head's dual ascent step: ``dual_lr``, or for ``"auto"`` one that grows with the centers of many clusters.

    The size constraint raises the dual of a cluster that is empty in a batch by ``dual_lr * ratio / K`` per
    step, so with a fixed step a head with many centers takes proportionally longer to meet its bound.
    ``"auto"`` keeps the reference's step ``AUTO_DUAL_LR`` for every head when the main head (the first size)
    has fewer than ``AUTO_DUAL_MIN_CLUSTERS`` centers; from there each head's step is scaled as
    ``K_h / AUTO_DUAL_CENTERS``, so that an empty cluster's dual rises as fast as with 10 centers.

    Parameters
    ----------
    dual_lr : float or "auto"
        The estimator's parameter.
    sizes : list of int
        Each head's number of centers, the main head first.

    Returns
    -------
    list of float

    Examples
    --------
    >>> _dual_steps("auto", [10, 20, 30]), _dual_steps("auto", [100, 200]), _dual_steps(0.1, [100, 200])
    ([0.1, 0.1, 0.1], [1.0, 2.0], [0.1, 0.1])
    """
    if dual_lr == "auto":
        if sizes[0] < AUTO_DUAL_MIN_CLUSTERS:
            return [AUTO_DUAL_LR] * len(sizes)
        return [AUTO_DUAL_LR * k / AUTO_DUAL_CENTERS for k in sizes]
    return [float(dual_lr)] * len(sizes)


def _phi(p: torch.Tensor) -> torch.Tensor:
    return torch.xlogy(p, p)


def entropy_constrained_assignment(
    costs: torch.Tensor, counts: torch.Tensor, alpha: float, previous: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy closed-form assignment under an entropy penalty on the global cluster sizes.

    Minimises ``sum_i c_{i, y_i} + alpha * sum_k p_k log p_k`` one instance at a time with the counts
    frozen for the batch. Without a previous label (the first epoch) the instance is *added*:
    ``Delta_k = phi(p_k + 1/(S+1)) - phi(p_k)`` with ``p = n / (S + 1)``; otherwise it *moves* from its
    previous cluster ``l``: ``Delta_ik = [phi(p_l - 1/S) - phi(p_l)] + [phi(p_k + 1/S) - phi(p_k)]``
    and ``Delta_il = 0``. ``phi(p) = p log p``.

    Parameters
    ----------
    costs : torch.Tensor of shape (B, K)
        Assignment costs (e.g. negative similarities).
    counts : torch.Tensor of shape (K,)
        Current global cluster sizes ``n_k``.
    alpha : float
        Weight of the entropy term.
    previous : torch.Tensor of shape (B,), optional
        Previous labels (``None`` in the first epoch).

    Returns
    -------
    labels : torch.Tensor of shape (B,)
    counts : torch.Tensor of shape (K,)
        The updated counts.
    """
    k = costs.shape[1]
    total = float(counts.sum())
    if previous is None:
        if total == 0:
            labels = costs.argmin(1)
        else:
            p = counts / (total + 1)
            delta = _phi(p + 1 / (total + 1)) - _phi(p)
            labels = (costs + alpha * delta).argmin(1)
        return labels, counts + torch.bincount(labels, minlength=k).to(counts.dtype)
    p = counts / total
    leave = _phi((p - 1 / total).clamp_min(0.0)) - _phi(p)
    join = _phi(p + 1 / total) - _phi(p)
    delta = leave[previous][:, None] + join[None, :]
    delta = delta.scatter(1, previous[:, None], 0.0)
    labels = (costs + alpha * delta).argmin(1)
    counts = counts + torch.bincount(labels, minlength=k).to(counts.dtype)
    return labels, counts - torch.bincount(previous, minlength=k).to(counts.dtype)


# --- training step -------------------------------------------------------------------------------------------------


class _AssignmentState:
    """Per head: the stored assignment of every instance, and the duals (size) or global counts (entropy).

    :meth:`assign` is the assignment step of one batch and head (no gradient): it scores the batch by
    the two views' mean similarity to the current centers, assigns under the constraint, updates the
    duals or counts, and stores the new labels.
    """

    def __init__(self, n_samples: int, sizes: list[int], device: torch.device, constraint: str, size_ratio: float,
                 dual_lrs: list[float], entropy_alpha: float):
        self.labels = [torch.ones(n_samples, dtype=torch.long, device=device) for _ in sizes]
        self.duals = [torch.zeros(k, device=device) for k in sizes]
        self.counts = [torch.zeros(k, device=device) for k in sizes]
        self.constraint, self.size_ratio = constraint, size_ratio
        self.dual_lrs, self.entropy_alpha = dual_lrs, entropy_alpha

    @torch.no_grad()
    def assign(self, h: int, features1: torch.Tensor, features2: torch.Tensor, centers: torch.Tensor,
               idx: torch.Tensor, first_epoch: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """New labels of the batch ``idx`` for head ``h``, and the previous ones (the new ones in the first epoch)."""
        scores = 0.5 * (features1.detach().float() + features2.detach().float()) @ centers.detach().float()
        previous = self.labels[h][idx]
        if self.constraint == "size":
            new, self.duals[h] = size_constrained_assignment(scores, self.duals[h], self.size_ratio,
                                                             self.dual_lrs[h])
        else:
            new, self.counts[h] = entropy_constrained_assignment(
                -scores, self.counts[h], self.entropy_alpha, None if first_epoch else previous
            )
        self.labels[h][idx] = new
        return new, (new if first_epoch else previous)


class _SeCuStep:
    """One batch: two views, then per head the assignment, the center loss and the instance loss.

    The losses are averaged over the heads and the two views. The instance loss uses the centers
    snapshotted at the start of the epoch (:class:`_CenterSnapshot`) and the previous epoch's labels.
    """

    def __init__(self, net: _SeCuNet, view, generator: torch.Generator,
                 assignments: _AssignmentState, snapshot: _CenterSnapshot, temperature_instance: float,
                 temperature_center: float, label_weight: float):
        self.net, self.view, self.generator = net, view, generator
        self.assignments, self.snapshot = assignments, snapshot
        self.temperature_instance, self.temperature_center = temperature_instance, temperature_center
        self.label_weight = label_weight

    def __call__(self, idx: torch.Tensor, state: LoopState) -> dict[str, torch.Tensor]:
        net, n_heads = self.net, self.net.n_heads
        # both views drawn for the whole batch (the same random stream in every process); each process forwards its
        # rows and the features of the whole batch are gathered (see skdeepclust.distributed)
        x1, x2 = self.view(idx, self.generator), self.view(idx, self.generator)
        f1, f2 = state.gather(net.embed(state.local(x1))), state.gather(net.embed(state.local(x2)))
        loss_instance, loss_center = 0.0, 0.0
        for h in range(n_heads):
            w = net.head(h)
            new, previous = self.assignments.assign(h, f1, f2, w, idx, first_epoch=state.epoch == 0)
            loss_center = loss_center + secu_center_loss(f1, w, new, self.temperature_center)
            loss_center = loss_center + secu_center_loss(f2, w, new, self.temperature_center)
            loss_instance = loss_instance + secu_instance_loss(
                f1, f2, self.snapshot.centers[h], previous, self.temperature_instance, self.label_weight
            )
        return {"instance": loss_instance / (2 * n_heads), "center": loss_center / (2 * n_heads)}


def _sgd(net: _SeCuNet, lr: float, center_lr: float, momentum: float, weight_decay: float) -> torch.optim.SGD:
    """SGD with two groups, the encoder (backbone and projection head) and the centers; weight decay on both."""
    encoder_params = list(net.backbone.parameters()) + list(net.projector.parameters())
    groups = [{"params": encoder_params, "lr": lr}, {"params": list(net.centers.parameters()), "lr": center_lr}]
    return torch.optim.SGD(groups, lr=lr, momentum=momentum, weight_decay=weight_decay)


# --- callbacks -----------------------------------------------------------------------------------------------------


def refine_centers(embedding: torch.Tensor, centers: torch.Tensor, max_iter: int = REFINE_MAX_ITER
                   ) -> tuple[torch.Tensor, int]:
    """Spherical k-means on ``embedding`` started at ``centers``, without any size constraint.

    Parameters
    ----------
    embedding : torch.Tensor of shape (n, d)
        Unit-norm rows.
    centers : torch.Tensor of shape (K, d)
        Unit-norm starting centers.
    max_iter : int, default=REFINE_MAX_ITER
        Largest number of Lloyd iterations.

    Returns
    -------
    centers : torch.Tensor of shape (K, d)
        Unit-norm centers: the normalised mean of each cluster's rows, assigned by cosine; a center
        with no rows keeps its place.
    n_iter : int
        Iterations run; the assignment stopped changing at the last one unless it equals ``max_iter``.
    """
    labels = (embedding @ centers.T).argmax(1)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        sums = torch.zeros_like(centers).index_add_(0, labels, embedding)
        centers = torch.where(sums.norm(dim=1, keepdim=True) > 0, F.normalize(sums, dim=1), centers)
        new = (embedding @ centers.T).argmax(1)
        if torch.equal(new, labels):
            break
        labels = new
    return centers, n_iter


class _CenterSnapshot(Callback):
    """The unit-norm centers of every head at the start of each epoch (those of the instance loss)."""

    def __init__(self, net: _SeCuNet):
        self.net, self.centers = net, []

    def on_epoch_begin(self, state: LoopState) -> None:  # noqa: D102
        self.centers = [self.net.head(h).detach().clone() for h in range(self.net.n_heads)]


class _SmallestCluster(Callback):
    """Record the smallest cluster of the main head's stored assignments after each epoch."""

    def __init__(self, labels: torch.Tensor, k: int):
        self.labels, self.k = labels, k

    def on_epoch_end(self, state: LoopState, record: dict) -> None:  # noqa: D102
        record["min_cluster"] = int(torch.bincount(self.labels, minlength=self.k).min())


# --- estimator -----------------------------------------------------------------------------------------------------


class SeCu(SingleViewMixin, BaseDeepClusterer):
    """Stable cluster discrimination (SeCu) with a global size or entropy constraint.

    One stage, no pre-training and no k-means: an encoder, learnable unit-norm cluster centers and one
    stored assignment per training instance are learned jointly on two augmentations per batch, for
    ``n_heads`` clustering heads with ``K, 2K, ...`` centers. Per batch and head:

    1. **assignment** (no gradient) by the two views' mean similarity to the current centers, under
       the constraint: ``"size"`` (every cluster at least ``size_ratio * N / K``, dual variables with
       one ascent step per batch; :func:`size_constrained_assignment`) or ``"entropy"`` (greedy
       closed-form minimisation of cost plus ``entropy_alpha`` times the negative entropy of the global
       cluster sizes; :func:`entropy_constrained_assignment`);
    2. **center loss** (:func:`secu_center_loss`, gradient to the centers only): only an instance's
       own center moves, weighted by its hardness ``1 - p``;
    3. **instance loss** (:func:`secu_instance_loss`, gradient to the encoder only): cross-entropy
       against the centers frozen at the start of the epoch, with soft labels mixing the other view's
       prediction and the instance's previous-epoch assignment (``label_weight``).

    The encoder's learning rate is 0 in the first epoch (which only initialises centers, assignments
    and duals), then warms up linearly for ``n_epochs_warmup`` epochs and decays with a cosine; the
    centers have a constant rate ``center_lr``. ``predict`` assigns to the nearest center (cosine) of
    the head with ``n_clusters`` centers, with no constraint; with ``final_clustering="kmeans"`` those
    centers are first refined by spherical k-means on the clean training embedding
    (:func:`refine_centers`). See :ref:`secu`.

    Parameters
    ----------
    n_clusters : int or "auto", default=8
        Number of clusters of the main head. ``"auto"``: estimated at the start of ``fit`` by
        :func:`~skdeepclust.estimate_n_clusters` on the training input scaled as the network sees it;
        ``n_clusters_`` holds the number used (:ref:`n_clusters_guide`).
    n_clusters_range : (int, int), default=None
        Smallest and largest number of clusters that ``n_clusters="auto"`` considers, both included
        (``2 <= lower <= upper < n_samples``); ``None``: ``(2, min(n_samples // 10, 200))``. Ignored for an
        int ``n_clusters``.
    n_heads : int, default=3
        Heads with ``K, 2K, ..., n_heads * K`` centers; the labels come from the first.
    constraint : {"size", "entropy"}, default="size"
        Global constraint of the assignment step.
    size_ratio : float, default=0.9
        ``gamma`` of the size constraint: every cluster should hold at least ``gamma * N / K`` instances.
    dual_lr : float or "auto", default="auto"
        Dual ascent step of the size constraint. ``"auto"``: the reference's 0.1 for every head below 50
        clusters; from 50 clusters, ``0.1 * K_h / 10`` for a head of ``K_h`` centers, so that the constraint
        takes hold within the schedule; a float: that step for every head, as in the reference
        (:ref:`secu_parameters`).
    entropy_alpha : float, default=None
        Weight of the entropy constraint; ``None`` uses ``0.12 * n_samples``.
    image_shape : tuple of int, default=None
        ``(C, H, W)`` when rows are flattened images in ``[0, 1]`` (see :ref:`images`).
    encoder : torch.nn.Module, default=None
        Your own backbone mapping ``(n, n_features)`` to ``(n, k)`` (deep-copied, weights kept).
    hidden_dims : tuple of int, default=None
        Default backbone: MLP widths for rows (``None``: ``(256, 256)``) or conv block channels for
        images (``None``: ``(32, 64, 128)``).
    projection_hidden_dim : int, default=256
        Hidden width of the projection head.
    feature_dim : int, default=64
        Embedding width.
    temperature_instance : float, default=0.05
        ``lambda_x``: softmax temperature of the instance loss.
    temperature_center : float, default=0.05
        ``lambda_w``: softmax temperature of the center loss.
    label_weight : float, default=0.2
        ``tau``: weight of the previous assignment in the soft labels of the instance loss.
    final_clustering : {"kmeans", "head"}, default="kmeans"
        The main head's centers after training: ``"kmeans"`` refines them by spherical k-means on the
        training embedding, free of the size constraint; ``"head"`` keeps the trained centers, as the
        reference does (see :ref:`secu_final_clustering`).
    n_epochs : int or "auto", default="auto"
        Training epochs, the first of which only initialises the centers. ``"auto"``: enough epochs
        for ``DEFAULT_STEPS`` optimizer steps, at least ``n_epochs_warmup + 2`` (see
        :ref:`secu_parameters`).
    n_epochs_warmup : int, default=10
        Linear warm-up epochs of the encoder after the first.
    batch_size : int, default=128
        Mini-batch size (all batches are used).
    lr : float, default=0.2
        Encoder SGD learning rate per 128 samples (scaled linearly with ``batch_size``).
    center_lr : float, default=1.0
        Constant SGD learning rate of the centers.
    momentum : float, default=0.9
        SGD momentum (both groups).
    weight_decay : float, default=1e-4
        SGD weight decay (both groups).
    tol : float, default=0.0
        Stop training once fewer than this share of a fixed subsample of rows changed cluster between
        epochs, at 3 epochs in a row; ``0``: train the whole schedule (:ref:`convergence`).
    augment : callable, default=None
        ``augment(x, generator) -> x'``; ``None`` picks image or tabular defaults (see :ref:`images`).
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device; ``"auto"``: CUDA when available (see :ref:`devices`).
    random_state : int, RandomState instance or None, default=None
        Seed of every random choice of the fit; global random states are untouched (see
        :ref:`reproducibility`).
    n_init : int, default=1
        Number of fits with different seeds; the one with the highest label-free :meth:`score` on the
        training data is kept (see :ref:`n_init`).
    inference_dtype : {"auto", "float32", "float64"}, default="auto"
        Precision of ``predict``, ``transform`` and ``score``; ``"auto"``: float64 on the CPU, float32
        on CUDA (see :ref:`many_rows`).
    verbose : int, default=0
        ``1`` shows a progress bar per training stage with the last epoch's loss terms; ``0`` writes
        nothing (see :ref:`training_curves`).

    Attributes
    ----------
    n_clusters_ : int
        The number of clusters of the fit: ``n_clusters``, or its estimate for ``"auto"``.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample (nearest main-head center).
    cluster_centers_ : ndarray of shape (n_clusters, feature_dim)
        Unit-norm centers of the main head (refined with ``final_clustering="kmeans"``).
    assignments_ : list of ndarray
        The stored (constrained) assignment of every training instance, per head.
    network_ : torch.nn.Module
        The trained encoder, projection head and centers.
    n_epochs_ : int
        Epochs of the schedule (``n_epochs``, or the ``"auto"`` rule's).
    history_ : list of dict
        Per-epoch ``instance`` and ``center`` losses, the smallest main-head cluster size of the
        epoch's assignments (``min_cluster``), ``steps`` and ``seconds`` (see :ref:`training_curves`).
    device_ : torch.device
        Training device.
    n_threads_ : int
        CPU threads the fit ran on (:ref:`threads`).
    n_iter_ : int
        Training epochs run, over all stages. A stage ends before its length only when a stopping rule
        ends it; its last ``history_`` row then says why (``"stop"``).
    n_features_in_ : int
        Number of input columns.
    n_features_out_ : int
        Width of ``transform``'s output (``feature_dim``).
    interrupted_ : bool
        Whether ``fit`` was stopped by ``KeyboardInterrupt`` (see :ref:`failure_safety`).
    init_scores_ : ndarray of shape (n_init,)
        The label-free :meth:`score` of each fit on the training data; only when ``n_init > 1``.

    Notes
    -----
    The reference's settings and the deviations from it (mixed precision and synchronised batch norm
    on GPUs; batched torch augmentations without blur or solarisation; evaluation by the argmax over
    the main head's centers on clean inputs, as in SCAN; a dual step that grows with the number of
    centers) are on the User Guide page, :ref:`secu`.

    **Data-parallel training.** In a ``torch.distributed`` process group of several processes (a script
    started by ``torchrun``), each process forwards its share of every batch while the losses, the
    assignments with their size or entropy constraint, the centers, the batch-norm statistics and
    updates stay those of the global batch: every process ends with the model one process would train
    (see :ref:`distributed`).

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust import SeCu
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-3, 1, (40, 4)), rng.normal(3, 1, (40, 4))])
    >>> model = SeCu(n_clusters=2, hidden_dims=(32,), projection_hidden_dim=32, feature_dim=8,
    ...              n_epochs=5, n_epochs_warmup=1, batch_size=16, device="cpu", random_state=0)
    >>> model.fit_predict(X).shape
    (80,)
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        **SingleViewMixin._single_view_constraints,
        "n_heads": [IntInterval(1, None, closed="left")],
        "constraint": [StrOptions({"size", "entropy"})],
        "size_ratio": [Interval(Real, 0, 1, closed="both")],
        "dual_lr": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "entropy_alpha": [None, Interval(Real, 0, None, closed="left")],
        "projection_hidden_dim": [IntInterval(1, None, closed="left")],
        "feature_dim": [IntInterval(1, None, closed="left")],
        "temperature_instance": [Interval(Real, 0, None, closed="neither")],
        "temperature_center": [Interval(Real, 0, None, closed="neither")],
        "label_weight": [Interval(Real, 0, 1, closed="both")],
        "final_clustering": [StrOptions({"kmeans", "head"})],
        "n_epochs": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "n_epochs_warmup": [IntInterval(0, None, closed="left")],
        "center_lr": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="left")],
    }

    _data_parallel = True  # see skdeepclust.distributed

    def __init__(
        self,
        n_clusters: int | str = 8,
        *,
        n_clusters_range: tuple[int, int] | None = None,
        n_heads: int = 3,
        constraint: str = "size",
        size_ratio: float = 0.9,
        dual_lr: float | str = "auto",
        entropy_alpha: float | None = None,
        image_shape=None,
        encoder=None,
        hidden_dims=None,
        projection_hidden_dim: int = 256,
        feature_dim: int = 64,
        temperature_instance: float = 0.05,
        temperature_center: float = 0.05,
        label_weight: float = 0.2,
        final_clustering: str = "kmeans",
        n_epochs: int | str = "auto",
        n_epochs_warmup: int = 10,
        batch_size: int = 128,
        lr: float = 0.2,
        center_lr: float = 1.0,
        momentum: float = 0.9,
        weight_decay: float = 1e-4,
        tol: float = 0.0,
        augment=None,
        device="auto",
        random_state=None,
        n_init: int = 1,
        inference_dtype: str = "auto",
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.n_clusters_range = n_clusters_range
        self.n_heads = n_heads
        self.constraint = constraint
        self.size_ratio = size_ratio
        self.dual_lr = dual_lr
        self.entropy_alpha = entropy_alpha
        self.image_shape = image_shape
        self.encoder = encoder
        self.hidden_dims = hidden_dims
        self.projection_hidden_dim = projection_hidden_dim
        self.feature_dim = feature_dim
        self.temperature_instance = temperature_instance
        self.temperature_center = temperature_center
        self.label_weight = label_weight
        self.final_clustering = final_clustering
        self.n_epochs = n_epochs
        self.n_epochs_warmup = n_epochs_warmup
        self.batch_size = batch_size
        self.lr = lr
        self.center_lr = center_lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.tol = tol
        self.augment = augment
        self.device = device
        self.random_state = random_state
        self.n_init = n_init
        self.inference_dtype = inference_dtype
        self.verbose = verbose

    def _fit_torch(self, X: torch.Tensor, trainer: Trainer) -> None:
        ctx = trainer.ctx
        X, view, backbone, width = self._prepare_training(X, ctx)
        n = X.shape[0]
        sizes = [h * self.n_clusters_ for h in range(1, self.n_heads + 1)]
        projector = build_module(lambda: ProjectionHead(width, (self.projection_hidden_dim,), self.feature_dim,
                                                        normalize=True, batchnorm=True), ctx.generator)
        # centers: column-normalised N(0, 1), one (feature_dim, K_h) matrix per head
        centers = [F.normalize(torch.randn(self.feature_dim, k, generator=ctx.generator), dim=0) for k in sizes]
        net = _SeCuNet(backbone, projector, centers).to(ctx.device)
        self.network_, self.n_features_out_ = net, self.feature_dim

        batch = clamp_batch_size(self.batch_size, n)
        optimizer = _sgd(net, self.lr * batch / 128, self.center_lr, self.momentum, self.weight_decay)
        n_epochs = self.n_epochs
        if n_epochs == "auto":
            n_epochs = epochs_for_steps(DEFAULT_STEPS, n, batch, min_epochs=self.n_epochs_warmup + 2)
        self.n_epochs_ = n_epochs
        # the encoder: lr 0 in the first epoch (it only initialises the assignments), then warm-up and cosine; the
        # centers: constant
        encoder_lr = functools.partial(warmup_cosine, n_warmup=self.n_epochs_warmup, n_epochs=n_epochs, start=1,
                                       min_warmup=1 / n_batches(n, batch, drop_last=False))

        alpha = 0.12 * n if self.entropy_alpha is None else self.entropy_alpha
        assignments = _AssignmentState(n, sizes, ctx.device, self.constraint, self.size_ratio,
                                       _dual_steps(self.dual_lr, sizes), alpha)
        snapshot = _CenterSnapshot(net)
        step = _SeCuStep(net, view, ctx.device_generator, assignments, snapshot, self.temperature_instance,
                         self.temperature_center, self.label_weight)
        callbacks = [snapshot, _SmallestCluster(assignments.labels[0], sizes[0]),
                     LRSchedule(optimizer, [encoder_lr, None]),
                     *stop_when_stable(self.tol, lambda: assignments.labels[0])]
        trainer.run("secu", step, n_samples=n, n_epochs=n_epochs, batch_size=batch, optimizer=optimizer,
                    modules=[net], drop_last=False, callbacks=callbacks)
        self.assignments_ = [a.cpu().numpy() for a in assignments.labels]
        if self.final_clustering == "kmeans":  # the main head's centers, freed from the size constraint
            refined, _ = refine_centers(embed_batches(net.embed, X, [net]), net.head(0).detach().T.float())
            net.centers[0].data.copy_(refined.T.to(net.centers[0].dtype))
        self.cluster_centers_ = net.head(0).detach().T.float().cpu().numpy()

    def _infer(self, mods: dict, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        net = mods["network_"]
        emb = net.embed(self._scaled(mods, X))
        return emb, (emb @ net.head(0)).argmax(1)
