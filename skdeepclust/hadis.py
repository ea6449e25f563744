"""HaDis: diffused sampling alignment + hardness-aware self-distillation + prototype contrast.

"Deep Clustering with Diffused Sampling and Hardness-aware Self-distillation" (Zhang and Huang,
arXiv 2401.14038), following its official code (ProPos, itself BYOL, with one loss added). The module
follows the method's specification in order:

1. the network: online backbone, projector and predictor, and the EMA target (:class:`_HaDisNet`);
2. the loss terms, each symmetrised over the two views: DSA (:func:`_dsa_loss`), HSD
   (:func:`_hsd_loss`) and PSL (:func:`_psl_loss`);
3. training: the k-means pseudo-labels of PSL (:class:`_PseudoLabels`), one step (:class:`_TrainStep`)
   and the schedule (:func:`_schedule_epochs`, :func:`_make_optimizer`, :func:`_ema_momentum`);
4. the final clustering of the trained target embedding (:func:`_final_clustering`);
5. the estimator, :class:`HaDis`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._utils import FitContext, build_module
from ._validation import IntInterval
from .base import BaseDeepClusterer
from .cluster import kmeans, knn_vote, spectral_knn, spectral_knn_counts
from .losses import byol_alignment, diffused_prediction, hardness_aware_distillation, prototype_contrastive_loss
from .metrics import _graph_score, _scoring_graph, reference_space
from .nn import ProjectionHead
from .single_view import SingleViewMixin, stop_when_stable
from .training import (
    Callback,
    EMAUpdate,
    LoopState,
    LRSchedule,
    Trainer,
    clamp_batch_size,
    cosine_momentum,
    embed_batches,
    epochs_for_steps,
    warmup_cosine,
)

__all__ = ["HaDis"]

#: optimizer steps of the ``n_epochs="auto"`` schedule (at most ``training.STEP_SCHEDULE_MAX_EPOCHS`` epochs)
DEFAULT_STEPS = 4000
#: the predictor's learning rate is this many times the scheduled rate (the reference's ``lambda_predictor_lr``)
PREDICTOR_LR_MULT = 10.0
#: with ``final_clustering="spectral"``, ``predict``'s voters: past this many training rows, a fixed subsample
#: of this many (each cluster in proportion to its size, and at least ``n_neighbors`` rows of it), so that a
#: predicted row costs a bounded number of distances and the fitted model a bounded memory
PREDICT_VOTERS_MAX_ROWS = 20_000
#: ``n_neighbors="auto"``: the neighbour counts of the graphs whose spectral labels compete, the count kept unless
#: another one's labels are clearly more modular on the input's graph, and by how much (see :func:`_pick_count`)
NEIGHBOR_COUNTS = (5, 10, 15, 20, 30)
REFERENCE_NEIGHBORS = 10
NEIGHBOR_MARGIN = 0.05


# ---------------------------------------------------------------------------------------------- network
def _mlp_head(in_dim: int, hidden: int, out: int) -> nn.Module:
    """Projector/predictor of BYOL: Linear -> BN -> ReLU -> Linear."""
    return ProjectionHead(in_dim, (hidden,), out, batchnorm=True)


class _HaDisNet(nn.Module):
    """Online backbone + projector + predictor, and the EMA target (backbone + projector).

    The target is built like the online network (its own projector module) and starts as an exact copy
    of the online weights; it receives no gradient.
    """

    def __init__(self, backbone: nn.Module, projector: nn.Module, predictor: nn.Module, target_projector: nn.Module):
        super().__init__()
        self.online = nn.Sequential(backbone, projector)
        self.predictor = predictor
        self.target = nn.Sequential(copy.deepcopy(backbone), target_projector).requires_grad_(False)
        self.target.load_state_dict(self.online.state_dict())

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised target embedding (the space of k-means and of the final labels)."""
        return F.normalize(self.target(x), dim=1)


