"""DistilMVC: multi-view contrastive clustering with teacher-student self-distillation.

Wang, Xu, Wang, Li, "Toward Generalized Multistage Clustering: Multiview Self-Distillation",
IEEE TNNLS 36(6), 2025 (arXiv:2310.18890). Specification: the official code, a fork of MFLVC.
"""

from __future__ import annotations

import functools
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
from .multiview import check_view_sizes, is_view_list, scale_params, split_views, stack_views
from .nn import ClusterHead, ProjectionHead, make_autoencoder
from .training import EMAUpdate, KeepBest, Trainer, cosine_momentum, embed_batches, epochs_for_steps, n_batches

__all__ = ["DistilMVC"]

#: the "auto" stage length: 50 epochs, but at most MAX_STAGE_STEPS optimizer steps and, for the reconstruction
#: and distillation stages, at least MIN_STAGE_STEPS
AUTO_EPOCHS, MIN_STAGE_STEPS, MAX_STAGE_STEPS = 50, 500, 1000
#: neighbours per point of the k-NN graphs of the consensus pseudo-labels
CONSENSUS_NEIGHBORS = 10
#: how much more modular than the reference length's a later contrastive checkpoint must be to be kept: about the
#: spread of that modularity between seeds at one length (0.001 - 0.025 measured, see the User Guide)
CHECKPOINT_MARGIN = 0.01


def stage_epochs(n_epochs, n_samples: int, batch_size: int, min_steps: int = MIN_STAGE_STEPS) -> int:
    """Epochs of one training stage: ``n_epochs`` as given, or the ``"auto"`` rule.

    ``"auto"`` is 50 epochs, lengthened to at least ``min_steps`` and shortened to at most 1000
    optimizer steps, so that a small data set (one or two batches per epoch) is reconstructed and
    distilled as long as a mid-sized one and a large one stays within minutes on a CPU. The
    contrastive stage passes ``min_steps=0``: it keeps the reference's 50 epochs on small data,
    because a longer cluster-level contrast ties the encoders to the cluster head's partition, right
    or wrong (see the User Guide).

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
    >>> stage_epochs("auto", 400, 256), stage_epochs("auto", 2500, 256), stage_epochs("auto", 10000, 256)
    (500, 56, 26)
    >>> stage_epochs("auto", 400, 256, min_steps=0)
    50
    >>> stage_epochs(10, 400, 256)
    10
    """
    if n_epochs != "auto":
        return int(n_epochs)
    per_epoch = n_batches(n_samples, min(batch_size, n_samples), True)
    steps = min(max(AUTO_EPOCHS * per_epoch, min_steps), MAX_STAGE_STEPS)
    return epochs_for_steps(steps, n_samples, min(batch_size, n_samples), drop_last=True, max_epochs=None)


