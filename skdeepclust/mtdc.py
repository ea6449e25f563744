"""MTDC: mutual-taught deep clustering on the Contrastive Clustering baseline.

Pseudo-labels (label space) teach the feature space through a supervised contrast, and feature-space
similarities teach the label space through a hyperspherical-consistency regulariser.
Specification: the official code (final version). The module follows the method: the network
(:class:`_MTDCNet`), the loss terms (the two CC terms, HCR, the pseudo-labels and PCL), the training step
(:class:`_MTDCStep`), the schedule of the two stages (:func:`_stage_epochs`: a plain CC warm-up, then the
full objective) and the estimator.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from numbers import Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._utils import build_module
from ._validation import IntInterval
from .base import BaseDeepClusterer
from .losses import (
    cluster_contrastive_loss,
    hyperspherical_consistency,
    nt_xent,
    pseudo_label_supcon,
    topk_agreement_mask,
)
from .nn import ClusterHead, ProjectionHead
from .single_view import SingleViewMixin, stable_rows, stop_when_stable
from .training import LoopState, Trainer, clamp_batch_size, embed_batches, epochs_for_steps

__all__ = ["MTDC"]

#: optimizer steps of the default schedule (``n_epochs="auto"``) at batches of up to ``BASE_BATCH_SIZE`` rows:
#: about 110 epochs of USPS, 100 of MNIST-10k, 800 of COIL-20 and 570 of the 8x8 digits; a larger batch gets
#: the same number of rows in fewer steps
DEFAULT_STEPS = 4000

#: batch size of ``batch_size="auto"`` up to 25 clusters (CC's)
BASE_BATCH_SIZE = 256

#: rows per cluster that ``batch_size="auto"`` keeps in a batch when ``n_clusters`` is large: the cluster
#: contrast represents each cluster by its column over the batch
ROWS_PER_CLUSTER = 10

#: ``T_base`` of the pseudo-label supervised contrast (SupCon's default): the loss is scaled by ``T / T_base``
SUPCON_BASE_TEMPERATURE = 0.07


# ---------------------------------------------------------------------------------------------------- network
class _MTDCNet(nn.Module):
    """Backbone with an instance projector (unit rows) and a cluster projector (softmax)."""

    def __init__(self, backbone: nn.Module, instance: nn.Module, cluster: nn.Module):
        super().__init__()
        self.backbone, self.instance, self.cluster = backbone, instance, cluster

    @classmethod
    def build(cls, backbone: nn.Module, width: int, feature_dim: int, n_clusters: int,
              generator: torch.Generator) -> _MTDCNet:
        """The reference's heads on ``backbone``: ``width -> width -> feature_dim`` and ``width -> width -> K``."""
        instance = build_module(lambda: ProjectionHead(width, (width,), feature_dim, normalize=True), generator)
        cluster = build_module(lambda: ClusterHead(width, n_clusters, hidden_dims=(width,)), generator)
        return cls(backbone, instance, cluster)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.backbone(x)
        return self.instance(h), torch.softmax(self.cluster(h), dim=1)


# ------------------------------------------------------------------------------------------------- loss terms
def _cc_terms(za: torch.Tensor, zb: torch.Tensor, ca: torch.Tensor, cb: torch.Tensor,
              temperature_instance: float, temperature_cluster: float, entropy_weight: float = 1.0
              ) -> dict[str, torch.Tensor]:
    """The two Contrastive Clustering terms: instance contrast of the features, cluster contrast of the heads."""
    return {
        "instance": nt_xent(za, zb, temperature_instance),
        "cluster": cluster_contrastive_loss(ca, cb, temperature_cluster, entropy_weight),
    }


def _hcr_term(za: torch.Tensor, zb: torch.Tensor, ca: torch.Tensor, cb: torch.Tensor) -> torch.Tensor:
    """Feature space teaches label space: pairwise feature similarities (detached) as targets of the heads'."""
    return hyperspherical_consistency(torch.cat([ca, cb]), torch.cat([za, zb]))


def _pseudo_label_agreement(net: _MTDCNet, x: torch.Tensor, topk: int) -> torch.Tensor:
    """Which samples of the clean batch share their ordered top-``topk`` clusters (eval mode, no gradient)."""
    probs = embed_batches(lambda v: net(v)[1], x, [net], batch_size=x.shape[0])
    return topk_agreement_mask(probs, topk)