def _build_network(backbone: nn.Module, width: int, hidden: int, dim: int, generator: torch.Generator) -> _HaDisNet:
    """The network around ``backbone`` (output ``width``), its heads ``-> hidden -> dim`` drawn from ``generator``.

    The target's projector is drawn too (then overwritten by the online weights). The predictor's linear
    layers get the reference's initialisation: weights N(0, 0.01^2), biases 0.
    """
    projector = build_module(lambda: _mlp_head(width, hidden, dim), generator)
    predictor = build_module(lambda: _mlp_head(dim, hidden, dim), generator)
    target_projector = build_module(lambda: _mlp_head(width, hidden, dim), generator)
    with torch.no_grad():
        for layer in predictor:
            if isinstance(layer, nn.Linear):
                layer.weight.normal_(0.0, 0.01, generator=generator)
                layer.bias.zero_()
    return _HaDisNet(backbone, projector, predictor, target_projector)


def _embed_all(net: _HaDisNet, X: torch.Tensor) -> torch.Tensor:
    """Normalised target embedding of every row (target in eval mode), in float32."""
    return embed_batches(net.embed, X, [net.target])


# ---------------------------------------------------------------------------------------------- loss terms
def _dsa_loss(pa: torch.Tensor, pb: torch.Tensor, ta: torch.Tensor, tb: torch.Tensor) -> torch.Tensor:
    """Diffused sampling alignment: each view's diffused prediction aligned with the other view's target."""
    return 0.5 * (byol_alignment(pa, tb) + byol_alignment(pb, ta))


def _hsd_loss(pa: torch.Tensor, pb: torch.Tensor, ta: torch.Tensor, tb: torch.Tensor, temperature: float
              ) -> torch.Tensor:
    """Hardness-aware self-distillation: each view's predictions are the students of the other view's target."""
    return 0.5 * (hardness_aware_distillation(tb, pa, temperature) + hardness_aware_distillation(ta, pb, temperature))


def _psl_loss(za: torch.Tensor, zb: torch.Tensor, ta: torch.Tensor, tb: torch.Tensor, labels: torch.Tensor,
              n_clusters: int, temperature: float) -> torch.Tensor:
    """Prototype scattering: each view's online batch prototypes against the other view's target prototypes."""
    return 0.5 * (prototype_contrastive_loss(za, tb, labels, n_clusters, temperature)
                  + prototype_contrastive_loss(zb, ta, labels, n_clusters, temperature))


# ---------------------------------------------------------------------------------------------- training
class _PseudoLabels(Callback):
    """PSL's pseudo-labels: k-means on the target embedding of the clean data before every epoch that uses PSL.

    (The reference also clusters during warm-up, where PSL is off and the labels go unused.)

    Parameters
    ----------
    net : _HaDisNet
        The network whose target embeds the data.
    X : torch.Tensor of shape (n_samples, n_features)
        The training input.
    n_clusters, n_init : int
        k-means clusters and restarts.
    generator : torch.Generator
        Generator of the k-means initialisations (on the device).
    first_epoch : int
        Zero-based epoch of the first clustering (the first epoch after warm-up).
    """

    def __init__(self, net: _HaDisNet, X: torch.Tensor, n_clusters: int, n_init: int, generator: torch.Generator,
                 first_epoch: int):
        self.net, self.X, self.n_clusters, self.n_init, self.generator = net, X, n_clusters, n_init, generator
        self.first_epoch = first_epoch
        self.labels: torch.Tensor | None = None

    def on_epoch_begin(self, state: LoopState) -> None:  # noqa: D102
        if state.epoch >= self.first_epoch:
            self.labels = kmeans(_embed_all(self.net, self.X), self.n_clusters, n_init=self.n_init,
                                 generator=self.generator).labels