def contrastive_checkpoints(n_epochs, n_samples: int, batch_size: int, n_views: int) -> list[int]:
    """Length of the contrastive stage and the epochs at which its learned features are scored.

    ``"auto"`` starts from the reference's 50 epochs (:func:`stage_epochs` with no lower bound). Where
    those are at most half of ``2 * MAX_STAGE_STEPS / n_views`` optimizer steps (the cost of
    ``MAX_STAGE_STEPS`` steps of two views), the stage goes on to that length, with checkpoints at
    doubling lengths; the fit keeps the checkpoint whose latent k-nearest-neighbour graph has the most
    modular spectral partition, a later one only when it is more modular than the first by more than
    ``CHECKPOINT_MARGIN``. A given number of epochs is one checkpoint: the stage's end.

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
    >>> contrastive_checkpoints("auto", 1797, 256, 2)    # 7 steps per epoch: 350 steps, then up to 1000
    [50, 100, 143]
    >>> contrastive_checkpoints("auto", 5000, 256, 2)    # 950 steps: no room to double
    [50]
    >>> contrastive_checkpoints("auto", 600, 256, 3), contrastive_checkpoints(20, 600, 256, 3)
    ([50, 100, 200, 333], [20])
    """
    checkpoints = [stage_epochs(n_epochs, n_samples, batch_size, min_steps=0)]
    if n_epochs == "auto":
        longest = stage_epochs("auto", n_samples, batch_size, min_steps=2 * MAX_STAGE_STEPS // n_views)
        while 2 * checkpoints[0] <= longest and checkpoints[-1] < longest:
            checkpoints.append(min(2 * checkpoints[-1], longest))
    return checkpoints


class _DistilMVCNet(nn.Module):
    """Per-view autoencoders, shared student/teacher projection heads and cluster head."""

    def __init__(self, view_sizes, hidden_dims, latent_dim, head_hidden_dim, feature_dim, n_clusters):
        super().__init__()
        self.autoencoders = nn.ModuleList(make_autoencoder(d, hidden_dims, latent_dim) for d in view_sizes)
        self.student = ProjectionHead(latent_dim, (head_hidden_dim,), feature_dim)
        self.teacher = ProjectionHead(latent_dim, (head_hidden_dim,), feature_dim, normalize=True)
        self.cluster = ClusterHead(feature_dim, n_clusters)

    def encode(self, v: int, x: torch.Tensor) -> torch.Tensor:
        return self.autoencoders[v].encoder(x)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.cluster(self.student(z))


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
       samples in the input half of the time (``n_neighbors``);
    3. self-distillation (``n_epochs_distill``): pseudo-labels, by default one consensus by spectral
       clustering of the k-nearest-neighbour graph of all views' latent features, of the input, or of
       both (``pseudo_labels``), are
       Hungarian-aligned to the student's predictions (the consensus once, on all rows; the
       reference's per-view k-means labels at every step) and label-smoothed (``label_smoothing``);
       the student minimises the KL divergence to them.

    Final labels are the argmax of the student's soft assignments averaged over views; ``predict``
    works the same way on new samples.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    view_sizes : sequence of int, default=None
        Column count of each view when ``X`` is one 2-D array of stacked views (see
        :func:`~skdeepclust.multiview.stack_views`). ``None`` with a 2-D array means a single view:
        two views are then made from it by feature-space augmentation (see Notes). Ignored when ``X``
        is a list of views, whose sizes are read from the arrays.
    hidden_dims : tuple of int, default=(256, 512, 1024)
        Hidden widths of each view's encoder (the decoder mirrors them).
    latent_dim : int, default=256
        Width of the low-level feature ``z_v``.
    head_hidden_dim : int, default=256
        Hidden width of the student/teacher projection heads.
    feature_dim : int, default=128
        Output width of the student/teacher heads.
    n_epochs_pretrain : int or "auto", default="auto"
        Stage-1 (reconstruction) epochs. ``"auto"``: 50 epochs, but at least 500 and at most 1000
        optimizer steps (:func:`~skdeepclust.distilmvc.stage_epochs`; see the User Guide).
    n_epochs_contrastive : int or "auto", default="auto"
        Stage-2 (contrastive) epochs. ``"auto"``: 50 epochs (at most 1000 optimizer steps); where that
        is at most half of ``2000 / n_views`` steps, training goes on to that many steps with
        checkpoints at doubling lengths, and the later stages start from the checkpoint whose latent
        k-NN graph is most modular (``contrastive_epochs_``; see the User Guide).
    n_epochs_distill : int or "auto", default="auto"
        Stage-3 (self-distillation) epochs, same ``"auto"`` rule with ``distill_batch_size``.
    batch_size : int, default=256
        Mini-batch size of stages 1 and 2 (clamped to the sample count; the last incomplete batch is
        dropped, as in the reference code).
    distill_batch_size : int, default=None
        Mini-batch size of stage 3; ``None`` uses ``batch_size``. A value of at least the sample count
        trains on the full batch, as the reference code does.
    n_neighbors : int, default=10
        Neighbour pairing in stage 2: each view of a sample is, with probability 1/2, replaced by the
        same view of one of the sample's ``n_neighbors`` nearest samples (Euclidean, on the scaled
        views side by side, each view scaled to unit total variance). ``0`` pairs every sample only with
        itself, as the reference code does. Ignored for single-view input.
    pseudo_labels : {"auto", "spectral", "kmeans"}, default="auto"
        Stage-3 targets. ``"spectral"``: one consensus for all views, spectral clustering of the
        10-nearest-neighbour graph of the L2-normalised latent features of all views side by side
        (:func:`~skdeepclust.cluster.spectral_knn`). ``"auto"``: spectral clusterings of that graph, of
        the input's 10-nearest-neighbour graph (views scaled to unit total variance, side by side) and
        of the two graphs' sum; the one with the highest modularity on the sum is kept
        (``consensus_``). ``"kmeans"``: the reference's k-means on each view's min-max-scaled teacher
        features, one set of pseudo-labels per view.
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
    mi_entropy_lambda : float, default=9.0
        Entropy weight inside the mutual-information term.
    label_smoothing : float, default=0.1
        Smoothing ``epsilon`` of the distillation targets ("dark knowledge").
    ema_base : float, default=0.4
        Initial EMA momentum ``tau_0`` of the teacher.
    kmeans_n_init : int, default=100
        k-means restarts for the pseudo-labels (per view), with ``pseudo_labels="kmeans"``.
    scaling : {"minmax", "none"}, default="minmax"
        Per-feature min-max scaling of every view to ``[0, 1]`` learned in ``fit`` (the spec's
        recommended default; decoders are linear and the reconstruction loss is a plain MSE).
    augment_noise : float, default=0.1
        Single-view input only: Gaussian noise (fraction of each feature's standard deviation) used to
        make the two views.
    augment_mask : float, default=0.2
        Single-view input only: probability of masking an entry (to the feature mean).
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device; ``"auto"`` uses CUDA when available. Mixed precision (bfloat16) is used on
        CUDA.
    random_state : int, RandomState instance or None, default=None
        Seed of every random choice of the fit (weights, batches, augmentations, k-means). The global
        torch/NumPy random states are neither read nor changed.
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
        Cluster of each training sample (``0 .. k-1`` without gaps).
    network_ : torch.nn.Module
        The trained networks (``autoencoders``, ``student``, ``teacher``, ``cluster``).
    pseudo_labels_ : ndarray of shape (n_views, n_samples)
        The pseudo-labels of stage 3, per view (the same row for every view, except with
        ``pseudo_labels="kmeans"``).
    contrastive_epochs_ : int
        The stage-2 epoch whose weights the later stages start from: the last one, or with
        ``n_epochs_contrastive="auto"`` the checkpoint kept (see the parameter).
    consensus_ : {"latent", "input", "union"}
        With ``pseudo_labels="auto"``: the graph whose spectral clustering became the pseudo-labels.
    consensus_scores_ : dict
        With ``pseudo_labels="auto"``: each candidate's modularity on the sum of the latent and input
        graphs.
    view_sizes_ : tuple of int
        Column count of each view of the training data (for single-view input, the input width).
    n_views_ : int
        Number of views the networks were trained with (2 for single-view input).
    history_ : list of dict
        One record per epoch: ``stage``, ``epoch``, the mean loss terms, ``steps``, ``seconds``, and
        at the stage-2 checkpoints ``checkpoint_score`` (the latent graph's modularity).
    device_ : torch.device
        Device used for training.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    n_features_out_ : int
        Width of ``transform``'s output (``n_clusters``).
    interrupted_ : bool
        Whether ``fit`` was stopped by ``KeyboardInterrupt`` (see the User Guide: the model is usable).
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

    **Scale.** The defaults are scaled to run in minutes on a CPU. The paper-scale settings of the
    reference code (BDGP config) are ``hidden_dims=(512, 1024, 2048)``, ``latent_dim=512``,
    ``head_hidden_dim=512``, ``feature_dim=128``, ``n_epochs_pretrain=200``, ``n_epochs_contrastive=10``
    (BDGP; MFLVC uses 50 for MNIST-USPS), ``n_epochs_distill=50`` with
    ``distill_batch_size`` at least the sample count, ``n_neighbors=0``, ``pseudo_labels="kmeans"``,
    ``lr=1e-4``, ``batch_size=256``.

    **Deviations from the reference code**, each deliberate (the User Guide says why each should hold
    on data that was not used to choose it):

    - stage lengths have bounds in optimizer steps (``"auto"``): the reconstruction and distillation
      stages run at least 500 steps (a data set of a few hundred rows would otherwise get a few dozen),
      and no stage runs more than 1000;
    - on small data the contrastive stage goes on past the reference's 50 epochs and keeps the
      checkpoint whose learned features give the most modular k-NN graph partition: a longer stage
      can teach the encoders more (the digits as two views) or tie them to a wrong partition of the
      cluster head (BDGP), and the modularity tells the two apart without labels;
    - neighbour pairing (``n_neighbors``): when the views are deterministic functions of one record
      (pixels and gradients of one image), a cross-view contrast between a sample's own views is
      solved by recognising the record, which says nothing about its class; pairing a view with a
      near sample's view makes the contrast pull neighbours together;
    - consensus pseudo-labels (``pseudo_labels="auto"``): one clustering of all views together,
      by a k-nearest-neighbour graph that follows elongated or unequal clusters, instead of one
      k-means per view (a weak view then gives its own, worse targets); the graph of the learned
      features, the input's graph or their sum, whichever gives the most modular partition of the
      sum: the contrastive stage can add class information the input lacks (views that agree only
      on the class) or lose some the input has (views that are two measurements of one record, many
      small clusters), and a partition supported by both graphs is kept; the consensus is aligned
      once, on all rows, to the views' averaged prediction, so that every view's student gets the
      same fixed cluster ids (aligned anew in every mini-batch, as the reference aligns its labels, a
      cluster's id can change from batch to batch while the student's partition still differs from
      the targets', and the student then merges clusters);
    - stage 3 runs on mini-batches of ``batch_size`` with the ``"auto"`` length instead of 50
      full-batch steps, which leave the student far from its targets when they differ from its
      starting partition;

    - the default learning rate is MFLVC's 3e-4 (the reference DistilMVC code uses 1e-4 with 4x more
      pre-training epochs);
    - ``log y`` in the KL term is taken as ``log_softmax`` of the logits (same maths, no ``log 0``);
    - the Hungarian alignment uses the assignment vector directly instead of a Python loop (same
      result); the k-means for pseudo-labels is seeded;
    - batches never exceed the sample count (``drop_last`` with ``n < batch_size`` would train on
      nothing);
    - **single-view input** (a plain 2-D array, as the scikit-learn check suite and most pipelines
      pass) is not in the paper, whose losses are all cross-view: two views are made from it, each
      with its own autoencoder, by independent feature-space augmentation (per-feature Gaussian noise
      ``augment_noise`` and masking ``augment_mask``) of every batch; the autoencoders are denoising
      (they reconstruct the clean input); at inference both views see the clean input.

    **Data-parallel training.** In a ``torch.distributed`` process group of several processes (a script
    started by ``torchrun``), each process forwards its share of every batch while the losses, the EMA
    teacher, the pseudo-labels, the batch-norm statistics and updates stay those of the global batch:
    every process ends with the model one process would train (see the User Guide).

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust import DistilMVC
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> view1 = rng.normal(size=(40, 5)) + 4 * y[:, None]
    >>> view2 = rng.normal(size=(40, 3)) - 4 * y[:, None]
    >>> model = DistilMVC(n_clusters=2, hidden_dims=(32,), latent_dim=16, head_hidden_dim=16,
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
        "head_hidden_dim": [IntInterval(1, None, closed="left")],
        "feature_dim": [IntInterval(1, None, closed="left")],
        "n_epochs_pretrain": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "n_epochs_contrastive": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "n_epochs_distill": [IntInterval(0, None, closed="left"), StrOptions({"auto"})],
        "distill_batch_size": [None, IntInterval(2, None, closed="left")],
        "n_neighbors": [IntInterval(0, None, closed="left")],
        "pseudo_labels": [StrOptions({"auto", "spectral", "kmeans"})],
        "temperature_instance": [Interval(Real, 0, None, closed="neither")],
        "temperature_cluster": [Interval(Real, 0, None, closed="neither")],
        "mi_weight": [Interval(Real, 0, None, closed="left")],
        "mi_entropy_lambda": [Interval(Real, 0, None, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="both")],
        "ema_base": [Interval(Real, 0, 1, closed="both")],
        "kmeans_n_init": [IntInterval(1, None, closed="left")],
        "scaling": [StrOptions({"minmax", "none"})],
        "augment_noise": [Interval(Real, 0, None, closed="left")],
        "augment_mask": [Interval(Real, 0, 1, closed="left")],
    }

    _data_parallel = True  # see skdeepclust.distributed

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        view_sizes=None,
        hidden_dims=(256, 512, 1024),
        latent_dim: int = 256,
        head_hidden_dim: int = 256,
        feature_dim: int = 128,
        n_epochs_pretrain: int | str = "auto",
        n_epochs_contrastive: int | str = "auto",
        n_epochs_distill: int | str = "auto",
        batch_size: int = 256,
        distill_batch_size: int | None = None,
        n_neighbors: int = 10,
        pseudo_labels: str = "auto",
        lr: float = 3e-4,
        weight_decay: float = 0.0,
        temperature_instance: float = 0.5,
        temperature_cluster: float = 1.0,
        mi_weight: float = 5e-4,
        mi_entropy_lambda: float = 9.0,
        label_smoothing: float = 0.1,
        ema_base: float = 0.4,
        kmeans_n_init: int = 100,
        scaling: str = "minmax",
        augment_noise: float = 0.1,
        augment_mask: float = 0.2,
        device="auto",
        random_state=None,
        n_init: int = 1,
        inference_dtype: str = "auto",
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.view_sizes = view_sizes
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.head_hidden_dim = head_hidden_dim
        self.feature_dim = feature_dim
        self.n_epochs_pretrain = n_epochs_pretrain
        self.n_epochs_contrastive = n_epochs_contrastive
        self.n_epochs_distill = n_epochs_distill
        self.batch_size = batch_size
        self.distill_batch_size = distill_batch_size
        self.n_neighbors = n_neighbors
        self.pseudo_labels = pseudo_labels
        self.lr = lr
        self.weight_decay = weight_decay
        self.temperature_instance = temperature_instance
        self.temperature_cluster = temperature_cluster
        self.mi_weight = mi_weight
        self.mi_entropy_lambda = mi_entropy_lambda
        self.label_smoothing = label_smoothing
        self.ema_base = ema_base
        self.kmeans_n_init = kmeans_n_init
        self.scaling = scaling
        self.augment_noise = augment_noise
        self.augment_mask = augment_mask
        self.device = device
        self.random_state = random_state
        self.n_init = n_init
        self.inference_dtype = inference_dtype
        self.verbose = verbose

    # ------------------------------------------------------------------ input
    def _view_sizes(self) -> tuple[int, ...]:
        return tuple(self.view_sizes_)

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
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32], ensure_min_samples=2 if reset else 1)
        if reset:
            self.view_sizes_ = list_sizes or check_view_sizes(self.view_sizes, X.shape[1])
        elif list_sizes is not None and list_sizes != self.view_sizes_:
            raise ValueError(
                f"The views have {list(list_sizes)} columns but the model was fitted on views of "
                f"{list(self.view_sizes_)} columns."
            )
        return X

    # ------------------------------------------------------------------ training
    def _fit_torch(self, X: torch.Tensor, trainer: Trainer) -> None:
        ctx = trainer.ctx
        sizes = self.view_sizes_
        single = len(sizes) == 1  # one view: two augmented copies of it
        V = self.n_views_ = 2 if single else len(sizes)
        self.n_features_out_ = self.n_clusters

        X = self._fit_scaling(X, self.scaling, sizes)  # per-feature min-max scaling learned on the training data
        views = [X] * V if single else split_views(X, sizes)

        dims = tuple(int(d) for d in self.hidden_dims)
        net = build_module(
            lambda: _DistilMVCNet(sizes * 2 if single else sizes, dims, self.latent_dim, self.head_hidden_dim,
                                  self.feature_dim, self.n_clusters),
            ctx.generator,
        )
        net.teacher.load_state_dict(net.student.state_dict())  # teacher starts as an exact copy
        net = self.network_ = net.to(ctx.device)
        n = X.shape[0]
        pairs = [(v, w) for v in range(V) for w in range(v + 1, V)]

        if single:
            aug = TabularAugment(noise=self.augment_noise, mask_prob=self.augment_mask).fit(X)

            def inputs(idx):  # two augmented copies in; the clean rows are the reconstruction target
                x = X[idx]
                return [aug(x, ctx.device_generator) for _ in range(V)], [x] * V
        else:

            def inputs(idx):
                xs = [v[idx] for v in views]
                return xs, xs

        # the input's nearest samples (every view scaled to unit total variance, so each counts alike), for the
        # neighbour pairing and for the "auto" consensus's input graph
        n_nb = min(self.n_neighbors, n - 1) if not single else 0
        n_graph = min(CONSENSUS_NEIGHBORS, n - 1) if self.pseudo_labels == "auto" else 0
        if max(n_nb, n_graph) > 0:
            Xin = X[:, : sizes[0]] if single else X
            offset, scale = scale_params(Xin, sizes[:1] if single else sizes, "view-variance")
            balanced = (Xin - offset) / scale
            input_nn = nearest_neighbors(balanced, max(n_nb, n_graph) + 1, random_state=ctx.rng)[1]

        # neighbour pairing: in the contrastive stage each view of a sample is, with probability 1/2, the same view
        # of one of its nearest samples in the input
        if n_nb > 0:
            neighbours = input_nn[:, 1 : n_nb + 1]

            def paired_inputs(idx):
                xs = []
                for v in range(V):
                    pick = torch.randint(n_nb, idx.shape, generator=ctx.device_generator, device=idx.device)
                    swap = torch.rand(idx.shape, generator=ctx.device_generator, device=idx.device) < 0.5
                    xs.append(views[v][torch.where(swap, neighbours[idx, pick], idx)])
                return xs, xs
        else:
            paired_inputs = inputs

        # stage 1: per-view autoencoders
        # every step draws its inputs for the whole batch, forwards this process's rows (state.local) and computes
        # the loss on the whole batch's outputs (state.gather): see skdeepclust.distributed
        def pretrain_step(idx, state):
            xin, target = inputs(idx)
            rec = sum(F.mse_loss(state.gather(net.autoencoders[v](state.local(xin[v]))[1]).float(), target[v])
                      for v in range(V))
            return {"rec": rec}

        # stage 2: cross-view instance contrast (teacher), cluster contrast (student), mutual information
        def contrastive_step(idx, state):
            xin, target = paired_inputs(idx)
            zs, recs, ts, ys = [], [], [], []
            for v in range(V):
                z, xhat = net.autoencoders[v](state.local(xin[v]))
                zs.append(state.gather(z))
                recs.append(F.mse_loss(state.gather(xhat).float(), target[v]))
                ts.append(state.gather(net.teacher(z)))
                ys.append(torch.softmax(state.gather(net.logits(z)).float(), dim=1))
            ins = sum(nt_xent(ts[v], ts[w], self.temperature_instance) for v, w in pairs)
            clu = sum(cluster_contrastive_loss(ys[v], ys[w], self.temperature_cluster) for v, w in pairs)
            mi = sum(cross_view_mutual_information(zs[v], zs[w], self.mi_entropy_lambda) for v, w in pairs)
            return {"instance": ins, "cluster": clu, "mi": self.mi_weight * mi, "rec": sum(recs)}

        def momentum(state):  # EMA of the student head into the teacher head after every step
            # the reference code's index k = epoch + batch + 1 with period n_epochs + 1 (it oscillates within an epoch)
            return cosine_momentum(state.epoch + state.batch + 1, state.n_epochs + 1, self.ema_base)

        K, eps = self.n_clusters, self.label_smoothing
        seed = functools.cache(ctx.seed_for_sklearn)  # drawn once, when first needed
        latent_partitions = {}  # scored checkpoints of stage 2: epoch -> (latent k-NN graph, its spectral labels)

        def latent_partition():
            # spectral clustering of the k-NN graph of all views' L2-normalised latent features, side by side
            fused = torch.cat([F.normalize(embed_batches(lambda x, v=v: net.encode(v, x), views[v], [net]), dim=1)
                               for v in range(V)], dim=1)
            graph = knn_graph(fused, CONSENSUS_NEIGHBORS, random_state=seed())
            return graph, spectral_graph(graph, K, random_state=seed())

        def latent_modularity(state):
            graph, labels = latent_partitions[state.epoch + 1] = latent_partition()
            return graph_modularity(graph, labels)

        optimizer = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loop = dict(n_samples=n, optimizer=optimizer, modules=[net])
        trainer.run("pretrain", pretrain_step, n_epochs=stage_epochs(self.n_epochs_pretrain, n, self.batch_size),
                    batch_size=self.batch_size, **loop)
        # stage 2: the encoders are kept at the checkpoint whose latent graph is most modular
        checkpoints = contrastive_checkpoints(self.n_epochs_contrastive, n, self.batch_size, V)
        keep = (KeepBest([net], latent_modularity, checkpoints, optimizer=optimizer, margin=CHECKPOINT_MARGIN)
                if len(checkpoints) > 1 else None)
        trainer.run("contrastive", contrastive_step, n_epochs=checkpoints[-1], batch_size=self.batch_size,
                    callbacks=[EMAUpdate(net.teacher, net.student, momentum), *([keep] if keep else [])], **loop)
        self.contrastive_epochs_ = checkpoints[-1]
        kept_partition = None  # the kept checkpoint's latent graph and labels, reused by the consensus
        if keep is not None and not trainer.stopped:
            self.contrastive_epochs_ = keep.restore()
            kept_partition = latent_partitions[self.contrastive_epochs_]
        distill_batch = min(self.distill_batch_size or self.batch_size, n)
        n_epochs_distill = stage_epochs(self.n_epochs_distill, n, distill_batch)
        if n_epochs_distill == 0 or trainer.stopped:
            return

        # stage 3: pseudo-labels (computed once) distilled into the student's cluster head
        net.eval()
        if self.pseudo_labels in ("auto", "spectral"):
            # one consensus: the latent graph's spectral clustering ...
            latent_graph, latent_labels = kept_partition or latent_partition()
            if self.pseudo_labels == "spectral":
                consensus = latent_labels
            else:  # ... or of the input's graph, or of both graphs' sum: the most modular on the sum
                input_graph = neighbor_graph(input_nn[:, : n_graph + 1])
                graphs = {"latent": latent_graph, "input": input_graph, "union": latent_graph + input_graph}
                candidates = {name: spectral_graph(g, K, random_state=seed()) for name, g in graphs.items()
                              if name != "latent"}
                candidates["latent"] = latent_labels
                self.consensus_scores_ = {name: graph_modularity(graphs["union"], lab)
                                          for name, lab in candidates.items()}
                self.consensus_ = max(self.consensus_scores_, key=self.consensus_scores_.get)
                consensus = candidates[self.consensus_]
            consensus = torch.as_tensor(consensus, device=X.device)
            # its ids aligned once, on all rows, to the views' averaged prediction: fixed targets with the ids the
            # student already gives (aligning every batch anew lets a cluster's id change from batch to batch
            # while the student's partition differs from the targets')
            mean_pred = sum(torch.softmax(embed_batches(lambda x, v=v: net.logits(net.encode(v, x)), views[v]), 1)
                            for v in range(V)).argmax(1)
            pseudo = [align_labels(consensus, mean_pred.to(consensus.device), K)] * V
        else:  # the reference: k-means on each view's min-max-scaled teacher features
            pseudo = []
            for v in range(V):
                t = embed_batches(lambda x, v=v: net.teacher(net.encode(v, x)), views[v])
                lo, hi = t.min(0).values, t.max(0).values
                t = (t - lo) / torch.where(hi > lo, hi - lo, torch.ones_like(hi))
                pseudo.append(kmeans(t, K, n_init=self.kmeans_n_init, generator=ctx.device_generator).labels)
        self.pseudo_labels_ = torch.stack(pseudo).cpu().numpy()
        shared = self.pseudo_labels != "kmeans"

        def distill_step(idx, state):
            logits = [state.gather(net.logits(net.encode(v, state.local(views[v][idx])))).float() for v in range(V)]
            if shared:  # the aligned consensus: the same fixed targets for every view
                targets = [pseudo[0][idx]] * V
            else:  # each view's pseudo-labels, Hungarian-aligned to its own student's prediction
                targets = [align_labels(pseudo[v][idx], logits[v].argmax(1), K) for v in range(V)]
            loss = sum(kl_distillation(F.log_softmax(logits[v], 1), smoothed_one_hot(targets[v], K, eps))
                       for v in range(V))
            return {"distill": loss}

        trainer.run("distill", distill_step, n_epochs=n_epochs_distill, batch_size=distill_batch,
                    shuffle=distill_batch < n, drop_last=False, **loop)

    # ------------------------------------------------------------------ inference
    def _inference_modules(self) -> tuple[str, ...]:
        return ("network_", "input_offset_", "input_scale_")

    def _infer(self, mods: dict, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        net = mods["network_"]
        X = (X - mods["input_offset_"]) / mods["input_scale_"]
        views = [X] * self.n_views_ if len(self.view_sizes_) == 1 else split_views(X, self.view_sizes_)
        probs = sum(torch.softmax(net.logits(net.encode(v, x)), dim=1) for v, x in enumerate(views))
        probs = probs / self.n_views_
        return probs, probs.argmax(1)