def _pcl_term(za: torch.Tensor, zb: torch.Tensor, same: torch.Tensor, temperature: float) -> torch.Tensor:
    """Label space teaches feature space: supervised contrast with the pseudo-label agreement as positives."""
    return pseudo_label_supcon(za, zb, same, temperature, SUPCON_BASE_TEMPERATURE)


# ---------------------------------------------------------------------------------------------- training step
@dataclass(frozen=True, eq=False)
class _MTDCStep:
    """The loss terms of one batch, ``step(indices, state)`` for :meth:`Trainer.run`.

    ``instance + cluster + hcr_weight * hcr + supcon_weight * pcl``; a mutual term of weight 0 is not
    computed, so the warm-up (both weights 0) trains the plain CC objective.
    """

    net: _MTDCNet
    X: torch.Tensor
    view: Callable[[torch.Tensor, torch.Generator], torch.Tensor]
    generator: torch.Generator
    temperature_instance: float
    temperature_cluster: float
    hcr_weight: float
    supcon_weight: float
    temperature_supcon: float
    topk: int
    entropy_weight: float = 1.0

    def _views(self, idx: torch.Tensor, state: LoopState) -> tuple[torch.Tensor, torch.Tensor]:
        # the view is drawn for the whole batch; each process forwards its rows, the outputs of the whole batch
        # are gathered (see skdeepclust.distributed)
        z, c = self.net(state.local(self.view(idx, self.generator)))
        return state.gather(z), state.gather(c)

    def __call__(self, idx: torch.Tensor, state: LoopState) -> dict[str, torch.Tensor]:
        x = self.X[idx]
        same = _pseudo_label_agreement(self.net, x, self.topk) if self.supcon_weight else None
        za, ca = self._views(idx, state)
        zb, cb = self._views(idx, state)
        terms = _cc_terms(za, zb, ca, cb, self.temperature_instance, self.temperature_cluster, self.entropy_weight)
        if self.hcr_weight:
            terms["hcr"] = self.hcr_weight * _hcr_term(za, zb, ca, cb)
        if same is not None:
            terms["pcl"] = self.supcon_weight * _pcl_term(za, zb, same, self.temperature_supcon)
        return terms


# --------------------------------------------------------------------------------------------------- schedule
def _batch_size(batch_size, n_clusters: int, n_samples: int) -> int:
    """The batch size of a fit, at most ``n_samples``.

    ``batch_size``, or for ``"auto"`` the larger of ``BASE_BATCH_SIZE`` and ``ROWS_PER_CLUSTER * n_clusters``.

    Examples
    --------
    >>> _batch_size("auto", 10, 9298), _batch_size("auto", 100, 2000), _batch_size("auto", 100, 600)
    (256, 1000, 600)
    >>> _batch_size(64, 100, 2000)
    64
    """
    if batch_size == "auto":
        batch_size = max(BASE_BATCH_SIZE, ROWS_PER_CLUSTER * n_clusters)
    return clamp_batch_size(batch_size, n_samples)


def _stage_epochs(n_epochs, n_epochs_warmup, n_samples: int, batch_size: int, mutual: bool = True) -> tuple[int, int]:
    """Epochs of the whole schedule and of its plain CC warm-up.

    Parameters
    ----------
    n_epochs : int or "auto"
        Epochs of the schedule; ``"auto"``: enough for ``DEFAULT_STEPS`` optimizer steps (last incomplete
        batch dropped), or as many rows in fewer steps for a batch above ``BASE_BATCH_SIZE``, at most 1000
        epochs (:func:`~skdeepclust.training.epochs_for_steps`).
    n_epochs_warmup : int or "auto"
        Epochs of the CC objective alone, at most the schedule; ``"auto"``: half of it.
    n_samples : int
        Training samples.
    batch_size : int
        Mini-batch size.
    mutual : bool, default=True
        Whether the full objective has a mutual term (``False``: the whole schedule is the CC warm-up).

    Returns
    -------
    n_epochs, n_epochs_warmup : int

    Examples
    --------
    >>> _stage_epochs("auto", "auto", 1797, 256)  # 7 steps per epoch
    (572, 286)
    >>> _stage_epochs("auto", "auto", 2000, 1000)  # 1024 steps of 1000 rows, 2 per epoch
    (512, 256)
    >>> _stage_epochs(10, 20, 1797, 256), _stage_epochs(10, "auto", 1797, 256, mutual=False)
    ((10, 10), (10, 10))
    """
    if n_epochs == "auto":
        n_steps = math.ceil(DEFAULT_STEPS * BASE_BATCH_SIZE / max(batch_size, BASE_BATCH_SIZE))
        n_epochs = epochs_for_steps(n_steps, n_samples, batch_size, drop_last=True)
    if not mutual:
        return n_epochs, n_epochs
    return n_epochs, n_epochs // 2 if n_epochs_warmup == "auto" else min(n_epochs_warmup, n_epochs)