@dataclass
class _TrainStep:
    """One HaDis iteration: two augmented views, online and target forwards, the weighted loss terms.

    During warm-up (epochs before ``n_epochs_warmup``) the online projection is not perturbed and PSL
    is off. A term whose weight is 0 is left out (and out of the history).
    """

    net: _HaDisNet
    view: Callable[[torch.Tensor, torch.Generator], torch.Tensor]
    generator: torch.Generator
    pseudo_labels: _PseudoLabels
    n_clusters: int
    n_epochs_warmup: int
    latent_std: float
    hsd_weight: float
    temperature_hsd: float
    prototype_weight: float
    temperature_prototype: float

    def __call__(self, idx: torch.Tensor, state: LoopState) -> dict[str, torch.Tensor]:
        net, generator = self.net, self.generator
        xa, xb = self.view(idx, generator), self.view(idx, generator)
        za, zb = net.online(xa), net.online(xb)
        with torch.no_grad():
            ta, tb = F.normalize(net.target(xa), dim=1), F.normalize(net.target(xb), dim=1)
        after_warmup = state.epoch >= self.n_epochs_warmup
        std = self.latent_std if after_warmup else 0.0
        pa = diffused_prediction(net.predictor, za, std, generator)  # one draw of the noise per view,
        pb = diffused_prediction(net.predictor, zb, std, generator)  # DSA's and HSD's student alike
        terms = {"dsa": _dsa_loss(pa, pb, ta, tb)}
        if self.hsd_weight > 0:
            terms["hsd"] = self.hsd_weight * _hsd_loss(pa, pb, ta, tb, self.temperature_hsd)
        if self.prototype_weight > 0 and after_warmup:
            labels = self.pseudo_labels.labels[idx]
            terms["psl"] = self.prototype_weight * _psl_loss(za, zb, ta, tb, labels, self.n_clusters,
                                                             self.temperature_prototype)
        return terms


def _schedule_epochs(n_epochs, n_epochs_warmup, n_samples: int, batch_size: int) -> tuple[int, int]:
    """Training and warm-up epochs: as given, or the ``"auto"`` rules.

    ``n_epochs="auto"``: enough epochs for ``DEFAULT_STEPS`` optimizer steps (at most
    ``training.STEP_SCHEDULE_MAX_EPOCHS``); ``n_epochs_warmup="auto"``: 10 % of the epochs.

    Examples
    --------
    >>> _schedule_epochs("auto", "auto", 1797, 256), _schedule_epochs(30, "auto", 1797, 256)
    ((572, 57), (30, 3))
    """
    total = epochs_for_steps(DEFAULT_STEPS, n_samples, batch_size, drop_last=True) if n_epochs == "auto" else n_epochs
    return int(total), int(round(0.1 * total) if n_epochs_warmup == "auto" else n_epochs_warmup)


def _make_optimizer(net: _HaDisNet, lr: float, momentum: float, weight_decay: float) -> torch.optim.SGD:
    """SGD with weight decay on every parameter; the predictor's group at ``PREDICTOR_LR_MULT`` times ``lr``."""
    groups = [{"params": list(net.online.parameters())},
              {"params": list(net.predictor.parameters()), "lr": lr * PREDICTOR_LR_MULT}]
    return torch.optim.SGD(groups, lr=lr, momentum=momentum, weight_decay=weight_decay)


def _ema_momentum(state: LoopState, base: float) -> float:
    """The target's EMA momentum: from ``base`` up to 1 over the stage's steps (cosine)."""
    return cosine_momentum(state.step, state.n_steps, base)


# ---------------------------------------------------------------------------------------------- final clustering
class _FinalClustering(NamedTuple):
    """The clustering of the trained target embedding, and what ``predict`` needs of it."""

    labels: np.ndarray
    centers: np.ndarray
    train_embedding: np.ndarray | None  # None with k-means: ``predict`` takes the nearest center
    train_labels: np.ndarray | None
    method: str
    n_neighbors: int | None  # the graph's neighbour count (spectral), None with k-means


def _kmeans_clustering(emb: torch.Tensor, n_clusters: int, kmeans_n_init: int, ctx: FitContext) -> _FinalClustering:
    """The reference's k-means; its unit-norm centers, nearest by cosine, give the labels."""
    centers = F.normalize(kmeans(emb, n_clusters, n_init=kmeans_n_init, generator=ctx.device_generator).centers
                          .to(emb.dtype), dim=1)
    return _FinalClustering((emb @ centers.T).argmax(1).cpu().numpy(), centers.float().cpu().numpy(), None, None,
                            "kmeans", None)


