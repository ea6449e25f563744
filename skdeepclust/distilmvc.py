"""DistilMVC: multi-view contrastive clustering with teacher-student self-distillation.

Wang, Xu, Wang, Li, "Toward Generalized Multistage Clustering: Multiview Self-Distillation",
IEEE TNNLS 36(6), 2025 (arXiv:2310.18890). Specification: the official code, a fork of MFLVC.

In the order of the specification: the network, the loss terms, the batches of the first two stages
(with the neighbour pairing), the three stage steps, the stage lengths, the latent partition that
scores the contrastive checkpoints, the pseudo-labels of the distillation stage, and the estimator.
"""

from __future__ import annotations

import functools
from itertools import combinations
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data
from torch import nn

from ._utils import build_module
from ._validation import IntInterval, PositiveInts
from .augment import TabularAugment
from .base import BaseDeepClusterer
from .cluster import (
    align_labels,
    graph_modularity,
    kmeans,
    knn_graph,
    nearest_neighbors,
    neighbor_graph,
    spectral_graph,
)
from .losses import (
    cluster_contrastive_loss,
    cross_view_mutual_information,
    kl_distillation,
    nt_xent,
    smoothed_one_hot,
)
from .metrics import knn_modularity, reference_space
from .multiview import check_view_sizes, is_view_list, observed_views, scale_params, split_views, stack_views
from .nn import ClusterHead, ProjectionHead, make_autoencoder
from .single_view import _check_user_augment
from .training import (
    EMAUpdate,
    KeepBest,
    LoopState,
    Trainer,
    cosine_momentum,
    embed_batches,
    epochs_for_steps,
    n_batches,
)

__all__ = ["DistilMVC"]

#: the "auto" stage length: 50 epochs, but at most MAX_STAGE_STEPS optimizer steps and, for the reconstruction
#: and distillation stages, at least MIN_STAGE_STEPS
AUTO_EPOCHS, MIN_STAGE_STEPS, MAX_STAGE_STEPS = 50, 500, 1000
#: neighbours per point of the k-NN graphs of the latent partition and of the consensus pseudo-labels
CONSENSUS_NEIGHBORS = 10
#: how much more modular than the reference length's a later contrastive checkpoint must be to be kept: about the
#: spread of that modularity between seeds at one length (see the User Guide)
CHECKPOINT_MARGIN = 0.01
#: weight of the marginal entropies inside the mutual-information term (the reference's fixed value)
MI_ENTROPY_LAMBDA = 9.0


# ---------------------------------------------------------------------------------------------- network
class _DistilMVCNet(nn.Module):
    """Per-view autoencoders, shared student/teacher projection heads and cluster head."""

    def __init__(self, view_sizes, hidden_dims, latent_dim, projection_hidden_dim, feature_dim, n_clusters):
        super().__init__()
        hidden_dims = tuple(int(d) for d in hidden_dims)
        self.autoencoders = nn.ModuleList(make_autoencoder(d, hidden_dims, latent_dim) for d in view_sizes)
        self.student = ProjectionHead(latent_dim, (projection_hidden_dim,), feature_dim)
        self.teacher = ProjectionHead(latent_dim, (projection_hidden_dim,), feature_dim, normalize=True)
        self.cluster = ClusterHead(feature_dim, n_clusters)

    @classmethod
    def build(cls, generator: torch.Generator, *args) -> _DistilMVCNet:
        """The network (the constructor's arguments) initialised from ``generator``; the teacher copies the student."""
        net = build_module(lambda: cls(*args), generator)
        net.teacher.load_state_dict(net.student.state_dict())
        return net

    def encode(self, v: int, x: torch.Tensor) -> torch.Tensor:
        """The low-level feature ``z_v`` of view ``v``."""
        return self.autoencoders[v].encoder(x)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """Cluster logits of the student path on low-level features."""
        return self.cluster(self.student(z))

    def view_logits(self, v: int, x: torch.Tensor) -> torch.Tensor:
        """Cluster logits of view ``v``'s rows."""
        return self.logits(self.encode(v, x))

    def view_teacher(self, v: int, x: torch.Tensor) -> torch.Tensor:
        """Teacher features (unit rows) of view ``v``'s rows."""
        return self.teacher(self.encode(v, x))


# ---------------------------------------------------------------------------------------------- loss terms
def _reconstruction_loss(xhat: torch.Tensor, x: torch.Tensor, observed: torch.Tensor | None = None) -> torch.Tensor:
    """One view's reconstruction error (mean squared, in float32), over its ``observed`` rows when given."""
    if observed is None:
        return F.mse_loss(xhat.float(), x)
    return _masked_mean(((xhat.float() - x) ** 2).mean(1), observed)


