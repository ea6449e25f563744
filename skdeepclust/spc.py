"""SPC: selective pseudo-label clustering with an ensemble of autoencoders (Mahon & Lukasiewicz, KI 2021).

Specification: the authors' released code. The module follows the method: the ensemble network
(:class:`_SPCNet`); the loss terms (each member's noisy L1 reconstruction, the extra weight on the
unselected rows, the heads' cross-entropy on the selected rows' vote); the vote (each voter's 2-D
embedding and clustering, :func:`ensemble_vote`); the stages (pre-training, then the rounds of training
and vote in one trainer stage, :class:`_PseudoLabelRounds`, kept by
:class:`~skdeepclust.training.KeepBest`); then the estimator :class:`SPC`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.cluster import KMeans
from sklearn.manifold import TSNE
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from torch.nn import functional as F

from ._utils import FitContext, build_module, keep_torch_threads
from ._validation import IntInterval, PositiveInts, all_rows_identical
from .base import BaseDeepClusterer
from .cluster import match_labels, nearest_neighbors
from .nn import EnsembleConvAutoencoder, EnsembleMLP, EnsembleMLPAutoencoder
from .single_view import SingleViewMixin
from .training import Callback, KeepBest, LoopState, Trainer, embed_batches

__all__ = ["SPC", "ensemble_vote", "relative_latent_noise"]


# ---------------------------------------------------------------------------------------------- network
class _SPCNet(nn.Module):
    """The ensemble: ``M`` autoencoders and ``M`` small classification heads, run as batched modules."""

    def __init__(self, autoencoder: nn.Module, n_members: int, latent_dim: int, head_hidden_dim: int,
                 n_clusters: int):
        super().__init__()
        self.ae = autoencoder
        self.heads = EnsembleMLP(n_members, (latent_dim, head_hidden_dim, n_clusters), batchnorm=False,
                                 activation="relu")
        self.n_members = n_members

    def members_input(self, x: torch.Tensor) -> torch.Tensor:
        """Give every member the same rows: ``(batch, d) -> (batch, M, d)``."""
        return x.unsqueeze(1).expand(-1, self.n_members, -1)

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """Every member's latent codes of the same rows: ``(batch, d) -> (batch, M, latent_dim)``."""
        return self.ae.encode(self.members_input(x))


def _make_network(kind: str, image_shape, n_features: int, hidden_dims: tuple[int, ...], n_members: int,
                  latent_dim: int, head_hidden_dim: int, n_clusters: int) -> _SPCNet:
    """The ensemble with conv (``kind="conv"``, images) or MLP member autoencoders."""
    if kind == "conv":
        ae = EnsembleConvAutoencoder(n_members, image_shape, latent_dim)
    else:
        ae = EnsembleMLPAutoencoder(n_members, n_features, hidden_dims, latent_dim)
    return _SPCNet(ae, n_members, latent_dim, head_hidden_dim, n_clusters)


# ---------------------------------------------------------------------------------------------- loss terms
def relative_latent_noise(z: torch.Tensor, sigma: float, generator: torch.Generator,
                          mask: torch.Tensor | None = None) -> torch.Tensor:
    """Add SPC's latent noise ``z + sigma * eps / max(eps)`` per ensemble member.

    ``eps`` is standard normal with the shape of ``z``; the maximum is taken over the whole
    ``(batch, latent)`` slice of each member (over the rows in ``mask`` only, when given).

    Parameters
    ----------
    z : torch.Tensor of shape (batch, n_members, latent_dim)
        Latent codes.
    sigma : float
        Noise scale relative to the largest draw.
    generator : torch.Generator
        Generator on ``z``'s device.
    mask : torch.Tensor of bool of shape (batch, n_members), optional
        Rows over which each member's maximum is taken.

    Returns
    -------
    torch.Tensor
        The noisy codes, same shape as ``z``.
    """
    if sigma == 0:
        return z
    eps = torch.randn(z.shape, generator=generator, device=z.device, dtype=z.dtype)
    ref = eps if mask is None else eps.masked_fill(~mask[..., None], float("-inf"))
    top = ref.amax(dim=(0, 2), keepdim=True)
    top = torch.where(torch.isfinite(top) & (top > 0), top, torch.ones_like(top))
    return z + sigma * eps / top