def _spectral_clustering(emb: torch.Tensor, n_clusters: int, n_neighbors: int | str, ctx: FitContext,
                         scoring_graph: tuple | None = None) -> _FinalClustering:
    """Spectral clustering of the ``n_neighbors``-nearest-neighbour graph.

    ``n_neighbors="auto"``: the graphs of every count in ``NEIGHBOR_COUNTS`` are clustered
    (:func:`~skdeepclust.cluster.spectral_knn_counts`) and scored by their modularity on ``scoring_graph`` (the
    training input's graph that :meth:`HaDis.score` uses); :func:`_pick_count` chooses. The centers are the
    normalised mean embedding of each cluster, and the rows kept as ``predict``'s voters (:func:`_voter_rows`)
    come with their labels.
    """
    if n_neighbors == "auto":
        candidates = spectral_knn_counts(emb, n_clusters, NEIGHBOR_COUNTS, ctx.seed_for_sklearn())
        n_neighbors = _pick_count({c: _graph_score(scoring_graph, found) for c, found in candidates.items()})
        found = candidates[n_neighbors]
    else:
        found = spectral_knn(emb, n_clusters, n_neighbors, ctx.seed_for_sklearn())
    labels = torch.as_tensor(found, device=emb.device)
    sums = torch.zeros(n_clusters, emb.shape[1], device=emb.device).index_add_(0, labels, emb)
    voters = _voter_rows(labels.cpu(), n_clusters, n_neighbors, ctx.generator)
    if voters is not None:
        voters = voters.to(emb.device)
    return _FinalClustering(
        labels.cpu().numpy(),
        F.normalize(sums, dim=1).cpu().numpy(),
        (emb if voters is None else emb[voters]).cpu().numpy(),
        (labels if voters is None else labels[voters]).cpu().numpy(),
        "spectral",
        n_neighbors,
    )


def _pick_count(scores: dict[int, float]) -> int:
    """The neighbour count ``n_neighbors="auto"`` keeps, from each count's score on the input's graph.

    ``REFERENCE_NEIGHBORS``, unless the best-scoring count beats it by more than ``NEIGHBOR_MARGIN``: the input's
    graph then clearly rejects the reference count's labels (a cut through a class), and the best count is kept.
    Smaller differences are not trusted: the input's graph can prefer labels that join small classes.

    Examples
    --------
    >>> _pick_count({5: 0.46, 10: 0.46, 15: 0.59, 30: 0.58}), _pick_count({5: 0.85, 10: 0.857, 30: 0.879})
    (15, 10)
    """
    best = max(scores, key=lambda c: (scores[c], -c))
    reference = min(scores, key=lambda c: abs(c - REFERENCE_NEIGHBORS))
    return best if scores[best] - scores[reference] > NEIGHBOR_MARGIN else reference


def _final_clustering(emb: torch.Tensor, n_clusters: int, method: str, n_neighbors: int | str, kmeans_n_init: int,
                      ctx: FitContext, scoring_graph: tuple | None = None) -> _FinalClustering:
    """Cluster the normalised target embedding ``emb`` of the training rows.

    ``"kmeans"`` (:func:`_kmeans_clustering`) or ``"spectral"`` (:func:`_spectral_clustering`); ``"auto"``
    computes both and keeps the one whose labels are the more modular on ``scoring_graph``, the
    10-nearest-neighbour graph of the training input that :meth:`HaDis.score` uses
    (:func:`skdeepclust.metrics._scoring_graph` of :func:`~skdeepclust.metrics.reference_space`); a tie keeps
    the spectral labels. ``n_neighbors="auto"`` picks the spectral graph's neighbour count on the same graph.
    """
    if method == "kmeans":
        return _kmeans_clustering(emb, n_clusters, kmeans_n_init, ctx)
    spectral = _spectral_clustering(emb, n_clusters, n_neighbors, ctx, scoring_graph)
    if method == "spectral":
        return spectral
    by_kmeans = _kmeans_clustering(emb, n_clusters, kmeans_n_init, ctx)
    return by_kmeans if _graph_score(scoring_graph, by_kmeans.labels) > _graph_score(scoring_graph, spectral.labels) \
        else spectral