def _masked_mean(values: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """The mean of ``values`` over the ``observed`` rows; zero (keeping the graph) when there are none."""
    return (values * observed).sum() / observed.sum().clamp_min(1)


def _observed_pairs(tensors: list[torch.Tensor], observed: torch.Tensor | None):
    """For every view pair ``(v, w)``: the two views' rows of the samples that have both (``None``: all rows).

    Pairs with fewer than two such rows, where no contrast can be formed, are left out.
    """
    for v, w in combinations(range(len(tensors)), 2):
        if observed is None:
            yield tensors[v], tensors[w]
            continue
        both = observed[:, v] & observed[:, w]
        if int(both.sum()) >= 2:
            yield tensors[v][both], tensors[w][both]


def _instance_loss(teacher_features: list[torch.Tensor], temperature: float,
                   observed: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-view instance contrast (NT-Xent) of the teacher features, summed over view pairs.

    With ``observed`` (the batch's ``(n, V)`` view mask), each pair over the samples that have both views.
    """
    return sum((nt_xent(a, b, temperature) for a, b in _observed_pairs(teacher_features, observed)),
               teacher_features[0].new_zeros(()) if observed is not None else 0)


def _cluster_loss(probs: list[torch.Tensor], temperature: float, observed: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-view cluster contrast with the entropy balance of the student's soft labels, summed over view pairs."""
    return sum((cluster_contrastive_loss(a, b, temperature) for a, b in _observed_pairs(probs, observed)),
               probs[0].new_zeros(()) if observed is not None else 0)


def _mutual_information_loss(latents: list[torch.Tensor], observed: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-view IIC mutual information of the low-level features, summed over view pairs (lower is better)."""
    return sum((cross_view_mutual_information(a, b, MI_ENTROPY_LAMBDA) for a, b in _observed_pairs(latents, observed)),
               latents[0].new_zeros(()).float() if observed is not None else 0)


def _distillation_loss(logits: list[torch.Tensor], pseudo_labels: list[torch.Tensor], n_clusters: int,
                       label_smoothing: float, observed: torch.Tensor | None = None) -> torch.Tensor:
    """KL divergence of each view's student from its label-smoothed pseudo-labels ("dark knowledge"), summed.

    Per row, averaged over the rows (:func:`~skdeepclust.losses.kl_distillation`); with ``observed``, over the
    rows that have the view.
    """
    if observed is None:
        return sum(kl_distillation(F.log_softmax(lg, 1), smoothed_one_hot(p, n_clusters, label_smoothing))
                   for lg, p in zip(logits, pseudo_labels, strict=True))
    total = logits[0].new_zeros(())
    for v, (lg, p) in enumerate(zip(logits, pseudo_labels, strict=True)):
        target = smoothed_one_hot(p, n_clusters, label_smoothing).float()
        pointwise = (torch.xlogy(target, target) - target * F.log_softmax(lg, 1).float()).sum(1)
        total = total + _masked_mean(pointwise, observed[:, v])
    return total


# ---------------------------------------------------------------------------------------------- neighbour pairing
def _input_neighbors(X: torch.Tensor, view_sizes, k: int, rng: np.random.Generator) -> torch.Tensor | None:
    """Every sample's ``k`` nearest samples in the input, itself first (``None`` for ``k = 0``).

    The views side by side, each scaled to unit total variance, so that every view counts alike.
    """
    if k == 0:
        return None
    offset, scale = scale_params(X, view_sizes, "view-variance")
    return nearest_neighbors((X - offset) / scale, k + 1, random_state=rng)[1]


def _own_views(idx: torch.Tensor, *, views: list[torch.Tensor], observed: torch.Tensor | None = None):
    """Each view's rows of the batch, which its autoencoder also reconstructs, and the batch's view mask."""
    xs = [v[idx] for v in views]
    return xs, xs, None if observed is None else observed[idx]


def _augmented_views(idx: torch.Tensor, *, x: torch.Tensor, n_views: int, augment, generator: torch.Generator):
    """Single-view input: ``n_views`` augmented copies of the rows in; the clean rows are reconstructed."""
    rows = x[idx]
    return [augment(rows, generator) for _ in range(n_views)], [rows] * n_views, None


def _paired_views(idx: torch.Tensor, *, views: list[torch.Tensor], neighbors: torch.Tensor,
                  generator: torch.Generator, observed: torch.Tensor | None = None):
    """Neighbour pairing: each view of a sample is, with probability 1/2, that view of one of its ``neighbors``.

    With ``observed`` (the ``(n, V)`` view mask), a view is taken from a neighbour only where the
    neighbour has it; the returned mask says which of the batch's view rows are observed.
    """
    xs, masks = [], []
    for v, view in enumerate(views):
        pick = torch.randint(neighbors.shape[1], idx.shape, generator=generator, device=idx.device)
        swap = torch.rand(idx.shape, generator=generator, device=idx.device) < 0.5
        other = neighbors[idx, pick]
        if observed is not None:
            swap = swap & observed[other, v]
        source = torch.where(swap, other, idx)
        xs.append(view[source])
        if observed is not None:
            masks.append(observed[source, v])
    return xs, xs, torch.stack(masks, 1) if observed is not None else None


def _stage_inputs(views: list[torch.Tensor], augment, neighbors: torch.Tensor | None, generator: torch.Generator,
                  observed: torch.Tensor | None = None):
    """The batches of stages 1 and 2: two functions ``f(idx) -> (inputs, reconstructions, mask)``, one per view each.

    With ``augment`` (single-view input) both stages see augmented copies of the one view. Otherwise
    stage 1 sees each view's own rows, and stage 2 the neighbour pairing when ``neighbors`` is given.
    ``mask`` is the batch's ``(n, V)`` mask of observed view rows, ``None`` for complete data.
    """
    if augment is not None:
        inputs = functools.partial(_augmented_views, x=views[0], n_views=len(views), augment=augment,
                                   generator=generator)
        return inputs, inputs
    own = functools.partial(_own_views, views=views, observed=observed)
    if neighbors is None:
        return own, own
    return own, functools.partial(_paired_views, views=views, neighbors=neighbors, generator=generator,
                                  observed=observed)


def _observed_scale_params(X: torch.Tensor, view_sizes, method: str, observed: torch.Tensor):
    """:func:`~skdeepclust.multiview.scale_params` of each view learned on its observed rows, side by side."""
    params = [scale_params(x[observed[:, v]], None, method) for v, x in enumerate(split_views(X, view_sizes))]
    return torch.cat([o for o, _ in params]), torch.cat([c for _, c in params])


def _fill_missing_views(views: list[torch.Tensor], observed: torch.Tensor, k: int, chunk: int = 1024):
    """The views with every missing view row filled from the sample's neighbours in the views it has.

    A sample's missing view ``v`` becomes the mean of view ``v`` over its ``k`` nearest samples that have
    ``v``, by the mean squared distance over the views both samples have (each view scaled to unit total
    variance on its observed rows, so that every view counts alike). A sample that shares no view with
    any sample that has ``v`` gets the mean of view ``v``. The filled rows only place samples in the
    neighbour graphs of the fit; no loss is computed on them.

    Parameters
    ----------
    views : list of torch.Tensor of shape (n, d_v)
        The scaled views; the values of missing rows are ignored.
    observed : torch.Tensor of bool of shape (n, V)
        The observed view rows.
    k : int
        Neighbours averaged; ``0`` fills every missing row with the view's mean over its observed rows.
    chunk : int, default=1024
        Missing rows per distance block.

    Returns
    -------
    list of torch.Tensor
    """
    scaled = []
    for v, x in enumerate(views):
        rows = x[observed[:, v]]
        spread = rows.var(0).sum().clamp_min(1e-12).sqrt() if rows.shape[0] > 1 else x.new_ones(())
        scaled.append(torch.where(observed[:, v : v + 1], x, 0.0) / spread)
    filled = []
    for v, x in enumerate(views):
        x = torch.where(observed[:, v : v + 1], x, 0.0)
        missing, have = (~observed[:, v]).nonzero().squeeze(1), observed[:, v].nonzero().squeeze(1)
        fallback = x[have].mean(0)
        if k == 0:
            filled.append(torch.where(observed[:, v : v + 1], x, fallback))
            continue
        for start in range(0, missing.numel(), chunk):
            rows = missing[start : start + chunk]
            dist = x.new_zeros((rows.numel(), have.numel()))
            shared = torch.zeros_like(dist)
            for w in range(len(views)):
                if w == v:
                    continue
                both = observed[rows, w][:, None] & observed[have, w][None, :]
                dist += torch.cdist(scaled[w][rows], scaled[w][have]).square() * both
                shared += both
            dist = torch.where(shared > 0, dist / shared.clamp_min(1), torch.inf)
            near = dist.topk(min(k, have.numel()), dim=1, largest=False)
            weight = torch.isfinite(near.values).to(x.dtype)[:, :, None]  # neighbours that share a view
            value = (x[have[near.indices]] * weight).sum(1) / weight.sum(1).clamp_min(1)
            x = x.index_copy(0, rows, torch.where(weight.sum(1) > 0, value, fallback))
        filled.append(x)
    return filled


# ---------------------------------------------------------------------------------------------- stage steps
# every step draws its inputs for the whole batch, forwards this process's rows (state.local) and computes the
# loss on the whole batch's outputs (state.gather): see skdeepclust.distributed
def _pretrain_step(idx: torch.Tensor, state: LoopState, *, net: _DistilMVCNet, inputs) -> dict:
    """Stage 1: each view's autoencoder reconstructs its view."""
    xs, clean, observed = inputs(idx)
    return {"rec": sum(_reconstruction_loss(state.gather(net.autoencoders[v](state.local(x))[1]), clean[v],
                                            None if observed is None else observed[:, v])
                       for v, x in enumerate(xs))}


def _contrastive_step(idx: torch.Tensor, state: LoopState, *, net: _DistilMVCNet, inputs, temperature_instance: float,
                      temperature_cluster: float, mi_weight: float) -> dict:
    """Stage 2: instance contrast (teacher), cluster contrast (student), mutual information, reconstruction."""
    xs, clean, observed = inputs(idx)
    zs, recs, ts, ys = [], [], [], []
    for v, x in enumerate(xs):
        z, xhat = net.autoencoders[v](state.local(x))
        zs.append(state.gather(z))
        recs.append(_reconstruction_loss(state.gather(xhat), clean[v], None if observed is None else observed[:, v]))
        ts.append(state.gather(net.teacher(z)))
        ys.append(torch.softmax(state.gather(net.logits(z)).float(), dim=1))
    return {"instance": _instance_loss(ts, temperature_instance, observed),
            "cluster": _cluster_loss(ys, temperature_cluster, observed),
            "mi": mi_weight * _mutual_information_loss(zs, observed), "rec": sum(recs)}


def _reference_momentum(state: LoopState, *, base: float) -> float:
    """The teacher's EMA momentum after a stage-2 step, as the reference code indexes its cosine schedule.

    Index ``epoch + batch + 1`` with period ``n_epochs + 1``: it oscillates within an epoch.
    """
    return cosine_momentum(state.epoch + state.batch + 1, state.n_epochs + 1, base)


def _distill_step(idx: torch.Tensor, state: LoopState, *, net: _DistilMVCNet, views: list[torch.Tensor],
                  pseudo_labels: list[torch.Tensor], realign: bool, n_clusters: int, label_smoothing: float,
                  observed: torch.Tensor | None = None) -> dict:
    """Stage 3: every view's student learns its pseudo-labels, label-smoothed (on the rows that have the view).

    With ``realign`` (the reference's per-view k-means labels) each view's labels are Hungarian-aligned
    to its student's prediction in every batch; otherwise they were aligned once and stay fixed.
    """
    logits = [state.gather(net.view_logits(v, state.local(x[idx]))).float() for v, x in enumerate(views)]
    labels = [p[idx] for p in pseudo_labels]
    if realign:
        labels = [align_labels(p, lg.argmax(1), n_clusters) for p, lg in zip(labels, logits, strict=True)]
    return {"distill": _distillation_loss(logits, labels, n_clusters, label_smoothing,
                                          None if observed is None else observed[idx])}


# ---------------------------------------------------------------------------------------------- stage lengths
def _stage_epochs(n_epochs, n_samples: int, batch_size: int, min_steps: int = MIN_STAGE_STEPS) -> int:
    """Epochs of one training stage: ``n_epochs`` as given, or the ``"auto"`` rule.

    ``"auto"`` is ``AUTO_EPOCHS`` epochs, lengthened to at least ``min_steps`` and shortened to at most
    ``MAX_STAGE_STEPS`` optimizer steps. The contrastive stage passes ``min_steps=0`` (see
    :func:`_contrastive_checkpoints`).

    Parameters
    ----------
    n_epochs : int or "auto"
        The estimator's parameter.
    n_samples : int
        Training samples.
    batch_size : int
        Mini-batch size of the stage (clamped to ``n_samples``; the last incomplete batch is dropped).
    min_steps : int, default=MIN_STAGE_STEPS
        Lower bound of ``"auto"`` in optimizer steps.

    Returns
    -------
    int

    Examples
    --------
    >>> _stage_epochs("auto", 400, 256), _stage_epochs("auto", 2500, 256), _stage_epochs("auto", 10000, 256)
    (500, 56, 26)
    >>> _stage_epochs("auto", 400, 256, min_steps=0)
    50
    >>> _stage_epochs(10, 400, 256)
    10
    """
    if n_epochs != "auto":
        return int(n_epochs)
    per_epoch = n_batches(n_samples, min(batch_size, n_samples), True)
    steps = min(max(AUTO_EPOCHS * per_epoch, min_steps), MAX_STAGE_STEPS)
    return epochs_for_steps(steps, n_samples, min(batch_size, n_samples), drop_last=True, max_epochs=None)


def _contrastive_checkpoints(n_epochs, n_samples: int, batch_size: int, n_views: int) -> list[int]:
    """Length of the contrastive stage and the epochs at which its latent partition is scored.

    ``"auto"`` starts from the reference's 50 epochs (:func:`_stage_epochs` with no lower bound). Where
    those are at most half of ``2 * MAX_STAGE_STEPS / n_views`` optimizer steps (the cost of
    ``MAX_STAGE_STEPS`` steps of two views), the stage goes on to that length, with checkpoints at
    doubling lengths. A given number of epochs is one checkpoint: the stage's end.

    Parameters
    ----------
    n_epochs : int or "auto"
        The estimator's ``n_epochs_contrastive``.
    n_samples : int
        Training samples.
    batch_size : int
        Mini-batch size of the stage.
    n_views : int
        Views the networks are trained with.

    Returns
    -------
    list of int
        Increasing one-based epoch numbers; the last is the stage's length.

    Examples
    --------
    >>> _contrastive_checkpoints("auto", 1797, 256, 2)    # 7 steps per epoch: 350 steps, then up to 1000
    [50, 100, 143]
    >>> _contrastive_checkpoints("auto", 5000, 256, 2)    # 950 steps: no room to double
    [50]
    >>> _contrastive_checkpoints("auto", 600, 256, 3), _contrastive_checkpoints(20, 600, 256, 3)
    ([50, 100, 200, 333], [20])
    """
    checkpoints = [_stage_epochs(n_epochs, n_samples, batch_size, min_steps=0)]
    if n_epochs == "auto":
        longest = _stage_epochs("auto", n_samples, batch_size, min_steps=2 * MAX_STAGE_STEPS // n_views)
        while 2 * checkpoints[0] <= longest and checkpoints[-1] < longest:
            checkpoints.append(min(2 * checkpoints[-1], longest))
    return checkpoints


# ---------------------------------------------------------------------------------------------- latent partition
class _LatentPartition:
    """Spectral clustering of the k-NN graph of all views' L2-normalised low-level features, side by side.

    Called with the :class:`~skdeepclust.training.LoopState`, it scores a contrastive checkpoint for
    :class:`~skdeepclust.training.KeepBest`: the modularity of the partition on its own graph. The graph
    and labels of every scored checkpoint are kept, so that the pseudo-labels reuse the kept one's.

    Parameters
    ----------
    net : _DistilMVCNet
        The network being trained.
    views : list of torch.Tensor
        The training views (single-view input: the one view, once per autoencoder).
    n_clusters : int
        Clusters of the partition.
    seed : callable
        ``seed() -> int``, the one seed of the graphs and spectral clusterings of the fit.
    """

    def __init__(self, net: _DistilMVCNet, views: list[torch.Tensor], n_clusters: int, seed):
        self.net, self.views, self.n_clusters, self.seed = net, views, n_clusters, seed
        self.scored: dict[int, tuple] = {}  # epoch -> (graph, labels)

    def compute(self) -> tuple:
        """The graph and the spectral labels of the networks as they are."""
        fused = torch.cat([F.normalize(embed_batches(functools.partial(self.net.encode, v), x, [self.net]), dim=1)
                           for v, x in enumerate(self.views)], dim=1)
        graph = knn_graph(fused, CONSENSUS_NEIGHBORS, random_state=self.seed())
        return graph, spectral_graph(graph, self.n_clusters, random_state=self.seed())

    def __call__(self, state: LoopState) -> float:
        graph, labels = self.scored[state.epoch + 1] = self.compute()
        return graph_modularity(graph, labels)

    def at(self, epoch: int) -> tuple:
        """The graph and labels scored at ``epoch``, or computed now when that epoch was not scored."""
        return self.scored[epoch] if epoch in self.scored else self.compute()


# ---------------------------------------------------------------------------------------------- pseudo-labels
def _consensus_labels(latent_graph, latent_labels, input_graph, n_clusters: int, seed):
    """The "auto" consensus: the most modular, on the union graph, of the latent, input and union graphs' partitions.

    The union is the sum of the latent and the input graphs; the latent partition is given, the other two
    are spectral clusterings.

    Returns
    -------
    name : {"latent", "input", "union"}
        The graph whose partition is kept.
    scores : dict
        Every partition's modularity on the union graph.
    labels : ndarray of shape (n_samples,)
        The kept partition.
    """
    graphs = {"latent": latent_graph, "input": input_graph, "union": latent_graph + input_graph}
    candidates = {name: spectral_graph(g, n_clusters, random_state=seed()) for name, g in graphs.items()
                  if name != "latent"}
    candidates["latent"] = latent_labels
    scores = {name: graph_modularity(graphs["union"], labels) for name, labels in candidates.items()}
    name = max(scores, key=scores.get)
    return name, scores, candidates[name]


def _aligned_to_prediction(labels, net: _DistilMVCNet, views: list[torch.Tensor], n_clusters: int,
                           observed: torch.Tensor | None = None) -> torch.Tensor:
    """``labels`` renamed once, on all rows, to agree best with the views' averaged prediction (Hungarian).

    The student then learns fixed ids it already gives: aligned anew in every batch, a cluster's id
    could change from batch to batch while the student's partition differs from the labels. With
    ``observed``, the prediction averages the views each sample has.
    """
    labels = torch.as_tensor(labels, device=views[0].device)
    probs = sum(torch.softmax(embed_batches(functools.partial(net.view_logits, v), x, [net]), 1)
                * (1 if observed is None else observed[:, v : v + 1]) for v, x in enumerate(views))
    return align_labels(labels, probs.argmax(1).to(labels.device), n_clusters)


def _kmeans_pseudo_labels(net: _DistilMVCNet, views: list[torch.Tensor], n_clusters: int, n_init: int,
                          generator: torch.Generator) -> list[torch.Tensor]:
    """The reference's pseudo-labels: k-means of each view's teacher features, min-max scaled per feature."""
    pseudo = []
    for v, x in enumerate(views):
        t = embed_batches(functools.partial(net.view_teacher, v), x, [net])
        offset, scale = scale_params(t, None, "minmax")
        pseudo.append(kmeans((t - offset) / scale, n_clusters, n_init=n_init, generator=generator).labels)
    return pseudo


# ---------------------------------------------------------------------------------------------- estimator
class DistilMVC(BaseDeepClusterer):
    """Multi-view clustering with contrastive learning and teacher-student self-distillation.

    Each view has its own MLP autoencoder giving a low-level feature ``z_v``. On top, a shared
    *teacher* projection head (L2-normalised output) is trained with cross-view instance contrast,
    and a shared *student* head followed by a softmax cluster head with cross-view cluster contrast;
    an IIC mutual-information term couples the views' low-level features, and after every step the
    teacher is moved towards the student by an exponential moving average. Training has three
    stages:

    1. reconstruction pre-training of the autoencoders (``n_epochs_pretrain``);
    2. contrastive training of everything, ``L = sum_{v<w} [NT-Xent(t_v, t_w) + ClusterContrast(y_v,
       y_w) + mi_weight * MI(z_v, z_w)] + sum_v MSE_v`` with the EMA teacher
       (``n_epochs_contrastive``); the views of a sample are paired with the views of its nearest
       samples in the input half of the time (``n_pair_neighbors``);
    3. self-distillation (``n_epochs_distill``): one consensus of all views, the spectral clustering of
       the k-nearest-neighbour graph of the latent features, of the input or of both, is
       Hungarian-aligned once to the student's prediction and label-smoothed (``label_smoothing``);
       the student minimises the KL divergence to it.

    Final labels are the argmax of the student's soft assignments averaged over views; ``predict``
    works the same way on new samples. See the User Guide, :ref:`distilmvc`.

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
    view_sizes : sequence of int, default=None
        Column count of each view when ``X`` is one 2-D array of stacked views (see
        :func:`~skdeepclust.multiview.stack_views` and :ref:`multiview_input`). ``None`` with a 2-D
        array means a single view, from which two views are made by ``augment``. Ignored when ``X``
        is a list of views.
    hidden_dims : tuple of int, default=(256, 512, 1024)
        Hidden widths of each view's encoder (the decoder mirrors them).
    latent_dim : int, default=256
        Width of the low-level feature ``z_v``.
    projection_hidden_dim : int, default=256
        Hidden width of the student/teacher projection heads.
    feature_dim : int, default=128
        Output width of the student/teacher heads.
    n_epochs_pretrain : int or "auto", default="auto"
        Stage-1 (reconstruction) epochs. ``"auto"``: 50 epochs, but at least 500 and at most 1000
        optimizer steps (see :ref:`distilmvc_defaults`).
    n_epochs_contrastive : int or "auto", default="auto"
        Stage-2 (contrastive) epochs. ``"auto"``: 50 epochs (at most 1000 optimizer steps); on small
        data the stage trains longer and the later stages start from its checkpoint whose latent
        partition is most modular (``contrastive_epochs_``; see :ref:`distilmvc_defaults`).
    n_epochs_distill : int or "auto", default="auto"
        Stage-3 (self-distillation) epochs, the ``"auto"`` rule of ``n_epochs_pretrain`` with
        ``distill_batch_size``.
    batch_size : int, default=256
        Mini-batch size of stages 1 and 2 (clamped to the sample count; the last incomplete batch is
        dropped, as in the reference code).
    distill_batch_size : int, default=None
        Mini-batch size of stage 3; ``None`` uses ``batch_size``. At least the sample count trains on
        the full batch, as the reference code does.
    n_pair_neighbors : int, default=10
        Neighbour pairing in stage 2: each view of a sample is, with probability 1/2, replaced by the
        same view of one of its ``n_pair_neighbors`` nearest samples in the input. ``0`` pairs a sample
        only with itself, as the reference code does. Ignored for single-view input.
    lr : float, default=3e-4
        Adam learning rate, shared by all stages (one optimizer, as in the reference code).
    weight_decay : float, default=0.0
        Adam weight decay.
    temperature_instance : float, default=0.5
        Temperature of the instance-level contrast on teacher features.
    temperature_cluster : float, default=1.0
        Temperature of the cluster-level contrast on student soft labels.
    mi_weight : float, default=5e-4
        Weight of the cross-view mutual-information term.
    label_smoothing : float, default=0.1
        Smoothing ``epsilon`` of the pseudo-labels ("dark knowledge").
    ema_base : float, default=0.4
        Initial EMA momentum ``tau_0`` of the teacher.
    scaling : {"minmax", "none"}, default="minmax"
        Per-feature min-max scaling of every view to ``[0, 1]``, learned in ``fit``.
    augment : callable, default=None
        Single-view input only: ``augment(x, generator) -> x'`` on a batch of scaled rows, applied
        independently to make each of the two views. ``None``: per-feature Gaussian noise and masking
        (:class:`~skdeepclust.augment.TabularAugment`, ``noise=0.1``, ``mask_prob=0.2``).
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device; ``"auto"`` uses CUDA when available (see :ref:`devices`).
    random_state : int, RandomState instance or None, default=None
        Seed of every random choice of the fit (see :ref:`reproducibility`).
    n_init : int, default=1
        Number of fits with different seeds; the one with the highest label-free :meth:`score` on the
        training data is kept (see :ref:`n_init`).
    inference_dtype : {"auto", "float32", "float64"}, default="auto"
        Precision of ``predict``, ``transform`` and ``score``; ``"auto"``: float64 on the CPU, float32
        on CUDA (see :ref:`many_rows`).
    verbose : int, default=0
        ``1`` shows a progress bar per training stage (see :ref:`training_curves`); ``0`` writes nothing.

    Attributes
    ----------
    n_clusters_ : int
        The number of clusters of the fit: ``n_clusters``, or its estimate for ``"auto"``.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample (``0 .. k-1`` without gaps).
    network_ : torch.nn.Module
        The trained networks (``autoencoders``, ``student``, ``teacher``, ``cluster``).
    pseudo_labels_ : ndarray of shape (n_views, n_samples)
        The pseudo-labels of stage 3, per view (the consensus: the same row for every view).
    contrastive_epochs_ : int
        The stage-2 epoch whose weights the later stages start from: the last one, or with
        ``n_epochs_contrastive="auto"`` the checkpoint kept.
    consensus_ : {"latent", "input", "union"}
        The graph whose spectral clustering became the pseudo-labels.
    consensus_scores_ : dict
        Each candidate's modularity on the sum of the latent and input graphs.
    view_sizes_ : tuple of int
        Column count of each view of the training data (for single-view input, the input width).
    n_missing_ : ndarray of int, one per view
        Training samples without each view (rows of the view that were entirely NaN; see
        :ref:`distilmvc_missing_views`).
    n_views_ : int
        Number of views the networks were trained with (2 for single-view input).
    history_ : list of dict
        One record per epoch: ``stage``, ``epoch``, the mean loss terms, ``steps``, ``seconds``, and
        at the stage-2 checkpoints ``checkpoint_score`` (the latent partition's modularity).
    device_ : torch.device
        Device used for training.
    n_threads_ : int
        CPU threads the fit ran on (:ref:`threads`).
    n_iter_ : int
        Training epochs run, over all stages. A stage ends before its length only when a stopping rule
        ends it; its last ``history_`` row then says why (``"stop"``).
    n_features_in_ : int
        Number of columns seen in ``fit``.
    n_features_out_ : int
        Width of ``transform``'s output (``n_clusters``).
    interrupted_ : bool
        Whether ``fit`` was stopped by ``KeyboardInterrupt`` (the model is usable; see
        :ref:`failure_safety`).
    init_scores_ : ndarray of shape (n_init,)
        The label-free :meth:`score` of each fit on the training data; only when ``n_init > 1``.

    See Also
    --------
    skdeepclust.multiview.stack_views : Build the stacked array and ``view_sizes`` from a list of views.
    skdeepclust.multiview.ViewScaler : Per-view scaling inside a ``Pipeline``.

    Notes
    -----
    ``transform`` returns the view-averaged soft cluster assignments (``n_samples x n_clusters``), the
    space in which the final argmax is taken.

    Samples may lack views: a view row that is entirely NaN marks the view as missing for the sample
    (every sample needs at least one view; a partly-NaN row is an error). The losses then use only the
    observed views, the missing ones are filled from the sample's neighbours in its observed views for
    the neighbour graphs, and ``predict``/``transform`` average over each sample's observed views (see
    :ref:`distilmvc_missing_views`).

    The entropy weight inside the mutual-information term is the reference's fixed 9.0
    (``skdeepclust.distilmvc.MI_ENTROPY_LAMBDA``).

    The defaults are scaled to run in minutes on a CPU; the reference code's settings are in
    :ref:`distilmvc_paper_scale`. The deliberate deviations from the reference code, and why, are in
    :ref:`distilmvc_deviations`: stage lengths bounded in optimizer steps, contrastive checkpoints
    chosen by modularity, neighbour pairing, one consensus for the pseudo-labels aligned once,
    mini-batch distillation, and single-view input made into two augmented views.

    In a ``torch.distributed`` process group, the fit trains data-parallel and every process ends with
    the model one process would train (see :ref:`distributed`).

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust import DistilMVC
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> view1 = rng.normal(size=(40, 5)) + 4 * y[:, None]
    >>> view2 = rng.normal(size=(40, 3)) - 4 * y[:, None]
    >>> model = DistilMVC(n_clusters=2, hidden_dims=(32,), latent_dim=16, projection_hidden_dim=16,
    ...                   feature_dim=8, n_epochs_pretrain=20, n_epochs_contrastive=50,
    ...                   n_epochs_distill=50, batch_size=10, lr=1e-3, device="cpu", random_state=0)
    >>> labels = model.fit_predict([view1, view2])
    >>> from sklearn.metrics import adjusted_rand_score
    >>> float(adjusted_rand_score(y, labels))
    1.0
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        "view_sizes": [None, PositiveInts()],
        "hidden_dims": [PositiveInts()],
        "latent_dim": [IntInterval(1, None, closed="left")],
        "projection_hidden_dim": [IntInterval(1, None, closed="left")],
        "feature_dim": [IntInterval(1, None, closed="left")],
        "n_epochs_pretrain": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "n_epochs_contrastive": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "n_epochs_distill": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "distill_batch_size": [None, IntInterval(2, None, closed="left")],
        "n_pair_neighbors": [IntInterval(0, None, closed="left")],
        "temperature_instance": [Interval(Real, 0, None, closed="neither")],
        "temperature_cluster": [Interval(Real, 0, None, closed="neither")],
        "mi_weight": [Interval(Real, 0, None, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="both")],
        "ema_base": [Interval(Real, 0, 1, closed="both")],
        "scaling": [StrOptions({"minmax", "none"})],
        "augment": [None, callable],
    }

    _data_parallel = True  # see skdeepclust.distributed
    #: the stage-3 pseudo-labels: "auto" (the consensus); benchmarks/ablations.py overrides it with
    #: "spectral" (the latent partition only) and "kmeans" (the reference's k-means of each view)
    _pseudo_labels = "auto"
    #: k-means restarts per view of the "kmeans" pseudo-labels (the reference's)
    _kmeans_n_init = 100
    #: how missing view rows enter the neighbour graphs: "neighbors" (the mean of the view over the sample's
    #: nearest samples in its observed views); the ablation "mean" (the view's mean) is compared in the User Guide
    _missing_fill = "neighbors"

    def __init__(
        self,
        n_clusters: int | str = 8,
        *,
        n_clusters_range: tuple[int, int] | None = None,
        view_sizes=None,
        hidden_dims=(256, 512, 1024),
        latent_dim: int = 256,
        projection_hidden_dim: int = 256,
        feature_dim: int = 128,
        n_epochs_pretrain: int | str = "auto",
        n_epochs_contrastive: int | str = "auto",
        n_epochs_distill: int | str = "auto",
        batch_size: int = 256,
        distill_batch_size: int | None = None,
        n_pair_neighbors: int = 10,
        lr: float = 3e-4,
        weight_decay: float = 0.0,
        temperature_instance: float = 0.5,
        temperature_cluster: float = 1.0,
        mi_weight: float = 5e-4,
        label_smoothing: float = 0.1,
        ema_base: float = 0.4,
        scaling: str = "minmax",
        augment=None,
        device="auto",
        random_state=None,
        n_init: int = 1,
        inference_dtype: str = "auto",
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.n_clusters_range = n_clusters_range
        self.view_sizes = view_sizes
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.projection_hidden_dim = projection_hidden_dim
        self.feature_dim = feature_dim
        self.n_epochs_pretrain = n_epochs_pretrain
        self.n_epochs_contrastive = n_epochs_contrastive
        self.n_epochs_distill = n_epochs_distill
        self.batch_size = batch_size
        self.distill_batch_size = distill_batch_size
        self.n_pair_neighbors = n_pair_neighbors
        self.lr = lr
        self.weight_decay = weight_decay
        self.temperature_instance = temperature_instance
        self.temperature_cluster = temperature_cluster
        self.mi_weight = mi_weight
        self.label_smoothing = label_smoothing
        self.ema_base = ema_base
        self.scaling = scaling
        self.augment = augment
        self.device = device
        self.random_state = random_state
        self.n_init = n_init
        self.inference_dtype = inference_dtype
        self.verbose = verbose

    # ------------------------------------------------------------------ input
    def _view_sizes(self) -> tuple[int, ...]:
        return tuple(self.view_sizes_)

    def _n_clusters_input(self, X: np.ndarray) -> np.ndarray:
        """The views side by side, each feature scaled as ``scaling`` scales it for the network.

        With missing view rows, the scaling is learned on each view's observed rows and the missing rows are filled
        from the sample's neighbours in the views it has (:func:`_fill_missing_views`), as for the fit.
        """
        X = np.asarray(X, dtype=np.float64)
        if not np.isnan(X).any():
            offset, scale = scale_params(X, self.view_sizes_, self.scaling)
            return (X - offset) / scale
        X = torch.as_tensor(X)
        observed = torch.as_tensor(observed_views(X.numpy(), self.view_sizes_))
        offset, scale = _observed_scale_params(X, self.view_sizes_, self.scaling, observed)
        views = _fill_missing_views(split_views((X - offset) / scale, self.view_sizes_), observed, CONSENSUS_NEIGHBORS)
        return torch.cat(views, 1).numpy()

    def _validate_input(self, X, reset: bool) -> np.ndarray:
        list_sizes = None
        if isinstance(X, list | tuple) and any(isinstance(v, list | tuple) and np.ndim(v) == 2 for v in X):
            raise ValueError(
                "X is a nested list of 2-D lists, which is ambiguous (views, or a 3-D array?): pass the views as "
                "a list of 2-D NumPy arrays, e.g. [np.asarray(v) for v in views], or one 2-D array with view_sizes."
            )
        if is_view_list(X) or (isinstance(X, list | tuple) and any(np.ndim(v) == 2 for v in X)):
            X, list_sizes = stack_views(X)  # raises a clear error for a mixed list
        elif isinstance(X, list | tuple) and len(X) == 0:
            raise ValueError("X is an empty list: pass a list of 2-D views or one 2-D array.")
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32], ensure_min_samples=2 if reset else 1,
                          ensure_all_finite="allow-nan")
        if reset:
            self.view_sizes_ = list_sizes or check_view_sizes(self.view_sizes, X.shape[1])
        elif list_sizes is not None and list_sizes != self.view_sizes_:
            raise ValueError(
                f"The views have {list(list_sizes)} columns but the model was fitted on views of "
                f"{list(self.view_sizes_)} columns."
            )
        observed = observed_views(X, self.view_sizes_)  # NaN only as whole missing view rows, a view per sample
        if reset and not observed.any(0).all():
            raise ValueError(
                f"View(s) {np.flatnonzero(~observed.any(0)).tolist()} of X are missing (all NaN) for every sample: "
                "drop them, a view must be observed for some samples to be learned."
            )
        return X

    # ------------------------------------------------------------------ training
    def _fit_torch(self, X: torch.Tensor, trainer: Trainer) -> None:
        ctx, sizes, K = trainer.ctx, self.view_sizes_, self.n_clusters_
        single = len(sizes) == 1  # one view: two augmented copies of it
        V = self.n_views_ = 2 if single else len(sizes)
        self.n_features_out_ = K
        X, views, observed = self._scaled_views(X, V)
        n = X.shape[0]
        augment = self._single_view_augment(X) if single else None
        net = self.network_ = _DistilMVCNet.build(ctx.generator, sizes * V if single else sizes, self.hidden_dims,
                                                  self.latent_dim, self.projection_hidden_dim, self.feature_dim,
                                                  K).to(ctx.device)
        # the input's nearest samples: the neighbour pairing (stage 2) and the consensus's input graph (stage 3)
        n_pair = 0 if single else min(self.n_pair_neighbors, n - 1)
        n_graph = min(CONSENSUS_NEIGHBORS, n - 1) if self._pseudo_labels == "auto" else 0
        input_nn = _input_neighbors(X, sizes, max(n_pair, n_graph), ctx.rng)
        inputs, paired = _stage_inputs(views, augment, input_nn[:, 1 : n_pair + 1] if n_pair else None,
                                       ctx.device_generator, observed)
        optimizer = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loop = dict(n_samples=n, optimizer=optimizer, modules=[net])  # one optimizer for all stages (the reference)
        trainer.run("pretrain", functools.partial(_pretrain_step, net=net, inputs=inputs),
                    n_epochs=_stage_epochs(self.n_epochs_pretrain, n, self.batch_size), batch_size=self.batch_size,
                    **loop)
        # stage 2 with the EMA teacher; of several checkpoints, the one whose latent partition is most modular is kept
        latent = _LatentPartition(net, views, K, functools.cache(ctx.seed_for_sklearn))  # the seed is drawn once
        checkpoints = _contrastive_checkpoints(self.n_epochs_contrastive, n, self.batch_size, V)
        keep = [KeepBest([net], latent, checkpoints, optimizer=optimizer, margin=CHECKPOINT_MARGIN)
                ] if len(checkpoints) > 1 else []
        ema = EMAUpdate(net.teacher, net.student, functools.partial(_reference_momentum, base=self.ema_base))
        step = functools.partial(_contrastive_step, net=net, inputs=paired, mi_weight=self.mi_weight,
                                 temperature_instance=self.temperature_instance,
                                 temperature_cluster=self.temperature_cluster)
        trainer.run("contrastive", step, n_epochs=checkpoints[-1], batch_size=self.batch_size,
                    callbacks=[ema, *keep], **loop)
        self.contrastive_epochs_ = keep[0].restore() if keep and not trainer.stopped else checkpoints[-1]
        distill_batch = min(self.distill_batch_size or self.batch_size, n)
        n_epochs_distill = _stage_epochs(self.n_epochs_distill, n, distill_batch)
        if n_epochs_distill == 0 or trainer.stopped:
            return
        # stage 3: pseudo-labels (computed once) distilled into the student's cluster head
        input_graph = neighbor_graph(input_nn[:, : n_graph + 1]) if n_graph else None
        step = functools.partial(_distill_step, net=net, views=views, realign=self._pseudo_labels == "kmeans",
                                 pseudo_labels=self._make_pseudo_labels(net, views, latent, input_graph, ctx, observed),
                                 n_clusters=K, label_smoothing=self.label_smoothing, observed=observed)
        trainer.run("distill", step, n_epochs=n_epochs_distill, batch_size=distill_batch,
                    shuffle=distill_batch < n, drop_last=False, **loop)

    def _scaled_views(self, X: torch.Tensor, V: int) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor | None]:
        """The training input scaled, its views, and the observed view rows (``None``: no view is missing).

        Sets ``n_missing_``. The scaling is learned per feature on the training data, on each view's observed
        rows when some are missing; missing rows are then filled from the sample's neighbours
        (:func:`_fill_missing_views`), for the neighbour graphs only.
        """
        sizes = self.view_sizes_
        observed = ~torch.stack([v.isnan().all(1) for v in split_views(X, sizes)], 1)
        self.n_missing_ = (~observed).sum(0).cpu().numpy()
        observed = None if bool(observed.all()) else observed
        if observed is None:
            X = self._fit_scaling(X, self.scaling, sizes)
        else:
            X = self._fit_scaling_observed(X, self.scaling, sizes, observed)
        views = [X] * V if len(sizes) == 1 else split_views(X, sizes)
        if observed is not None:
            views = _fill_missing_views(views, observed, CONSENSUS_NEIGHBORS if self._missing_fill == "neighbors"
                                        else 0)
            X = torch.cat(views, 1)
        return X, views, observed

    def _fit_scaling_observed(self, X: torch.Tensor, method: str, view_sizes, observed: torch.Tensor) -> torch.Tensor:
        """:meth:`_fit_scaling` learned on each view's observed rows; missing rows stay NaN."""
        offset, scale = _observed_scale_params(X, view_sizes, method, observed)
        self.input_offset_, self.input_scale_ = offset.cpu(), scale.cpu()
        return (X - offset) / scale

    def _single_view_augment(self, X: torch.Tensor):
        """The augmentation that makes two views of single-view input: the user's (dry-run) or the default."""
        if self.augment is None:
            return TabularAugment(noise=0.1, mask_prob=0.2).fit(X)
        _check_user_augment(self.augment, X[:2])
        return self.augment

    def _make_pseudo_labels(self, net, views, latent: _LatentPartition, input_graph, ctx,
                            observed: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The stage-3 pseudo-labels, one tensor per view.

        Sets ``pseudo_labels_``, and for the consensus ``consensus_`` and ``consensus_scores_``.
        """
        if self._pseudo_labels == "kmeans":
            pseudo = _kmeans_pseudo_labels(net, views, self.n_clusters_, self._kmeans_n_init, ctx.device_generator)
        else:  # one consensus for every view
            graph, labels = latent.at(self.contrastive_epochs_)
            if self._pseudo_labels == "auto":
                self.consensus_, self.consensus_scores_, labels = _consensus_labels(
                    graph, labels, input_graph, self.n_clusters_, latent.seed)
            pseudo = [_aligned_to_prediction(labels, net, views, self.n_clusters_, observed)] * len(views)
        self.pseudo_labels_ = torch.stack(pseudo).cpu().numpy()
        return pseudo

    # ------------------------------------------------------------------ inference
    def _infer(self, mods: dict, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        net = mods["network_"]
        X = self._scaled(mods, X)
        views = [X] * self.n_views_ if len(self.view_sizes_) == 1 else split_views(X, self.view_sizes_)
        observed = torch.stack([~x.isnan().all(1) for x in views], 1)
        if bool(observed.all()):
            probs = sum(torch.softmax(net.view_logits(v, x), dim=1) for v, x in enumerate(views))
            probs = probs / self.n_views_
        else:  # the average over the views each sample has
            probs = sum(torch.softmax(net.view_logits(v, x.nan_to_num(0.0)), dim=1) * observed[:, v : v + 1]
                        for v, x in enumerate(views))
            probs = probs / observed.sum(1, keepdim=True)
        return probs, probs.argmax(1)

    def _selection_score(self, X: np.ndarray) -> float:
        labels = self._label_map_[self._run_inference(X, embedding=False)[1]]
        missing = np.isnan(X)
        if missing.any():  # missing view rows enter the input's k-NN graph as the view's mean over the observed rows
            counts = (~missing).sum(0)
            means = np.where(missing, 0.0, X).sum(0) / np.maximum(counts, 1)
            X = np.where(missing, means, X)
        return knn_modularity(reference_space(X, self._view_sizes()), labels)