def member_reconstruction(net: _SPCNet, x: torch.Tensor, sigma: float, generator: torch.Generator):
    """Each member's codes of its own rows ``x`` (``(B, M, d)``) and its L1 reconstruction error from noisy codes.

    Returns ``z`` of shape ``(B, M, latent_dim)`` and the per-row errors ``(B, M)`` (mean over features).
    """
    z = net.ae.encode(x)
    rec = (net.ae.decode(relative_latent_noise(z, sigma, generator)) - x).abs().mean(-1)
    return z, rec


def unselected_reconstruction(rec: torch.Tensor, selected: torch.Tensor) -> torch.Tensor:
    """Extra reconstruction weight: each member's mean error over its unselected rows, when it has selected ones."""
    rest = (~selected).float()
    extra = (rec * rest).sum(0) / rest.sum(0).clamp(min=1)
    return (extra * (selected.sum(0) > 0)).sum()


def selected_cross_entropy(heads: nn.Module, z: torch.Tensor, selected: torch.Tensor, targets: torch.Tensor,
                           sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Each member's head's cross-entropy against the vote on its selected rows (noisy codes), summed over members.

    The noise's scale is taken over the selected rows only.
    """
    logits = heads(relative_latent_noise(z, sigma, generator, mask=selected))
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
    ce = ce.reshape(selected.shape) * selected
    return (ce.sum(0) / selected.sum(0).clamp(min=1)).sum()


def pretrain_terms(net: _SPCNet, x: torch.Tensor, sigma: float, generator: torch.Generator) -> dict:
    """Pre-training loss of a batch ``x`` of shape ``(B, M, d)``: every member's noisy L1 reconstruction."""
    _, rec = member_reconstruction(net, x, sigma, generator)
    return {"recon": rec.mean(0).sum()}


def round_terms(net: _SPCNet, x: torch.Tensor, selected: torch.Tensor, targets: torch.Tensor, sigma: float,
                generator: torch.Generator) -> dict:
    """Loss terms of a round's batch ``x`` of shape ``(B, M, d)``.

    Every member's noisy L1 reconstruction, the extra weight on its unselected rows, and its head's
    cross-entropy on its selected rows' vote (zero when no row of the batch is selected).
    """
    z, rec = member_reconstruction(net, x, sigma, generator)
    terms = {"recon": rec.mean(0).sum(), "recon_unselected": unselected_reconstruction(rec, selected)}
    if bool(selected.any()):
        terms["ce"] = selected_cross_entropy(net.heads, z, selected, targets, sigma, generator)
    else:
        terms["ce"] = rec.new_zeros(())
    return terms


# ---------------------------------------------------------------------------------------------- vote
def _embed_and_cluster(codes: np.ndarray, k: int, embedding: str | None, n_neighbors: int,
                       seed: int) -> np.ndarray:
    """One voter's labels: 2-D embedding of its codes (``None``: the codes themselves), then ``k`` clusters."""
    n = codes.shape[0]
    if all_rows_identical(codes):
        # identical codes carry no clustering (and crash Barnes-Hut t-SNE): a one-cluster vote, which
        # ensemble_vote does not count
        return np.zeros(n, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if embedding == "umap":
            import umap

            n_neighbors = min(n_neighbors, n - 1)
            # exact neighbours (NN-descent past cluster.APPROX_NEIGHBORS_MIN_ROWS rows): faster than UMAP's own here
            dist, idx = nearest_neighbors(torch.from_numpy(np.ascontiguousarray(codes)), n_neighbors,
                                          random_state=seed)
            knn = (idx.numpy().astype(np.int32), dist.numpy().astype(np.float32))
            init = "spectral" if n >= 10 else "random"  # the spectral init needs more rows than dimensions
            emb = umap.UMAP(n_components=2, min_dist=0.0, n_neighbors=n_neighbors, random_state=seed, n_jobs=1,
                            init=init, precomputed_knn=(*knn, None)).fit_transform(codes)
        elif embedding == "tsne":
            emb = TSNE(2, perplexity=min(30.0, (n - 1) / 3), init="pca", random_state=seed).fit_transform(codes)
        else:
            emb = codes
        try:
            gmm = GaussianMixture(k, covariance_type="full", n_init=3, reg_covar=1e-5, random_state=seed)
            return gmm.fit_predict(emb).astype(np.int64)
        except ValueError:  # a collapsed component (tiny or degenerate data): k-means instead
            return KMeans(k, n_init=10, random_state=seed).fit_predict(emb).astype(np.int64)


def _umap_neighbors(n_neighbors: int | str, n_samples: int) -> int:
    """UMAP's neighbours: ``"auto"`` is the paper's ``30 N / 70000``, clipped to ``[10, 30]``."""
    return int(np.clip(30 * n_samples // 70000, 10, 30)) if n_neighbors == "auto" else int(n_neighbors)


def label_voters(Z: np.ndarray, n_clusters: int, embedding: str | None, n_neighbors: int, seed: int,
                 n_jobs: int | None = None) -> list[np.ndarray]:
    """Every voter's labels of the codes ``Z`` of shape ``(N, M, latent_dim)``.

    The voters are the members' codes and, when ``M > 1``, their concatenation; each is embedded and
    clustered with the same seed.
    """
    codes = [Z[:, i] for i in range(Z.shape[1])]
    if Z.shape[1] > 1:
        codes.append(Z.reshape(Z.shape[0], -1))
    jobs = (delayed(_embed_and_cluster)(c, n_clusters, embedding, n_neighbors, seed) for c in codes)
    with keep_torch_threads():  # UMAP starts numba's OpenMP pool
        return Parallel(n_jobs=n_jobs)(jobs)


def ensemble_vote(labellings, n_clusters: int, threshold: float, pivot: np.ndarray | None = None):
    """Align labellings to a pivot (Hungarian), vote, and select the samples enough voters agree on.

    Parameters
    ----------
    labellings : list of numpy.ndarray of int of shape (n_samples,)
        One labelling per voter, ids in ``0 .. n_clusters - 1``. Voters that use fewer than
        ``n_clusters`` distinct ids are not counted (unless no voter uses all of them).
    n_clusters : int
        Number of clusters.
    threshold : float
        A sample is selected when its most voted cluster has at least ``threshold`` times the
        number of counted voters.
    pivot : numpy.ndarray of int, optional
        Labelling the voters are aligned to; default: the first counted voter.

    Returns
    -------
    labels : numpy.ndarray of int of shape (n_samples,)
        Plurality vote (ties go to the smallest id).
    selected : numpy.ndarray of bool of shape (n_samples,)
        Samples on which the super-majority agrees.
    n_voters : int
        Number of voters counted.
    """
    usable = [lab for lab in labellings if np.unique(lab).size == n_clusters] or list(labellings)
    ref = usable[0] if pivot is None else pivot
    votes = np.zeros((usable[0].size, n_clusters), dtype=np.int64)
    rows = np.arange(usable[0].size)
    for lab in usable:
        aligned = match_labels(lab, ref, n_clusters)[lab]
        np.add.at(votes, (rows, aligned), 1)
    labels = votes.argmax(1)
    selected = votes.max(1) >= threshold * len(usable) - 1e-9
    return labels, selected, len(usable)


@dataclass
class _Vote:
    """The ensemble's vote on the training rows; ``records`` keeps every vote so far (``SPC.rounds_``).

    Round 0 aligns the voters to the first counted voter, every later round to the previous vote, so that
    the cluster ids (and the heads' outputs) keep their meaning.
    """

    net: _SPCNet
    X: torch.Tensor
    n_clusters: int
    threshold: float
    embedding: str | None
    n_neighbors: int
    seed: int
    n_jobs: int | None = None
    verbose: int = 0
    records: list = field(default_factory=list)

    def __call__(self) -> dict:
        """Vote once: embed and cluster every voter's codes, align, vote; the new record."""
        t0 = time.perf_counter()
        codes = embed_batches(self.net.codes, self.X, [self.net]).cpu().numpy().astype(np.float64)
        labellings = label_voters(codes, self.n_clusters, self.embedding, self.n_neighbors, self.seed, self.n_jobs)
        pivot = self.records[-1]["labels"] if self.records else None
        labels, sel, n_voters = ensemble_vote(labellings, self.n_clusters, self.threshold, pivot)
        record = {"round": len(self.records), "labels": labels, "selected": sel, "fraction_selected": float(sel.mean()),
                  "n_voters": n_voters, "seconds": time.perf_counter() - t0}
        self.records.append(record)
        if self.verbose:
            print(f"[SPC] round {record['round']}: {sel.mean():.1%} selected by {n_voters} voters", flush=True)
        return record


def _vote_summary(record: dict) -> dict:
    """A vote's entries in ``history_``."""
    return {"round": record["round"], "fraction_selected": record["fraction_selected"],
            "n_voters": record["n_voters"]}


# ---------------------------------------------------------------------------------------------- stages
class _MemberOrders(Callback):
    """A fresh, independent data order per member at the start of each epoch."""

    def __init__(self, n_members: int, n_samples: int, ctx: FitContext):
        self.n_members, self.n_samples, self.ctx = n_members, n_samples, ctx
        self.perms: torch.Tensor | None = None

    def on_epoch_begin(self, state: LoopState) -> None:  # noqa: D102
        keys = torch.rand(self.n_members, self.n_samples, generator=self.ctx.generator)
        self.perms = keys.argsort(dim=1).to(self.ctx.device)

    def rows(self, pos: torch.Tensor) -> torch.Tensor:
        """Each member's rows at the epoch's positions ``pos``: indices of shape ``(B, M)``."""
        return self.perms[:, pos].T


class _PseudoLabelRounds(Callback):
    """The rounds of pseudo-label training, in one trainer stage of ``n_epochs_round`` epochs per round.

    A round's first epoch takes the last vote as its training targets (``targets``: the ensemble labels,
    ``selected``: the rows the voters agree on) and clears the optimizer's state, which computes the same
    as a new Adam per round; a round's last epoch ends with a new vote, recorded in the epoch's history
    row (the ``round`` of every row, and the vote's ``fraction_selected``, ``n_voters``, ``vote_seconds``).
    :meth:`score` (the selected fraction) is the round's checkpoint score for
    :class:`~skdeepclust.training.KeepBest`.
    """

    def __init__(self, vote: _Vote, n_epochs_round: int, optimizer: torch.optim.Optimizer, n_samples: int,
                 device: torch.device):
        self.vote, self.n_epochs_round, self.optimizer = vote, n_epochs_round, optimizer
        self.targets = torch.zeros(n_samples, dtype=torch.long, device=device)
        self.selected = torch.zeros(n_samples, dtype=torch.bool, device=device)

    def round_ends(self, n_rounds: int) -> range:
        """The (1-based) epochs that end a round, i.e. that end with a vote."""
        return range(self.n_epochs_round, n_rounds * self.n_epochs_round + 1, self.n_epochs_round)

    def score(self, state: LoopState) -> float:
        """The last vote's selected fraction."""
        return self.vote.records[-1]["fraction_selected"]

    def on_epoch_begin(self, state: LoopState) -> None:  # noqa: D102
        if state.epoch % self.n_epochs_round:
            return
        last = self.vote.records[-1]
        if not last["selected"].any():
            warnings.warn(f"SPC round {state.epoch // self.n_epochs_round + 1}: no sample is selected; training "
                          "on reconstruction only.", RuntimeWarning, stacklevel=2)
        self.targets.copy_(torch.as_tensor(last["labels"], device=self.targets.device))
        self.selected.copy_(torch.as_tensor(last["selected"], device=self.selected.device))
        self.optimizer.state.clear()

    def on_epoch_end(self, state: LoopState, record: dict) -> None:  # noqa: D102
        record["round"] = state.epoch // self.n_epochs_round + 1
        if (state.epoch + 1) % self.n_epochs_round == 0:
            vote = self.vote()
            record.update(_vote_summary(vote), vote_seconds=vote["seconds"])


# ---------------------------------------------------------------------------------------------- estimator
def _check_umap() -> None:
    """Import umap-learn, or say how to repair it."""
    try:
        import umap  # noqa: F401
    except ImportError as exc:  # a broken install, or a numba that does not support this NumPy
        raise ImportError(
            f'SPC(embedding="umap") could not import umap-learn, a dependency of skdeepclust ({exc}). '
            'Reinstall it with "pip install umap-learn" (its numba must support the installed NumPy), '
            'or use embedding="tsne", which needs nothing beyond scikit-learn.'
        ) from exc


class SPC(SingleViewMixin, BaseDeepClusterer):
    """Selective pseudo-label clustering (SPC): an ensemble trained only on labels its members agree on.

    ``n_members`` autoencoders are pre-trained independently on reconstruction (L1, with noise on the
    latent codes). Then, every round:

    1. each member's latent codes are embedded in 2-D (UMAP by default) and clustered into
       ``n_clusters`` groups by a Gaussian mixture; the concatenation of all members' codes is one
       more voter;
    2. the voters' labels are aligned to a pivot by Hungarian matching and voted; a sample is
       *selected* when at least ``agreement_threshold`` of the voters agree on its label;
    3. every member is trained for ``n_epochs_round`` epochs on reconstruction plus the
       cross-entropy of its classification head against the ensemble label, on the selected samples
       only (the unselected ones get extra reconstruction weight).

    The rounds stop after ``max_rounds`` or after ``patience`` rounds without a larger selected
    fraction; the last round with the largest selected fraction is kept. ``labels_`` is that round's
    ensemble vote, for every training sample. Read more in the :ref:`User Guide <spc>`.

    Parameters
    ----------
    n_clusters : int or "auto", default=8
        Number of clusters ``K``. ``"auto"``: estimated at the start of ``fit`` by
        :func:`~skdeepclust.estimate_n_clusters` on the training input scaled as the network sees it;
        ``n_clusters_`` holds the number used (:ref:`n_clusters_guide`).
    n_clusters_range : (int, int), default=None
        Smallest and largest number of clusters that ``n_clusters="auto"`` considers, both included
        (``2 <= lower <= upper < n_samples``); ``None``: ``(2, min(n_samples // 10, 200))``. Ignored for an
        int ``n_clusters``.
    n_members : int, default=10
        Autoencoders in the ensemble.
    image_shape : tuple of int, optional
        ``(C, H, W)`` when the rows are flattened images with values in ``[0, 1]``; ``None`` means
        tabular features (standardised internally).
    autoencoder : {"auto", "conv", "mlp"}, default="auto"
        Member architecture: ``"conv"`` is the paper's convolutional autoencoder (images only), ``"mlp"`` an
        MLP autoencoder ``d -> hidden_dims -> latent_dim`` and back. ``"auto"`` uses the conv net for images
        trained on a GPU and the MLP otherwise (:ref:`spc_input`); ``autoencoder_`` records the choice.
    hidden_dims : tuple of int, optional
        MLP hidden widths (default ``(512, 256)``); unused by the conv net.
    latent_dim : int, default=50
        Latent width of each member.
    head_hidden_dim : int, default=25
        Hidden width of each classification head (``latent -> head_hidden_dim -> K``).
    latent_noise : float, default=1.5
        Latent noise scale ``sigma`` of ``z + sigma * eps / max(eps)`` during training.
    n_epochs_pretrain : int, default=10
        Reconstruction epochs before the first vote.
    n_epochs_round : int, default=8
        Training epochs per pseudo-label round.
    max_rounds : int, default=10
        Maximum pseudo-label rounds.
    patience : int, default=3
        Stop after this many rounds without a larger selected fraction.
    agreement_threshold : float, default=1/1.2
        Fraction of the counted voters that must agree for a sample to be selected (``1.0``: unanimity).
    embedding : {"umap", "tsne"}, default="umap"
        2-D embedding of each voter's codes before clustering: UMAP (``n_components=2``, ``min_dist=0``;
        umap-learn) or scikit-learn's t-SNE (slower; :ref:`spc_input`).
    n_neighbors : int or "auto", default="auto"
        Neighbours per point of UMAP's k-NN graph; ``"auto"``: ``30 * N / 70000`` clipped to ``[10, 30]``.
    batch_size : int, default=64
        Mini-batch size.
    lr : float, default=1e-3
        Adam learning rate (the optimizer's state starts afresh every round).
    weight_decay : float, default=0.0
        Adam weight decay.
    n_jobs : int, optional
        Parallel jobs (joblib) for the per-voter embedding and clustering.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device; ``"auto"`` takes CUDA when available (:ref:`devices`).
    random_state : int, RandomState instance or None, default=None
        Seeds weights, data orders, noise, embeddings and clusterers (:ref:`reproducibility`).
    n_init : int, default=1
        Fits with different seeds; the one with the highest label-free :meth:`score` is kept (:ref:`n_init`).
    inference_dtype : {"auto", "float32", "float64"}, default="auto"
        Precision of ``predict``, ``transform`` and ``score``; ``"auto"``: float64 on the CPU, float32 on
        CUDA (:ref:`many_rows`).
    verbose : int, default=0
        ``>= 1`` shows a progress bar per training stage and prints one line per vote
        (:ref:`training_curves`).

    Attributes
    ----------
    n_clusters_ : int
        The number of clusters of the fit: ``n_clusters``, or its estimate for ``"auto"``.
    labels_ : ndarray of shape (n_samples,)
        The kept round's ensemble vote for each training sample.
    network_ : torch.nn.Module
        The ensemble (autoencoders and heads) of the kept round.
    autoencoder_ : {"conv", "mlp"}
        The member architecture used.
    rounds_ : list of dict
        Per vote (round 0 follows pre-training): ``round``, ``labels`` and ``selected`` (arrays over
        the training samples), ``fraction_selected``, ``n_voters``, ``seconds``.
    best_round_ : int
        The round whose vote and networks were kept.
    history_ : list of dict
        Per-epoch training records (stage ``"pretrain"``, then ``"rounds"`` with the ``round`` of each
        epoch, and the vote on the round's last epoch), and round 0's vote (stage ``"vote"``) in
        between (:ref:`spc_history`).
    n_features_out_ : int
        ``n_members * latent_dim``: ``transform`` returns the members' concatenated codes.
    device_ : torch.device
        Device used for training.
    n_threads_ : int
        CPU threads the fit ran on (:ref:`threads`).
    n_iter_ : int
        Training epochs run, over all stages. A stage ends before its length only when a stopping rule
        ends it; its last ``history_`` row then says why (``"stop"``).
    interrupted_ : bool
        Whether training was interrupted (:ref:`failure_safety`).
    init_scores_ : ndarray of shape (n_init,)
        The label-free :meth:`score` of each fit on the training data; only when ``n_init > 1``.
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    MTDC, SeCu, HaDis : Single-network single-view methods.

    Notes
    -----
    Deviations from the reference code, all to make the method unsupervised and usable as an
    estimator: the reference aligns the voters to the ground-truth labels and keeps the round with
    the best accuracy against them; here round 0 aligns to the first counted voter and later rounds to
    the previous ensemble (so the heads' outputs keep their meaning), and the last round with the
    largest selected fraction is kept. The clusterer is a seeded Gaussian mixture instead of HDBSCAN with a
    search for exactly ``K`` clusters (the reference code's own alternative). Codes are extracted with
    batch norm in eval mode. The paper-scale settings are in the :ref:`User Guide <spc>`.

    ``predict`` on new data averages the members' head probabilities on clean codes (the heads are
    trained on the ensemble labels, so their ids are the ensemble's); ``fit_predict`` returns the
    ensemble vote. The two agree on most training samples but not necessarily all.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepclust import SPC
    >>> X, _ = make_blobs(n_samples=100, centers=3, n_features=8, random_state=0)
    >>> spc = SPC(n_clusters=3, n_members=2, n_epochs_pretrain=5, n_epochs_round=2, max_rounds=1,
    ...           embedding="tsne", device="cpu", random_state=0).fit(X)
    >>> spc.labels_.shape
    (100,)
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        "n_members": [IntInterval(1, None, closed="left")],
        "image_shape": [None, PositiveInts(3, "(C, H, W)")],
        "autoencoder": [StrOptions({"auto", "conv", "mlp"})],
        "hidden_dims": [None, PositiveInts()],
        "latent_dim": [IntInterval(1, None, closed="left")],
        "head_hidden_dim": [IntInterval(1, None, closed="left")],
        "latent_noise": [Interval(Real, 0, None, closed="left")],
        "n_epochs_pretrain": [IntInterval(0, None, closed="left")],
        "n_epochs_round": [IntInterval(1, None, closed="left")],
        "max_rounds": [IntInterval(1, None, closed="left")],
        "patience": [IntInterval(1, None, closed="left")],
        "agreement_threshold": [Interval(Real, 0, 1, closed="right")],
        "embedding": [StrOptions({"umap", "tsne"})],
        "n_neighbors": [IntInterval(2, None, closed="left"), StrOptions({"auto"})],
        "n_jobs": [None, IntInterval(None, None, closed="neither")],
    }

    #: whether each voter's codes are embedded in 2-D before clustering (``False``: the raw-code
    #: ablation of ``benchmarks/ablations.py``, which ignores ``embedding``)
    _embed_codes: bool = True

    def __init__(
        self,
        n_clusters: int | str = 8,
        *,
        n_clusters_range: tuple[int, int] | None = None,
        n_members: int = 10,
        image_shape: tuple[int, int, int] | None = None,
        autoencoder: str = "auto",
        hidden_dims: tuple[int, ...] | None = None,
        latent_dim: int = 50,
        head_hidden_dim: int = 25,
        latent_noise: float = 1.5,
        n_epochs_pretrain: int = 10,
        n_epochs_round: int = 8,
        max_rounds: int = 10,
        patience: int = 3,
        agreement_threshold: float = 1 / 1.2,
        embedding: str = "umap",
        n_neighbors: int | str = "auto",
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        n_jobs: int | None = None,
        device: str | torch.device = "auto",
        random_state=None,
        n_init: int = 1,
        inference_dtype: str = "auto",
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.n_clusters_range = n_clusters_range
        self.n_members = n_members
        self.image_shape = image_shape
        self.autoencoder = autoencoder
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.head_hidden_dim = head_hidden_dim
        self.latent_noise = latent_noise
        self.n_epochs_pretrain = n_epochs_pretrain
        self.n_epochs_round = n_epochs_round
        self.max_rounds = max_rounds
        self.patience = patience
        self.agreement_threshold = agreement_threshold
        self.embedding = embedding
        self.n_neighbors = n_neighbors
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_jobs = n_jobs
        self.device = device
        self.random_state = random_state
        self.n_init = n_init
        self.inference_dtype = inference_dtype
        self.verbose = verbose

    def _check_n_samples(self, n_samples: int) -> None:
        super()._check_n_samples(n_samples)
        if n_samples < 3:
            raise ValueError(f"SPC needs at least 3 samples (got n_samples={n_samples}).")

    def _build_network(self, d: int, ctx: FitContext) -> _SPCNet:
        shape = self._checked_image_shape(d)
        kind = self.autoencoder
        if kind == "auto":
            kind = "conv" if shape is not None and ctx.device.type == "cuda" else "mlp"
        if kind == "conv" and shape is None:
            raise ValueError('autoencoder="conv" needs image_shape=(C, H, W).')
        self.autoencoder_ = kind
        hidden = (512, 256) if self.hidden_dims is None else tuple(int(h) for h in self.hidden_dims)
        args = (kind, shape, d, hidden, self.n_members, self.latent_dim, self.head_hidden_dim, self.n_clusters_)
        return build_module(lambda: _make_network(*args), ctx.generator).to(ctx.device)

    def _adam(self, module: nn.Module) -> torch.optim.Adam:
        return torch.optim.Adam(module.parameters(), lr=self.lr, weight_decay=self.weight_decay)

    def _fit_torch(self, X: torch.Tensor, trainer: Trainer) -> np.ndarray:
        ctx = trainer.ctx
        embedding = self.embedding if self._embed_codes else None
        if embedding == "umap":
            _check_umap()
        X = self._prepare_input(X)
        n, d = X.shape
        net = self._build_network(d, ctx)
        self.n_features_out_ = self.n_members * self.latent_dim
        orders = _MemberOrders(self.n_members, n, ctx)
        # one embedding seed for all voters and rounds
        vote = _Vote(net, X, self.n_clusters_, self.agreement_threshold, embedding,
                     _umap_neighbors(self.n_neighbors, n), ctx.seed_for_sklearn(), self.n_jobs, self.verbose)
        self.rounds_ = vote.records
        sigma, noise = self.latent_noise, ctx.device_generator
        loop = dict(n_samples=n, batch_size=self.batch_size, modules=[net], shuffle=False)

        def pretrain_step(pos, state):
            return pretrain_terms(net, X[orders.rows(pos)], sigma, noise)

        trainer.run("pretrain", pretrain_step, n_epochs=self.n_epochs_pretrain, optimizer=self._adam(net.ae),
                    callbacks=[orders], **loop)
        first = vote()  # round 0, aligned to its first counted voter
        self.history_.append({"stage": "vote", **_vote_summary(first), "seconds": first["seconds"]})
        self.network_ = net  # the model is usable from the first vote on
        optimizer = self._adam(net)
        rounds = _PseudoLabelRounds(vote, self.n_epochs_round, optimizer, n, ctx.device)
        keep = KeepBest([net], rounds.score, rounds.round_ends(self.max_rounds), prefer_later=True,
                        patience=self.patience)  # a tie keeps the later round: same selection, heads trained longer

        def round_step(pos, state):
            idx = orders.rows(pos)
            return round_terms(net, X[idx], rounds.selected[idx], rounds.targets[idx], sigma, noise)

        trainer.run("rounds", round_step, n_epochs=self.max_rounds * self.n_epochs_round, optimizer=optimizer,
                    callbacks=[orders, rounds, keep], **loop)
        best_epoch = keep.restore()
        self.best_round_ = 0 if best_epoch is None else best_epoch // self.n_epochs_round
        return self.rounds_[self.best_round_]["labels"]

    def _infer(self, mods: dict, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        net = mods["network_"]
        z = net.codes(self._scaled(mods, X))
        probs = net.heads(z).softmax(-1).mean(1)
        return z.reshape(z.shape[0], -1), probs.argmax(1)
