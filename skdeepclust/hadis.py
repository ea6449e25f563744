"""HaDis: diffused sampling alignment + hardness-aware self-distillation + prototype contrast.

"Hardness-aware Deep Clustering" (Regan-Zhang/HaDis, arXiv:2401.14038), built on ProPos (BYOL with
prototype scattering). Specification: the official code.
"""

from __future__ import annotations

import copy
import functools
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._utils import build_module
from ._validation import IntInterval
from .base import BaseDeepClusterer
from .cluster import kmeans, knn_vote, spectral_knn
from .losses import byol_alignment, diffused_prediction, hardness_aware_distillation, prototype_contrastive_loss
from .nn import ProjectionHead
from .single_view import SingleViewMixin
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

#: optimizer steps of the default schedule (``max_epochs=None``): about 110 epochs of USPS, 100 of
#: MNIST-10k, 800 of COIL-20 and 570 of the 8x8 digits at the default batch of 256
DEFAULT_STEPS = 4000
#: with ``final_clustering="spectral"``, ``predict``'s voters: past this many training rows, a fixed subsample
#: of this many (each cluster in proportion to its size, and at least ``n_neighbors`` rows of it), so that a
#: predicted row costs a bounded number of distances and the fitted model a bounded memory
PREDICT_VOTERS_MAX_ROWS = 20_000


def _mlp_head(in_dim: int, hidden: int, out: int) -> nn.Module:
    """Projector/predictor of BYOL: Linear -> BN -> ReLU -> Linear."""
    return ProjectionHead(in_dim, (hidden,), out, batchnorm=True)