def _voter_rows(labels: torch.Tensor, k: int, n_neighbors: int, generator: torch.Generator) -> torch.Tensor | None:
    """Rows kept as ``predict``'s voters: ``None`` (all) up to ``PREDICT_VOTERS_MAX_ROWS`` rows, else a subsample.

    Each cluster keeps a share of ``PREDICT_VOTERS_MAX_ROWS`` proportional to its size, and at least
    ``n_neighbors`` rows (all of a smaller cluster), drawn without replacement from ``generator``.
    """
    n = labels.shape[0]
    if n <= PREDICT_VOTERS_MAX_ROWS:
        return None
    keep = []
    for c in range(k):
        members = torch.nonzero(labels == c).flatten()
        if members.numel() == 0:
            continue
        m = max(min(members.numel(), n_neighbors), round(PREDICT_VOTERS_MAX_ROWS * members.numel() / n))
        keep.append(members[torch.randperm(members.numel(), generator=generator)[:m]])
    return torch.cat(keep).sort().values


# ---------------------------------------------------------------------------------------------- estimator
class HaDis(SingleViewMixin, BaseDeepClusterer):
    """Hardness-aware deep clustering (HaDis): BYOL + diffused alignment + HSD + prototype contrast.

    An online network (backbone, projector, predictor) and an EMA target network (backbone,
    projector) see two augmented views of every sample. Three terms are optimised jointly, each
    symmetrised over the two views:

    - **DSA** (diffused sampling alignment): the predictor output for the online projection plus a
      small Gaussian perturbation (``latent_std``) must align, by cosine, with the target projection of
      the other view;
    - **HSD** (hardness-aware self-distillation): in each batch, each teacher anchor's hardest
      positive and hardest negative among the student predictions, weighted by how much worse the
      student is than the teacher "template", enter a two-logit softmax (``temperature_hsd``);
    - **PSL** (prototype contrast, weight ``prototype_weight``): batch prototypes of k-means
      pseudo-labels (recomputed on the target embedding before every epoch) must match the target's
      prototype of the same cluster and repel the other clusters (``temperature_prototype``).

    The first ``n_epochs_warmup`` epochs have a linear learning-rate warm-up, no PSL and no
    perturbation; then the learning rate follows a cosine decay. Final labels: by default spectral
    clustering of the k-nearest-neighbour graph of the L2-normalised target embedding, and ``predict``
    gives a new sample the majority label of its ``n_neighbors`` nearest training samples;
    ``final_clustering="kmeans"`` is the reference's k-means, with ``predict`` assigning the nearest
    center by cosine. See the User Guide, :ref:`hadis`.

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
        ``(C, H, W)`` when rows are flattened images with values in ``[0, 1]``: a small conv encoder
        and image augmentations are used. ``None``: tabular rows (MLP backbone, feature-space
        augmentations, features standardised internally). See :ref:`images`.
    encoder : torch.nn.Module, default=None
        Your own backbone mapping ``(n, n_features)`` to ``(n, k)``; it is deep-copied and its weights
        are kept as given. ``None`` builds the default (see ``hidden_dims``).
    hidden_dims : tuple of int, default=None
        Default backbone: MLP widths for tabular rows (``None``: ``(256, 256)``) or the channels of the
        stride-2 conv blocks for images (``None``: ``(32, 64, 128)``).
    projection_hidden_dim : int, default=512
        Hidden width of the projector and predictor.
    feature_dim : int, default=64
        Output width of the projector and predictor (the embedding).
    n_epochs : int or "auto", default="auto"
        Training epochs. ``"auto"``: enough epochs for ``DEFAULT_STEPS`` optimizer steps, at most 1000
        (see :ref:`hadis_schedule`).
    n_epochs_warmup : int or "auto", default="auto"
        Epochs of linear learning-rate warm-up, without PSL and perturbation. ``"auto"``: 10 % of
        ``n_epochs``.
    batch_size : int, default=256
        Mini-batch size (the last incomplete batch is dropped).
    lr : float, default=0.05
        SGD base learning rate per 256 samples (scaled linearly with ``batch_size``).
    momentum : float, default=0.9
        SGD momentum.
    weight_decay : float, default=5e-4
        SGD weight decay, on every parameter.
    ema_base : float, default=0.99
        Initial EMA momentum of the target; it rises to 1 over training (cosine).
    prototype_weight : float, default=0.1
        Weight of the prototype contrast PSL (0 leaves it out).
    temperature_prototype : float, default=0.5
        Softmax temperature of PSL.
    temperature_hsd : float, default=0.5
        Temperature of HSD's two-logit softmax.
    latent_std : float, default=1e-3
        Standard deviation of the DSA perturbation of the online projection (after warm-up).
    kmeans_n_init : int, default=10
        k-means restarts for the pseudo-labels (and the final clustering with ``"kmeans"``).
    final_clustering : {"spectral", "kmeans", "auto"}, default="spectral"
        How the trained embedding is clustered: spectral clustering of its symmetrised
        ``n_neighbors``-nearest-neighbour graph, the reference's cosine k-means, or ``"auto"``: both, keeping
        the labels that :meth:`score` ranks higher on the training input (see :ref:`hadis_final_clustering`).
    n_neighbors : int or "auto", default="auto"
        With ``"spectral"``: neighbours per point of the graph, and ``predict``'s voters (at most the
        size of the smallest cluster). ``"auto"``: the graphs of 5, 10, 15, 20 and 30 neighbours are
        clustered; 10 is kept unless another count's labels are clearly more modular on the training
        input's graph, which :meth:`score` measures (:ref:`hadis_neighbors`).
    tol : float, default=0.0
        Stop training once fewer than this share of a fixed subsample of rows changed cluster between
        epochs, at 3 epochs in a row after the warm-up; ``0``: train the whole schedule (:ref:`convergence`).
    augment : callable, default=None
        ``augment(x, generator) -> x'`` on a batch of rows (on the training device); ``None`` picks
        :class:`~skdeepclust.augment.ImageAugment` for images or, for rows, entries swapped with a
        nearby row's (:class:`~skdeepclust.augment.NeighborSwap`) then
        :class:`~skdeepclust.augment.TabularAugment` (see :ref:`images`).
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device; ``"auto"`` uses CUDA when available (see :ref:`devices`).
    random_state : int, RandomState instance or None, default=None
        Seed of every random choice of the fit (see :ref:`reproducibility`).
    n_init : int, default=1
        Number of fits with different seeds; the one with the highest label-free :meth:`score` is kept
        (see :ref:`n_init`).
    inference_dtype : {"auto", "float32", "float64"}, default="auto"
        Precision of ``predict``, ``transform`` and ``score``; ``"auto"``: float64 on the CPU, float32
        on CUDA (see :ref:`many_rows`).
    verbose : int, default=0
        ``1`` shows a progress bar with the loss terms; ``0`` writes nothing (see :ref:`training_curves`).

    Attributes
    ----------
    n_clusters_ : int
        The number of clusters of the fit: ``n_clusters``, or its estimate for ``"auto"``.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    cluster_centers_ : ndarray of shape (n_clusters, feature_dim)
        Unit-norm cluster centers in the target embedding (from spectral labels: the normalised mean
        embedding of each cluster).
    train_embedding_ : ndarray of shape (n_voters, feature_dim) or None
        Target embedding of the training samples that ``predict``'s vote uses (``None`` when
        ``final_clustering_`` is ``"kmeans"``): all of them, or past ``PREDICT_VOTERS_MAX_ROWS`` a fixed
        subsample of that many, each cluster in proportion to its size (see :ref:`many_rows`).
    train_labels_ : ndarray of shape (n_voters,) or None
        Spectral cluster of each of those samples (``None`` when ``final_clustering_`` is ``"kmeans"``).
    final_clustering_ : {"spectral", "kmeans"}
        The clustering the labels come from (the one ``"auto"`` kept).
    n_neighbors_ : int or None
        The spectral graph's neighbours per point (the count ``n_neighbors="auto"`` kept), also ``predict``'s
        voters; ``None`` when ``final_clustering_`` is ``"kmeans"``.
    network_ : torch.nn.Module
        Trained networks (``online``, ``predictor``, ``target``).
    history_ : list of dict
        Per-epoch loss terms (``dsa``, ``hsd``, ``psl``), ``steps`` and ``seconds``.
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
    n_epochs_ : int
        Number of training epochs used.
    n_epochs_warmup_ : int
        Number of warm-up epochs used.
    interrupted_ : bool
        Whether ``fit`` was stopped by ``KeyboardInterrupt`` (see :ref:`failure_safety`).
    init_scores_ : ndarray of shape (n_init,)
        The label-free :meth:`score` of each fit on the training data; only when ``n_init > 1``.

    Notes
    -----
    The defaults follow the specification's CPU recommendations (small backbone and heads, a
    step-count schedule, EMA with a cosine ramp to 1); :ref:`hadis_paper_scale` gives the reference's
    settings. The predictor's learning rate is ``PREDICTOR_LR_MULT`` (10, as in the reference) times
    the scheduled rate. HSD has the method's weight 1.

    Deviations from the reference code (:ref:`hadis_deviations`): the cosine learning-rate decay runs
    over the post-warm-up epochs; the EMA is applied after the optimizer step; augmentations are
    batched torch re-implementations (no hue jitter); CIFAR-20's class-balanced resampling is not
    implemented; the default final clustering is spectral instead of k-means.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust import HaDis
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-3, 1, (40, 4)), rng.normal(3, 1, (40, 4))])
    >>> model = HaDis(n_clusters=2, hidden_dims=(32,), projection_hidden_dim=32, feature_dim=8,
    ...               n_epochs=5, n_epochs_warmup=1, batch_size=32, device="cpu", random_state=0)
    >>> model.fit_predict(X).shape
    (80,)
    """

    #: weight of HSD: the method's 1.0 (a subclass with 0 trains the ProPos objective)
    _hsd_weight = 1.0

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        **SingleViewMixin._single_view_constraints,
        "projection_hidden_dim": [IntInterval(1, None, closed="left")],
        "feature_dim": [IntInterval(1, None, closed="left")],
        "n_epochs": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "n_epochs_warmup": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "ema_base": [Interval(Real, 0, 1, closed="both")],
        "prototype_weight": [Interval(Real, 0, None, closed="left")],
        "temperature_prototype": [Interval(Real, 0, None, closed="neither")],
        "temperature_hsd": [Interval(Real, 0, None, closed="neither")],
        "latent_std": [Interval(Real, 0, None, closed="left")],
        "kmeans_n_init": [IntInterval(1, None, closed="left")],
        "final_clustering": [StrOptions({"spectral", "kmeans", "auto"})],
        "n_neighbors": [IntInterval(1, None, closed="left"), StrOptions({"auto"})],
        "tol": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        n_clusters: int | str = 8,
        *,
        n_clusters_range: tuple[int, int] | None = None,
        image_shape=None,
        encoder=None,
        hidden_dims=None,
        projection_hidden_dim: int = 512,
        feature_dim: int = 64,
        n_epochs="auto",
        n_epochs_warmup="auto",
        batch_size: int = 256,
        lr: float = 0.05,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        ema_base: float = 0.99,
        prototype_weight: float = 0.1,
        temperature_prototype: float = 0.5,
        temperature_hsd: float = 0.5,
        latent_std: float = 1e-3,
        kmeans_n_init: int = 10,
        final_clustering: str = "spectral",
        n_neighbors: int | str = "auto",
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
        self.projection_hidden_dim = projection_hidden_dim
        self.feature_dim = feature_dim
        self.n_epochs = n_epochs
        self.n_epochs_warmup = n_epochs_warmup
        self.batch_size = batch_size
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.ema_base = ema_base
        self.prototype_weight = prototype_weight
        self.temperature_prototype = temperature_prototype
        self.temperature_hsd = temperature_hsd
        self.latent_std = latent_std
        self.kmeans_n_init = kmeans_n_init
        self.final_clustering = final_clustering
        self.n_neighbors = n_neighbors
        self.tol = tol
        self.augment = augment
        self.device = device
        self.random_state = random_state
        self.n_init = n_init
        self.inference_dtype = inference_dtype
        self.verbose = verbose

    # ------------------------------------------------------------------ training
    def _fit_torch(self, X: torch.Tensor, trainer: Trainer) -> np.ndarray | None:
        ctx = trainer.ctx
        # the graph score() uses, built from the input before training (at most 4000 rows of it): it judges the
        # final labels of final_clustering="auto" and n_neighbors="auto"
        judged = self.final_clustering == "auto" or (self.final_clustering == "spectral" and self.n_neighbors == "auto")
        scoring = _scoring_graph(reference_space(X.cpu().numpy())) if judged else None
        X, view, backbone, width = self._prepare_training(X, ctx)
        net = _build_network(backbone, width, self.projection_hidden_dim, self.feature_dim, ctx.generator)
        self.network_, self.n_features_out_ = net.to(ctx.device), self.feature_dim
        n, batch = X.shape[0], clamp_batch_size(self.batch_size, X.shape[0])
        self.n_epochs_, self.n_epochs_warmup_ = _schedule_epochs(self.n_epochs, self.n_epochs_warmup, n, batch)
        total, warm = self.n_epochs_, self.n_epochs_warmup_
        optimizer = _make_optimizer(net, self.lr * batch / 256, self.momentum, self.weight_decay)
        pseudo = _PseudoLabels(net, X, self.n_clusters_, self.kmeans_n_init, ctx.device_generator, first_epoch=warm)
        step = _TrainStep(
            net, view, ctx.device_generator, pseudo, self.n_clusters_, n_epochs_warmup=warm,
            latent_std=self.latent_std, hsd_weight=self._hsd_weight, temperature_hsd=self.temperature_hsd,
            prototype_weight=self.prototype_weight, temperature_prototype=self.temperature_prototype,
        )
        callbacks = [
            LRSchedule(optimizer, functools.partial(warmup_cosine, n_warmup=warm, n_epochs=total)),
            EMAUpdate(net.target, net.online, functools.partial(_ema_momentum, base=self.ema_base)),
        ]
        if self.prototype_weight > 0:
            callbacks.insert(0, pseudo)
            callbacks += stop_when_stable(self.tol, lambda: pseudo.labels)
        trainer.run("hadis", step, n_samples=n, n_epochs=total, batch_size=batch, optimizer=optimizer,
                    modules=[net.online, net.predictor, net.target], callbacks=callbacks)
        net.eval()
        final = _final_clustering(_embed_all(net, X), self.n_clusters_, self.final_clustering, self.n_neighbors,
                                  self.kmeans_n_init, ctx, scoring)
        self.cluster_centers_, self.train_embedding_ = final.centers, final.train_embedding
        self.train_labels_, self.final_clustering_ = final.train_labels, final.method
        self.n_neighbors_ = final.n_neighbors
        return final.labels if final.method == "spectral" else None

    # ------------------------------------------------------------------ inference
    def _inference_modules(self) -> tuple[str, ...]:
        return (*super()._inference_modules(), "cluster_centers_", "train_embedding_", "train_labels_")

    def _infer(self, mods: dict, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        X = self._scaled(mods, X)
        emb = mods["network_"].embed(X)
        if mods["train_labels_"] is not None:  # spectral labels: the k-NN vote of the training embedding
            ref = torch.as_tensor(mods["train_embedding_"], dtype=emb.dtype, device=emb.device)
            labels = torch.as_tensor(mods["train_labels_"], device=emb.device)
            sizes = torch.bincount(labels, minlength=self.n_clusters_)
            voters = min(self.n_neighbors_, int(sizes[sizes > 0].min()))  # a small cluster can still win
            return emb, knn_vote(ref, labels, emb, voters, self.n_clusters_)
        centers = torch.as_tensor(mods["cluster_centers_"], dtype=emb.dtype, device=emb.device)
        return emb, (emb @ centers.T).argmax(1)
