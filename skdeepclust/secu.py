"""SeCu: stable cluster discrimination with a global size or entropy constraint.

Qian, "Stable Cluster Discrimination for Deep Clustering" (ICCV 2023; code idstcv/SeCu).
Specification: the official code.
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
from .single_view import SingleViewMixin
from .training import (
    Callback,
    LoopState,
    LRSchedule,
    Trainer,
    clamp_batch_size,
    epochs_for_steps,
    n_batches,
    warmup_cosine,
)

__all__ = ["SeCu", "entropy_constrained_assignment", "secu_centre_loss", "size_constrained_assignment"]

#: optimizer steps of the default schedule (``max_epochs=None``): about 60 epochs of USPS or MNIST-10k,
#: 375 of COIL-20, 300 of the 8x8 digits (see the User Guide and benchmarks/results/studies/)
DEFAULT_STEPS = 4500


def secu_centre_loss(features: torch.Tensor, centres: torch.Tensor, labels: torch.Tensor, temperature: float):
    """SeCu's cluster-discrimination loss: only each instance's own centre receives gradient.

    The logits ``x_i . w_k / T`` are computed with detached features; every column but the assigned
    one is detached as well, so a centre is moved only by its own instances, each weighted by
    ``1 - p_ik`` (hard instances pull more), and clusters without instances in the batch stay put.

    Parameters
    ----------
    features : torch.Tensor of shape (n, d)
        Unit-norm embeddings (detached inside).
    centres : torch.Tensor of shape (d, K)
        Unit-norm centres (columns), with gradient.
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
    w = centres.float()
    logits = (x @ w.detach()) / temperature
    own = (x * w[:, labels].T).sum(1, keepdim=True) / temperature
    logits = logits.scatter(1, labels[:, None], own)
    return F.cross_entropy(logits, labels)


def size_constrained_assignment(
    scores: torch.Tensor, duals: torch.Tensor, ratio: float, dual_lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Assign with a cluster-size lower bound (dual variables, one dual-ascent step per batch).

    ``y_i = argmax_k (s_ik + rho_k)``, then ``rho_k <- max(0, rho_k + dual_lr (ratio / K - b_k / B))``
    with ``b_k`` the batch counts: clusters below ``ratio * N / K`` become more attractive.

    Parameters
    ----------
    scores : torch.Tensor of shape (B, K)
        Similarities to the centres.
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


class _SeCuNet(nn.Module):
    """Backbone + projection head (unit-norm output) + one centre matrix per head."""

    def __init__(self, backbone: nn.Module, projector: nn.Module, centres: list[torch.Tensor]):
        super().__init__()
        self.backbone, self.projector = backbone, projector
        self.centres = nn.ParameterList(nn.Parameter(c) for c in centres)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.backbone(x))

    def head(self, h: int) -> torch.Tensor:
        return F.normalize(self.centres[h], dim=0)


class _HeadSnapshot(Callback):
    """The normalised centres of every head at the start of each epoch (the targets of the instance loss)."""

    def __init__(self, net: _SeCuNet):
        self.net, self.heads = net, []

    def on_epoch_begin(self, state: LoopState) -> None:  # noqa: D102
        self.heads = [self.net.head(h).detach().clone() for h in range(len(self.net.centres))]


class _SmallestCluster(Callback):
    """Record the smallest cluster of the main head's stored assignments after each epoch."""

    def __init__(self, assignments: torch.Tensor, k: int):
        self.assignments, self.k = assignments, k

    def on_epoch_end(self, state: LoopState, record: dict) -> None:  # noqa: D102
        record["min_cluster"] = int(torch.bincount(self.assignments, minlength=self.k).min())