class _HaDisNet(nn.Module):
    """Online backbone + projector + predictor, and the EMA target (backbone + projector).

    The target is built like the online network (its own projector module) and starts as an exact copy
    of the online weights.
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


def _embed_all(net: _HaDisNet, X: torch.Tensor) -> torch.Tensor:
    """Normalised target embedding of every row (target in eval mode), in float32."""
    return embed_batches(net.embed, X, [net.target])


class _PseudoLabels(Callback):
    """k-means on the target embedding of the clean data before every epoch that uses PSL.

    (The reference also clusters during warm-up, where PSL is off and the labels go unused.)
    """

    def __init__(self, net: _HaDisNet, X: torch.Tensor, k: int, n_init: int, generator: torch.Generator,
                 first_epoch: int):
        self.net, self.X, self.k, self.n_init, self.generator = net, X, k, n_init, generator
        self.first_epoch = first_epoch
        self.labels: torch.Tensor | None = None

    def on_epoch_begin(self, state: LoopState) -> None:  # noqa: D102
        if state.epoch >= self.first_epoch:
            self.labels = kmeans(_embed_all(self.net, self.X), self.k, n_init=self.n_init,
                                 generator=self.generator).labels


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
      student is than the teacher "template", enter a two-logit softmax (``hsd_tau``);
    - **PSL** (prototype contrast, weight ``cluster_loss_weight``): batch prototypes of k-means
      pseudo-labels (recomputed on the target embedding before every epoch) must match the target's
      prototype of the same cluster and repel the other clusters.

    The first ``warmup_epochs`` have a linear learning-rate warm-up, no PSL and no perturbation; then
    the learning rate follows a cosine decay. Final labels: by default spectral clustering of the
    k-nearest-neighbour graph of the L2-normalised target embedding, and ``predict`` gives a new
    sample the majority label of its ``n_neighbors`` nearest training samples;
    ``final_clustering="kmeans"`` is the reference's k-means, with ``predict`` assigning the nearest
    centre by cosine.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    image_shape : tuple of int, default=None
        ``(C, H, W)`` when rows are flattened images with values in ``[0, 1]``: a small conv encoder
        and image augmentations are used. ``None``: tabular rows (MLP backbone, feature-space
        augmentations, features standardised internally).
    encoder : torch.nn.Module, default=None
        Your own backbone mapping ``(n, n_features)`` to ``(n, k)``; it is deep-copied and its weights
        are kept as given. ``None`` builds the default (see ``hidden_dims``).
    hidden_dims : tuple of int, default=None
        Default backbone: MLP widths for tabular rows (``None``: ``(256, 256)``, the spec's CPU
        backbone) or the channels of the stride-2 conv blocks for images (``None``: ``(32, 64, 128)``).
    projection_hidden_dim : int, default=512
        Hidden width of the projector and predictor.
    feature_dim : int, default=64
        Output width of the projector and predictor (the embedding).
    max_epochs : int, default=None
        Training epochs. ``None`` sets the schedule in optimizer steps instead: enough epochs for
        ``DEFAULT_STEPS`` (4000) steps, so small data sets get as many updates as large ones, but at
        most 1000 epochs (``training.STEP_SCHEDULE_MAX_EPOCHS``; reached below about 1000 rows).
    warmup_epochs : int, default=None
        Epochs of linear learning-rate warm-up, without PSL and perturbation. ``None``: 10 % of the
        epochs (the spec's advice for short runs).
    batch_size : int, default=256
        Mini-batch size (the last incomplete batch is dropped).
    lr : float, default=0.05
        SGD base learning rate per 256 samples (scaled linearly with ``batch_size``).
    predictor_lr_mult : float, default=10.0
        Learning-rate multiplier of the predictor.
    momentum : float, default=0.9
        SGD momentum.
    weight_decay : float, default=5e-4
        SGD weight decay (on every parameter, as the reference code).
    ema_base : float, default=0.99
        Initial EMA momentum of the target.
    cluster_loss_weight : float, default=0.1
        Weight ``lambda`` of the prototype contrast (0 disables it).
    temperature : float, default=0.5
        PSL temperature.
    hsd_weight : float, default=1.0
        Weight of the HSD term (0 disables it: the ProPos objective).
    hsd_tau : float, default=0.5
        HSD temperature.
    latent_std : float, default=1e-3
        Standard deviation of the DSA perturbation of the online projection (after warm-up).
    kmeans_n_init : int, default=10
        k-means restarts for the pseudo-labels (and the final clustering with ``"kmeans"``).
    final_clustering : {"spectral", "kmeans"}, default="spectral"
        How the trained embedding is clustered. ``"kmeans"`` is the reference's cosine k-means.
        ``"spectral"`` clusters the symmetrised ``n_neighbors``-nearest-neighbour graph of the
        embedding (:func:`~skdeepclust.cluster.spectral_knn`): it keeps a large class whole where
        k-means, which favours clusters of equal spread, splits it and merges two smaller ones (see
        the User Guide).
    n_neighbors : int, default=10
        Neighbours of the spectral graph, and voters of ``predict`` (at most the size of the smallest
        cluster), with ``"spectral"``.
    augment : callable, default=None
        ``augment(x, generator) -> x'`` on a batch of rows (on the training device); ``None`` picks
        :class:`~skdeepclust.augment.ImageAugment` for images (crop, small affine, intensity jitter;
        flips only for 3-channel images) or :class:`~skdeepclust.augment.TabularAugment`.
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
        Cluster of each training sample.
    cluster_centers_ : ndarray of shape (n_clusters, feature_dim)
        Unit-norm cluster centres in the target embedding (with ``"spectral"``: the normalised mean
        embedding of each cluster).
    train_embedding_ : ndarray of shape (n_voters, feature_dim) or None
        Target embedding of the training samples, the reference of ``predict``'s vote (``None`` with
        ``"kmeans"``). Past ``PREDICT_VOTERS_MAX_ROWS`` (20 000) training samples, a fixed subsample of that
        many (each cluster in proportion to its size), so that ``predict`` costs a bounded time per row.
    train_labels_ : ndarray of shape (n_voters,) or None
        Spectral cluster of each of those samples (``None`` with ``"kmeans"``).
    network_ : torch.nn.Module
        Trained networks (``online``, ``predictor``, ``target``).
    history_ : list of dict
        Per-epoch loss terms (``dsa``, ``hsd``, ``psl``), ``steps`` and ``seconds``.
    device_ : torch.device
        Training device.
    n_features_in_ : int
        Number of input columns.
    n_features_out_ : int
        Width of ``transform``'s output (``feature_dim``).
    n_epochs_ : int
        Number of training epochs used.
    n_warmup_epochs_ : int
        Number of warm-up epochs used.
    interrupted_ : bool
        Whether ``fit`` was stopped by ``KeyboardInterrupt`` (see the User Guide: the model is usable).
    init_scores_ : ndarray of shape (n_init,)
        The label-free :meth:`score` of each fit on the training data; only when ``n_init > 1``.

    Notes
    -----
    **Scale.** The reference trains a CIFAR-stem ResNet-18 (512-d), projector/predictor 4096 -> 256, for
    1000 epochs with batch 256, SGD lr 0.05, EMA 0.996, warm-up 50 epochs, ``cluster_loss_weight`` 0.1
    (0.05 for CIFAR-20 and ImageNet-10), ``latent_std`` 1e-3, k-means every epoch. The defaults here
    follow the spec's CPU recommendations: a small backbone, projector 512 -> 64, 4000 steps (110
    epochs of USPS), 10 % of them warm-up, EMA 0.99 with a cosine ramp to 1.

    **Deviations.** The cosine learning-rate decay runs over the post-warm-up epochs (the reference
    divides by the total epoch count, leaving the final rate at ~0.6 % of the base; negligible); the
    EMA is applied after the optimizer step (standard BYOL; the reference applies it before);
    augmentations are batched torch re-implementations (no hue jitter); CIFAR-20's class-balanced
    resampling is not implemented. The default final clustering is spectral instead of the
    reference's k-means (the training, pseudo-labels included, is unchanged): on imbalanced data such
    as USPS, k-means on the same embedding splits the largest class.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust import HaDis
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(-3, 1, (40, 4)), rng.normal(3, 1, (40, 4))])
    >>> model = HaDis(n_clusters=2, hidden_dims=(32,), projection_hidden_dim=32, feature_dim=8,
    ...               max_epochs=5, warmup_epochs=1, batch_size=32, device="cpu", random_state=0)
    >>> model.fit_predict(X).shape
    (80,)
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        **SingleViewMixin._single_view_constraints,
        "projection_hidden_dim": [IntInterval(1, None, closed="left")],
        "feature_dim": [IntInterval(1, None, closed="left")],
        "max_epochs": [IntInterval(0, None, closed="left"), None],
        "warmup_epochs": [IntInterval(0, None, closed="left"), None],
        "predictor_lr_mult": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "ema_base": [Interval(Real, 0, 1, closed="both")],
        "cluster_loss_weight": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "hsd_weight": [Interval(Real, 0, None, closed="left")],
        "hsd_tau": [Interval(Real, 0, None, closed="neither")],
        "latent_std": [Interval(Real, 0, None, closed="left")],
        "kmeans_n_init": [IntInterval(1, None, closed="left")],
        "final_clustering": [StrOptions({"spectral", "kmeans"})],
        "n_neighbors": [IntInterval(1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        image_shape=None,
        encoder=None,
        hidden_dims=None,
        projection_hidden_dim: int = 512,
        feature_dim: int = 64,
        max_epochs: int | None = None,
        warmup_epochs: int | None = None,
        batch_size: int = 256,
        lr: float = 0.05,
        predictor_lr_mult: float = 10.0,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        ema_base: float = 0.99,
        cluster_loss_weight: float = 0.1,
        temperature: float = 0.5,
        hsd_weight: float = 1.0,
        hsd_tau: float = 0.5,
        latent_std: float = 1e-3,
        kmeans_n_init: int = 10,
        final_clustering: str = "spectral",
        n_neighbors: int = 10,
        augment=None,
        device="auto",
        random_state=None,
        n_init: int = 1,
        inference_dtype: str = "auto",
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.image_shape = image_shape
        self.encoder = encoder
        self.hidden_dims = hidden_dims
        self.projection_hidden_dim = projection_hidden_dim
        self.feature_dim = feature_dim
        self.max_epochs = max_epochs
        self.warmup_epochs = warmup_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.predictor_lr_mult = predictor_lr_mult
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.ema_base = ema_base
        self.cluster_loss_weight = cluster_loss_weight
        self.temperature = temperature
        self.hsd_weight = hsd_weight
        self.hsd_tau = hsd_tau
        self.latent_std = latent_std
        self.kmeans_n_init = kmeans_n_init
        self.final_clustering = final_clustering
        self.n_neighbors = n_neighbors
        self.augment = augment
        self.device = device
        self.random_state = random_state
        self.n_init = n_init
        self.inference_dtype = inference_dtype
        self.verbose = verbose

    # ------------------------------------------------------------------ training
    def _final_clustering(self, net: _HaDisNet, X: torch.Tensor, ctx) -> np.ndarray | None:
        """Final centres (and, with spectral labels, the training labels) from the trained target embedding."""
        net.eval()
        emb = _embed_all(net, X)
        if self.final_clustering == "kmeans":
            centers = kmeans(emb, self.n_clusters, n_init=self.kmeans_n_init, generator=ctx.device_generator).centers
            self.cluster_centers_ = F.normalize(centers.float(), dim=1).cpu().numpy()
            self.train_embedding_ = self.train_labels_ = None
            return None
        labels = torch.as_tensor(spectral_knn(emb, self.n_clusters, self.n_neighbors, ctx.seed_for_sklearn()),
                                 device=emb.device)
        sums = torch.zeros(self.n_clusters, emb.shape[1], device=emb.device).index_add_(0, labels, emb)
        self.cluster_centers_ = F.normalize(sums, dim=1).cpu().numpy()
        voters = _voter_rows(labels.cpu(), self.n_clusters, self.n_neighbors, ctx.generator)
        self.train_embedding_ = emb.cpu().numpy() if voters is None else emb[voters.to(emb.device)].cpu().numpy()
        self.train_labels_ = (labels if voters is None else labels[voters.to(labels.device)]).cpu().numpy()
        return labels.cpu().numpy()

    def _fit_torch(self, X: torch.Tensor, trainer: Trainer) -> np.ndarray | None:
        ctx = trainer.ctx
        X, augment, backbone, width = self._prepare_training(X, ctx)
        n = X.shape[0]
        hidden, dim = self.projection_hidden_dim, self.feature_dim
        projector = build_module(lambda: _mlp_head(width, hidden, dim), ctx.generator)
        predictor = build_module(lambda: _mlp_head(dim, hidden, dim), ctx.generator)
        target_projector = build_module(lambda: _mlp_head(width, hidden, dim), ctx.generator)
        with torch.no_grad():  # predictor: linear weights N(0, 0.01^2), biases 0 (reference init)
            for layer in predictor:
                if isinstance(layer, nn.Linear):
                    layer.weight.normal_(0.0, 0.01, generator=ctx.generator)
                    layer.bias.zero_()
        net = _HaDisNet(backbone, projector, predictor, target_projector).to(ctx.device)
        self.network_, self.n_features_out_ = net, self.feature_dim

        batch = clamp_batch_size(self.batch_size, n)
        base_lr = self.lr * batch / 256
        optimizer = torch.optim.SGD(
            [
                {"params": list(net.online.parameters())},
                {"params": list(net.predictor.parameters()), "lr": base_lr * self.predictor_lr_mult},
            ],
            lr=base_lr,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
        )
        total = self.max_epochs
        if total is None:
            total = epochs_for_steps(DEFAULT_STEPS, n, batch, drop_last=True)
        warm = round(0.1 * total) if self.warmup_epochs is None else self.warmup_epochs
        self.n_epochs_, self.n_warmup_epochs_ = total, warm

        lr_factor = functools.partial(warmup_cosine, n_warmup=warm, n_epochs=total)
        def ema(state):  # the target's momentum rises from ema_base to 1 over training (cosine)
            return cosine_momentum(state.step, state.n_steps, self.ema_base)

        pseudo = _PseudoLabels(net, X, self.n_clusters, self.kmeans_n_init, ctx.device_generator, first_epoch=warm)
        K = self.n_clusters

        def step(idx, state):
            x = X[idx]
            xa, xb = augment(x, ctx.device_generator), augment(x, ctx.device_generator)
            za, zb = net.online(xa), net.online(xb)
            with torch.no_grad():
                ta, tb = F.normalize(net.target(xa), dim=1), F.normalize(net.target(xb), dim=1)
            after_warmup = state.epoch >= warm
            std = self.latent_std if after_warmup else 0.0

            # DSA: the predictor sees a Gaussian-perturbed ("diffused") projection
            pa = diffused_prediction(net.predictor, za, std, ctx.device_generator)
            pb = diffused_prediction(net.predictor, zb, std, ctx.device_generator)
            terms = {"dsa": 0.5 * (byol_alignment(pa, tb) + byol_alignment(pb, ta))}
            if self.hsd_weight > 0:
                hsd = hardness_aware_distillation(tb, pa, self.hsd_tau) + hardness_aware_distillation(
                    ta, pb, self.hsd_tau
                )
                terms["hsd"] = self.hsd_weight * 0.5 * hsd
            if self.cluster_loss_weight > 0 and after_warmup:
                y = pseudo.labels[idx]
                psl = prototype_contrastive_loss(za, tb, y, K, self.temperature) + prototype_contrastive_loss(
                    zb, ta, y, K, self.temperature
                )
                terms["psl"] = self.cluster_loss_weight * 0.5 * psl
            return terms

        callbacks = [LRSchedule(optimizer, lr_factor), EMAUpdate(net.target, net.online, ema)]
        if self.cluster_loss_weight > 0:
            callbacks.insert(0, pseudo)
        trainer.run("hadis", step, n_samples=n, n_epochs=total, batch_size=batch, optimizer=optimizer,
                    modules=[net.online, net.predictor, net.target], callbacks=callbacks)
        return self._final_clustering(net, X, ctx)

    # ------------------------------------------------------------------ inference
    def _inference_modules(self) -> tuple[str, ...]:
        return (*super()._inference_modules(), "cluster_centers_", "train_embedding_", "train_labels_")

    def _infer(self, mods: dict, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        X = self._scaled(mods, X)
        emb = mods["network_"].embed(X)
        if mods["train_labels_"] is not None:  # spectral labels: the k-NN vote of the training embedding
            ref = torch.as_tensor(mods["train_embedding_"], dtype=emb.dtype, device=emb.device)
            labels = torch.as_tensor(mods["train_labels_"], device=emb.device)
            sizes = torch.bincount(labels, minlength=self.n_clusters)
            voters = min(self.n_neighbors, int(sizes[sizes > 0].min()))  # a small cluster can still win
            return emb, knn_vote(ref, labels, emb, voters, self.n_clusters)
        centers = torch.as_tensor(mods["cluster_centers_"], dtype=emb.dtype, device=emb.device)
        return emb, (emb @ centers.T).argmax(1)


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