def _head_labels(net: _MTDCNet, X: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """The cluster head's clusters of ``X[rows]`` (eval mode), which the ``tol`` rule follows."""
    return embed_batches(lambda b: net(b)[1].argmax(1), X[rows], [net])


# -------------------------------------------------------------------------------------------------- estimator
class MTDC(SingleViewMixin, BaseDeepClusterer):
    """Mutual-taught deep clustering (MTDC) on a Contrastive Clustering (CC) baseline.

    A backbone feeds an instance projector (unit-norm features) and a cluster projector (softmax over
    ``n_clusters``), trained from scratch on two augmentations of every batch with

    ``L = NT-Xent(z_a, z_b) + ClusterContrast(c_a, c_b) + hcr_weight * HCR + supcon_weight * PCL``:

    - the two Contrastive Clustering terms (instance contrast at ``temperature_instance``, cluster
      contrast with entropy balance at ``temperature_cluster``);
    - **PCL** (label space teaches feature space): a no-grad, eval-mode pass on the clean batch gives
      each sample its ordered top-``topk`` clusters; samples with identical tuples are extra positives
      of a supervised contrast on the instance features;
    - **HCR** (feature space teaches label space): pairwise similarities of the detached features are
      targets for the pairwise similarities of the cluster-probability vectors.

    By default the first half of the schedule trains the CC terms alone (``n_epochs_warmup``).
    ``hcr_weight=0, supcon_weight=0`` gives the plain CC baseline. Labels: argmax of the cluster head on
    the clean input (inductive, so ``predict`` works on new samples). See the User Guide, :ref:`mtdc`.

    Parameters
    ----------
    n_clusters : int or "auto", default=8
        Number of clusters. ``"auto"``: estimated at the start of ``fit`` by
        :func:`~skdeepclust.estimate_n_clusters` on the training input scaled as the network sees it;
        ``n_clusters_`` holds the number used (:ref:`n_clusters_guide`).
    n_clusters_range : (int, int), default=None
        Smallest and largest number of clusters that ``n_clusters="auto"`` considers, both included
        (``2 <= lower <= upper < n_samples``); ``None``: ``(2, min(n_samples // 10, 200))``. Ignored for an
        int ``n_clusters``.
    image_shape : tuple of int, default=None
        ``(C, H, W)`` when rows are flattened images in ``[0, 1]``; ``None`` for tabular rows
        (standardised internally).
    encoder : torch.nn.Module, default=None
        Your own backbone mapping ``(n, n_features)`` to ``(n, k)`` (deep-copied, weights kept).
    hidden_dims : tuple of int, default=None
        Default backbone: MLP widths for tabular rows (``None``: ``(512, 512)``, the spec's adaptation)
        or the channels of the stride-2 conv blocks for images (``None``: ``(32, 64, 128)``).
    feature_dim : int, default=128
        Width of the instance features.
    n_epochs : int or "auto", default="auto"
        Training epochs. ``"auto"``: enough epochs for ``DEFAULT_STEPS`` (4000) optimizer steps (for a
        batch above 256 rows, as many rows in fewer steps), at most 1000 (:ref:`schedule <mtdc_schedule>`).
    batch_size : int or "auto", default="auto"
        Mini-batch size (the last incomplete batch is dropped); ``"auto"``: 256 (CC's), or 10 rows per
        cluster from 26 clusters on (:ref:`batch size <mtdc_batch>`).
    lr : float, default=1e-3
        Adam learning rate (the reference's is 3e-4; :ref:`schedule <mtdc_schedule>`).
    weight_decay : float, default=0.0
        Adam weight decay.
    temperature_instance : float, default=0.5
        Instance-contrast temperature (CC's 0.5); when one class is much larger than the others, try 1.0
        (:ref:`temperature <mtdc_temperature>`).
    temperature_cluster : float, default=1.0
        Cluster-contrast temperature.
    hcr_weight : float, default=10.0
        Weight of the feature-to-label regulariser HCR (``0`` leaves it out).
    supcon_weight : float, default=0.1
        Weight of the pseudo-label supervised contrast PCL (``0`` leaves it out).
    temperature_supcon : float, default=0.5
        Temperature ``T`` of PCL (see Notes for its ``T_base``).
    topk : int, default=3
        Length of the ordered top-k tuple that defines a pseudo-label.
    n_epochs_warmup : int or "auto", default="auto"
        Epochs of the plain CC objective (history stage ``"cc"``) before the mutual terms join (stage
        ``"mtdc"``); ``"auto"``: half of the epochs, ``0``: the full objective from the first step, as
        the reference code (:ref:`warm-up <mtdc_warmup>`).
    tol : float, default=0.0
        Stop training once fewer than this share of a fixed subsample of rows changed cluster between
        epochs, at 3 epochs in a row of the mutual stage; ``0``: train the whole schedule (:ref:`convergence`).
    augment : callable, default=None
        ``augment(x, generator) -> x'`` on a batch of rows; ``None`` picks image or tabular defaults.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device; ``"auto"``: CUDA when available (:ref:`devices`).
    random_state : int, RandomState instance or None, default=None
        Seed of every random choice of the fit (:ref:`reproducibility`).
    n_init : int, default=1
        Number of fits with different seeds; the one with the highest label-free :meth:`score` is kept
        (:ref:`n_init`).
    inference_dtype : {"auto", "float32", "float64"}, default="auto"
        Precision of ``predict``, ``transform`` and ``score``; ``"auto"``: float64 on the CPU, float32 on
        CUDA (:ref:`many_rows`).
    verbose : int, default=0
        ``1`` shows a progress bar per training stage, ``0`` writes nothing (:ref:`training_curves`).

    Attributes
    ----------
    n_clusters_ : int
        The number of clusters of the fit: ``n_clusters``, or its estimate for ``"auto"``.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    network_ : torch.nn.Module
        The trained network (``backbone``, ``instance``, ``cluster``).
    history_ : list of dict
        Per-epoch loss terms (``instance``, ``cluster``, and in stage ``"mtdc"`` ``hcr`` and ``pcl``
        where their weight is not 0), ``steps`` and ``seconds``.
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
        Width of ``transform``'s output: the cluster probabilities (``n_clusters``).
    n_epochs_ : int
        Number of training epochs used.
    batch_size_ : int
        The batch size used.
    n_epochs_warmup_ : int
        Epochs trained with the CC objective alone (all of them when ``hcr_weight`` and
        ``supcon_weight`` are 0).
    interrupted_ : bool
        Whether ``fit`` was stopped by ``KeyboardInterrupt`` (:ref:`failure_safety`).
    init_scores_ : ndarray of shape (n_init,)
        The label-free :meth:`score` of each fit on the training data; only when ``n_init > 1``.

    Notes
    -----
    **Scale.** The defaults keep the reference's heads, losses and optimiser and scale down the backbone
    (MLP 512-512 for rows, a small conv net at native resolution for images) and the schedule
    (:ref:`paper-scale settings <mtdc_paper_scale>`).

    **PCL's base temperature.** PCL is SupCon's loss scaled by ``T / T_base``, with ``T``
    ``temperature_supcon`` and ``T_base`` the module constant ``SUPCON_BASE_TEMPERATURE`` (0.07, SupCon's
    default and the reference's).

    **Deviations.** Images are augmented at native resolution with batched torch ops (crop, small
    rotation, intensity jitter; no upsampling to 224, no hue); tabular rows get feature-space
    augmentations (entries swapped with a nearby row's, then noise), which the paper does not cover;
    the learning rate is 1e-3 instead of 3e-4; the first half of the schedule trains the CC objective
    alone, where the reference trains the full objective from the first step (``n_epochs_warmup=0``).
    Why each:
    :ref:`deviations <mtdc_deviations>`.

    **Data-parallel training.** In a ``torch.distributed`` process group of several processes, each
    process forwards its share of every batch while the losses, the pseudo-labels, the batch-norm
    statistics and updates stay those of the global batch (:ref:`distributed`).

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust import MTDC
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-3, 1, (40, 4)), rng.normal(3, 1, (40, 4))])
    >>> model = MTDC(n_clusters=2, hidden_dims=(32,), feature_dim=8, n_epochs=5, batch_size=32,
    ...              device="cpu", random_state=0)
    >>> model.fit_predict(X).shape
    (80,)
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        **SingleViewMixin._single_view_constraints,
        "feature_dim": [IntInterval(1, None, closed="left")],
        "n_epochs": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [IntInterval(2, None, closed="left"), StrOptions({"auto"})],
        "temperature_instance": [Interval(Real, 0, None, closed="neither")],
        "temperature_cluster": [Interval(Real, 0, None, closed="neither")],
        "hcr_weight": [Interval(Real, 0, None, closed="left")],
        "supcon_weight": [Interval(Real, 0, None, closed="left")],
        "temperature_supcon": [Interval(Real, 0, None, closed="neither")],
        "topk": [IntInterval(1, None, closed="left")],
        "n_epochs_warmup": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "tol": [Interval(Real, 0, 1, closed="left")],
    }

    _default_hidden_dims = {"tabular": (512, 512), "image": (32, 64, 128)}

    _data_parallel = True  # see skdeepclust.distributed
    _entropy_weight = 1.0  # weight of the cluster contrast's balance term (benchmarks/ablations.py)

    def __init__(
        self,
        n_clusters: int | str = 8,
        *,
        n_clusters_range: tuple[int, int] | None = None,
        image_shape=None,
        encoder=None,
        hidden_dims=None,
        feature_dim: int = 128,
        n_epochs: int | str = "auto",
        batch_size: int | str = "auto",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        temperature_instance: float = 0.5,
        temperature_cluster: float = 1.0,
        hcr_weight: float = 10.0,
        supcon_weight: float = 0.1,
        temperature_supcon: float = 0.5,
        topk: int = 3,
        n_epochs_warmup: int | str = "auto",
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
        self.image_shape = image_shape
        self.encoder = encoder
        self.hidden_dims = hidden_dims
        self.feature_dim = feature_dim
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.temperature_instance = temperature_instance
        self.temperature_cluster = temperature_cluster
        self.hcr_weight = hcr_weight
        self.supcon_weight = supcon_weight
        self.temperature_supcon = temperature_supcon
        self.topk = topk
        self.n_epochs_warmup = n_epochs_warmup
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
        net = _MTDCNet.build(backbone, width, self.feature_dim, self.n_clusters_, ctx.generator).to(ctx.device)
        self.network_, self.n_features_out_ = net, self.n_clusters_
        mutual = bool(self.hcr_weight or self.supcon_weight)  # both 0: the CC baseline, all of it the warm-up
        self.batch_size_ = _batch_size(self.batch_size, self.n_clusters_, X.shape[0])
        self.n_epochs_, self.n_epochs_warmup_ = _stage_epochs(self.n_epochs, self.n_epochs_warmup, X.shape[0],
                                                              self.batch_size_, mutual)
        full = _MTDCStep(
            net, X, view, ctx.device_generator,
            temperature_instance=self.temperature_instance, temperature_cluster=self.temperature_cluster,
            hcr_weight=self.hcr_weight, supcon_weight=self.supcon_weight,
            temperature_supcon=self.temperature_supcon, topk=self.topk, entropy_weight=self._entropy_weight,
        )
        warmup = replace(full, hcr_weight=0.0, supcon_weight=0.0)  # plain CC
        optimizer = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loop = dict(n_samples=X.shape[0], batch_size=self.batch_size_, optimizer=optimizer, modules=[net])
        trainer.run("cc", warmup, n_epochs=self.n_epochs_warmup_, **loop)
        rows = stable_rows(X.shape[0], ctx) if self.tol > 0 else None
        stop = stop_when_stable(self.tol, functools.partial(_head_labels, net, X, rows))
        trainer.run("mtdc", full, n_epochs=self.n_epochs_ - self.n_epochs_warmup_, callbacks=stop, **loop)

    def _infer(self, mods: dict, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        probs = mods["network_"](self._scaled(mods, X))[1].to(X.dtype)
        return probs, probs.argmax(1)