class SeCu(SingleViewMixin, BaseDeepClusterer):
    """Stable cluster discrimination (SeCu) with a global size or entropy constraint.

    One stage, no pre-training and no k-means: an encoder, learnable unit-norm cluster centres and one
    stored assignment per training instance are learned jointly on two augmentations per batch, for
    ``n_heads`` clustering heads with ``K, 2K, ...`` centres. Per batch and head:

    1. **assignment** (no gradient) by the two views' mean similarity to the current centres, under
       the constraint: ``"size"`` (every cluster at least ``size_ratio * N / K``, dual variables with
       one ascent step per batch) or ``"entropy"`` (greedy closed-form minimisation of cost plus
       ``entropy_alpha`` times the negative entropy of the global cluster sizes);
    2. **centre loss** (:func:`secu_centre_loss`, gradient to the centres only): only an instance's
       own centre moves, weighted by its hardness ``1 - p``;
    3. **representation loss** (gradient to the encoder only): cross-entropy against the centres
       frozen at the start of the epoch, with soft targets mixing the other view's prediction and the
       instance's previous-epoch assignment (``label_weight``).

    The encoder's learning rate is 0 in the first epoch (which only initialises centres, assignments
    and duals), then warms up linearly for ``warmup_epochs`` and decays with a cosine; the centres
    have a constant rate ``center_lr``. ``predict`` assigns to the nearest centre (cosine) of the
    head with ``n_clusters`` centres, with no constraint.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters of the main head.
    n_heads : int, default=3
        Heads with ``K, 2K, ..., n_heads * K`` centres (the reference uses 10).
    constraint : {"size", "entropy"}, default="size"
        Global constraint of the assignment step.
    size_ratio : float, default=0.9
        ``gamma`` of the size constraint.
    dual_lr : float, default=0.1
        Dual ascent step of the size constraint.
    entropy_alpha : float, default=None
        Weight of the entropy constraint; ``None`` uses ``0.12 * n_samples`` (the reference's 6000
        for 50k instances).
    image_shape : tuple of int, default=None
        ``(C, H, W)`` when rows are flattened images in ``[0, 1]``.
    encoder : torch.nn.Module, default=None
        Your own backbone mapping ``(n, n_features)`` to ``(n, k)`` (deep-copied, weights kept).
    hidden_dims : tuple of int, default=None
        Default backbone: MLP widths for rows (``None``: ``(256, 256)``) or conv block channels for
        images (``None``: ``(32, 64, 128)``).
    projection_hidden_dim : int, default=256
        Hidden width of the projection head.
    feature_dim : int, default=64
        Embedding width.
    temperature_repr : float, default=0.05
        ``lambda_x`` of the representation loss.
    temperature_centre : float, default=0.05
        ``lambda_w`` of the centre loss.
    label_weight : float, default=0.2
        ``tau``: weight of the previous assignment in the soft targets.
    max_epochs : int, default=None
        Epochs, the first of which only initialises the centres. ``None`` sets the schedule in
        optimizer steps instead: enough epochs for ``DEFAULT_STEPS`` (4500) steps, at most 1000
        (``training.STEP_SCHEDULE_MAX_EPOCHS``) and at least ``warmup_epochs + 2``, so small data sets
        get as many updates as large ones (see the User Guide).
    warmup_epochs : int, default=10
        Linear warm-up epochs of the encoder after the first.
    batch_size : int, default=128
        Mini-batch size (all batches are used).
    lr : float, default=0.2
        Encoder SGD learning rate per 128 samples (scaled linearly with ``batch_size``).
    center_lr : float, default=1.0
        Constant SGD learning rate of the centres.
    momentum : float, default=0.9
        SGD momentum (both groups).
    weight_decay : float, default=1e-4
        SGD weight decay (both groups, as the reference).
    augment : callable, default=None
        ``augment(x, generator) -> x'``; ``None`` picks image or tabular defaults.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device.
    random_state : int, RandomState instance or None, default=None
        Seed of every random choice of the fit; global random states are untouched.
    n_init : int, default=1
        Number of fits with different seeds (drawn from ``random_state``); the one with the highest
        label-free :meth:`score` on the training data is kept, as :class:`~sklearn.cluster.KMeans` keeps
        its lowest inertia. Costs ``n_init`` times the fit time. See the User Guide on choosing
        hyperparameters without labels.
    inference_dtype : {"auto", "float32", "float64"}, default="auto"
        Precision of ``predict``, ``transform`` and ``score`` (the output keeps the input's float dtype).
        ``"auto"``: float64 on the CPU, so that a row's result never depends on the batch it is computed
        in, and float32 on CUDA. ``"float32"`` on the CPU is 2 to 3 times faster (User Guide, "Many rows"),
        but a row's embedding can then differ in its last digits with its batch, and a label can flip at
        a near tie.
    verbose : int, default=0
        ``1`` shows a progress bar per training stage (tqdm, on stderr; a widget in Jupyter) with the
        loss terms of the last epoch; ``0`` writes nothing.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample (nearest main-head centre).
    cluster_centers_ : ndarray of shape (n_clusters, feature_dim)
        Unit-norm centres of the main head.
    assignments_ : list of ndarray
        The stored (constrained) assignment of every training instance, per head.
    network_ : torch.nn.Module
        The trained encoder, projection head and centres.
    n_epochs_ : int
        Epochs of the schedule (``max_epochs``, or the step-based default).
    history_ : list of dict
        Per-epoch ``repr`` and ``centre`` losses, the smallest main-head cluster size of the epoch's
        assignments (``min_cluster``), ``steps`` and ``seconds``.
    device_ : torch.device
        Training device.
    n_features_in_ : int
        Number of input columns.
    n_features_out_ : int
        Width of ``transform``'s output (``feature_dim``).
    interrupted_ : bool
        Whether ``fit`` was stopped by ``KeyboardInterrupt`` (see the User Guide: the model is usable).
    init_scores_ : ndarray of shape (n_init,)
        The label-free :meth:`score` of each fit on the training data; only when ``n_init > 1``.

    Notes
    -----
    **Scale.** The reference trains a CIFAR-stem ResNet-18 with a 512 -> 512 -> 128 head and 10 heads for
    401 (CIFAR-10) to 801 epochs, batch 128, SGD lr 0.2, centre lr 1.2 (CIFAR-10) or 0.8, weight decay
    1e-4, ``lambda_x = lambda_w = 0.05`` (``lambda_w = 1`` on STL-10), ``tau = 0.2``, size constraint
    ``gamma = 0.9``, ``eta = 0.1``. The defaults follow the spec's CPU recommendations (3 heads, a small
    backbone, 64-d embedding) with a schedule of 4500 optimizer steps (``max_epochs=None``).

    **Deviations.** The reference uses AMP on GPUs and SyncBN; augmentations here are batched torch
    re-implementations of the two symmetric views (no blur or solarize); evaluation follows SCAN's
    pipeline as the spec recommends (argmax over the main head's centres on clean inputs).

    **Data-parallel training.** In a ``torch.distributed`` process group of several processes (a script
    started by ``torchrun``), each process forwards its share of every batch while the losses, the
    assignments with their size or entropy constraint, the centres, the batch-norm statistics and
    updates stay those of the global batch: every process ends with the model one process would train
    (see the User Guide).

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust import SeCu
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-3, 1, (40, 4)), rng.normal(3, 1, (40, 4))])
    >>> model = SeCu(n_clusters=2, hidden_dims=(32,), projection_hidden_dim=32, feature_dim=8,
    ...              max_epochs=5, warmup_epochs=1, batch_size=16, device="cpu", random_state=0)
    >>> model.fit_predict(X).shape
    (80,)
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        **SingleViewMixin._single_view_constraints,
        "n_heads": [IntInterval(1, None, closed="left")],
        "constraint": [StrOptions({"size", "entropy"})],
        "size_ratio": [Interval(Real, 0, 1, closed="both")],
        "dual_lr": [Interval(Real, 0, None, closed="left")],
        "entropy_alpha": [None, Interval(Real, 0, None, closed="left")],
        "projection_hidden_dim": [IntInterval(1, None, closed="left")],
        "feature_dim": [IntInterval(1, None, closed="left")],
        "temperature_repr": [Interval(Real, 0, None, closed="neither")],
        "temperature_centre": [Interval(Real, 0, None, closed="neither")],
        "label_weight": [Interval(Real, 0, 1, closed="both")],
        "max_epochs": [None, IntInterval(0, None, closed="left")],
        "warmup_epochs": [IntInterval(0, None, closed="left")],
        "center_lr": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
    }

    _data_parallel = True  # see skdeepclust.distributed

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        n_heads: int = 3,
        constraint: str = "size",
        size_ratio: float = 0.9,
        dual_lr: float = 0.1,
        entropy_alpha: float | None = None,
        image_shape=None,
        encoder=None,
        hidden_dims=None,
        projection_hidden_dim: int = 256,
        feature_dim: int = 64,
        temperature_repr: float = 0.05,
        temperature_centre: float = 0.05,
        label_weight: float = 0.2,
        max_epochs: int | None = None,
        warmup_epochs: int = 10,
        batch_size: int = 128,
        lr: float = 0.2,
        center_lr: float = 1.0,
        momentum: float = 0.9,
        weight_decay: float = 1e-4,
        augment=None,
        device="auto",
        random_state=None,
        n_init: int = 1,
        inference_dtype: str = "auto",
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
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
        self.temperature_repr = temperature_repr
        self.temperature_centre = temperature_centre
        self.label_weight = label_weight
        self.max_epochs = max_epochs
        self.warmup_epochs = warmup_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.center_lr = center_lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.augment = augment
        self.device = device
        self.random_state = random_state
        self.n_init = n_init
        self.inference_dtype = inference_dtype
        self.verbose = verbose

    def _fit_torch(self, X: torch.Tensor, trainer: Trainer) -> None:
        ctx = trainer.ctx
        X, augment, backbone, rep = self._prepare_training(X, ctx)
        n = X.shape[0]
        sizes = [h * self.n_clusters for h in range(1, self.n_heads + 1)]
        projector = build_module(lambda: ProjectionHead(rep, (self.projection_hidden_dim,), self.feature_dim,
                                                        normalize=True, batchnorm=True), ctx.generator)
        # centres: column-normalised N(0, 1), one (feature_dim, k) matrix per head
        centres = [F.normalize(torch.randn(self.feature_dim, k, generator=ctx.generator), dim=0) for k in sizes]
        net = _SeCuNet(backbone, projector, centres).to(ctx.device)
        self.network_, self.n_features_out_ = net, self.feature_dim

        batch = clamp_batch_size(self.batch_size, n)
        encoder_params = list(net.backbone.parameters()) + list(net.projector.parameters())
        optimizer = torch.optim.SGD(
            [
                {"params": encoder_params, "lr": self.lr * batch / 128},
                {"params": list(net.centres.parameters()), "lr": self.center_lr},
            ],
            lr=self.lr * batch / 128,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
        )
        warm, total = self.warmup_epochs, self.max_epochs
        if total is None:
            total = epochs_for_steps(DEFAULT_STEPS, n, batch, min_epochs=warm + 2)
        self.n_epochs_ = total
        steps_per_epoch = n_batches(n, batch, drop_last=False)

        # the encoder: lr 0 in the first epoch (it only initialises the assignments), then warm-up and cosine; the
        # centres: constant
        lr_factor = functools.partial(warmup_cosine, n_warmup=warm, n_epochs=total, start=1,
                                      min_warmup=1 / steps_per_epoch)
        dev = ctx.device
        assign = [torch.ones(n, dtype=torch.long, device=dev) for _ in sizes]  # stored label of every instance
        duals = [torch.zeros(k, device=dev) for k in sizes]
        counts = [torch.zeros(k, device=dev) for k in sizes]
        alpha = 0.12 * n if self.entropy_alpha is None else self.entropy_alpha
        H, tau = len(sizes), self.label_weight
        snapshot = _HeadSnapshot(net)

        def step(idx, state):
            first_epoch = state.epoch == 0
            # both views drawn for the whole batch (the same random stream in every process); each process
            # forwards its rows and the features of the whole batch are gathered (see skdeepclust.distributed)
            x1, x2 = augment(X[idx], ctx.device_generator), augment(X[idx], ctx.device_generator)
            f1, f2 = state.gather(net.embed(state.local(x1))), state.gather(net.embed(state.local(x2)))
            loss_x, loss_c = 0.0, 0.0
            for h in range(H):
                w = net.head(h)
                with torch.no_grad():  # the constrained assignment of the batch (the cluster-level step)
                    scores = 0.5 * (f1.detach().float() + f2.detach().float()) @ w.detach().float()
                    old = assign[h][idx]
                    if self.constraint == "size":
                        new, duals[h] = size_constrained_assignment(scores, duals[h], self.size_ratio, self.dual_lr)
                    else:
                        new, counts[h] = entropy_constrained_assignment(
                            -scores, counts[h], alpha, None if first_epoch else old
                        )
                    if first_epoch:
                        old = new
                    assign[h][idx] = new
                loss_c = loss_c + secu_centre_loss(f1, w, new, self.temperature_centre)
                loss_c = loss_c + secu_centre_loss(f2, w, new, self.temperature_centre)
                u1 = f1.float() @ snapshot.heads[h] / self.temperature_repr
                u2 = f2.float() @ snapshot.heads[h] / self.temperature_repr
                one_hot = F.one_hot(old, sizes[h]).float()
                with torch.no_grad():
                    q1 = (1 - tau) * torch.softmax(u2, 1) + tau * one_hot
                    q2 = (1 - tau) * torch.softmax(u1, 1) + tau * one_hot
                loss_x = loss_x - (q1 * F.log_softmax(u1, 1)).sum(1).mean() - (q2 * F.log_softmax(u2, 1)).sum(1).mean()
            return {"repr": loss_x / (2 * H), "centre": loss_c / (2 * H)}

        trainer.run("secu", step, n_samples=n, n_epochs=total, batch_size=batch, optimizer=optimizer, modules=[net],
                    drop_last=False, callbacks=[snapshot, _SmallestCluster(assign[0], sizes[0]),
                                                LRSchedule(optimizer, [lr_factor, None])])
        self.assignments_ = [a.cpu().numpy() for a in assign]
        self.cluster_centers_ = net.head(0).detach().T.float().cpu().numpy()

    def _infer(self, mods: dict, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        net = mods["network_"]
        emb = net.embed(self._scaled(mods, X))
        return emb, (emb @ net.head(0)).argmax(1)

