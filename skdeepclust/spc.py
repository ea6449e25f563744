"""SPC: selective pseudo-label clustering with an ensemble of autoencoders (Mahon & Lukasiewicz, KI 2021)."""

from __future__ import annotations

import copy
import time
import warnings
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
from .training import Callback, LoopState, Trainer, embed_batches

__all__ = ["SPC", "ensemble_vote", "relative_latent_noise"]



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


class _SPCNet(nn.Module):
    """The ensemble: ``M`` autoencoders and ``M`` small classification heads."""

    def __init__(self, autoencoder: nn.Module, n_members: int, latent_dim: int, head_hidden: int, n_clusters: int):
        super().__init__()
        self.ae = autoencoder
        self.heads = EnsembleMLP(n_members, (latent_dim, head_hidden, n_clusters), batchnorm=False,
                                 activation="relu")
        self.n_members = n_members

    def members_input(self, x: torch.Tensor) -> torch.Tensor:
        """Give every member the same rows: ``(batch, d) -> (batch, M, d)``."""
        return x.unsqueeze(1).expand(-1, self.n_members, -1)


class _MemberOrders(Callback):
    """A fresh, independent data order per member at the start of each epoch."""

    def __init__(self, n_members: int, n_samples: int, ctx: FitContext):
        self.n_members, self.n_samples, self.ctx = n_members, n_samples, ctx
        self.perms: torch.Tensor | None = None

    def on_epoch_begin(self, state: LoopState) -> None:  # noqa: D102
        keys = torch.rand(self.n_members, self.n_samples, generator=self.ctx.generator)
        self.perms = keys.argsort(dim=1).to(self.ctx.device)


class SPC(SingleViewMixin, BaseDeepClusterer):
    """Selective pseudo-label clustering (SPC): an ensemble trained only on labels its members agree on.

    ``n_members`` autoencoders are pre-trained independently on reconstruction (L1, with noise on the
    latent codes). Then, every round:

    1. each member's latent codes are embedded in 2-D (UMAP by default) and clustered into
       ``n_clusters`` groups by a Gaussian mixture; the concatenation of all members' codes is one
       more voter;
    2. the voters' labels are aligned to a pivot by Hungarian matching and voted; a sample is
       *selected* when at least ``agreement_threshold`` of the voters agree on its label;
    3. every member is trained for ``epochs_per_round`` epochs on reconstruction plus the
       cross-entropy of its classification head against the ensemble label, on the selected samples
       only (the unselected ones get extra reconstruction weight).

    The rounds stop after ``max_rounds`` or after ``patience`` rounds without a larger selected
    fraction; the last round with the largest selected fraction is kept. ``labels_`` is that round's
    ensemble vote, for every training sample.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters ``K``.
    n_members : int, default=10
        Autoencoders in the ensemble (15 in the paper).
    image_shape : tuple of int, optional
        ``(C, H, W)`` when the rows are flattened images with values in ``[0, 1]``; ``None`` means
        tabular features (standardised internally).
    autoencoder : {"auto", "conv", "mlp"}, default="auto"
        Member architecture: ``"conv"`` is the paper's convolutional autoencoder (images only, about
        1.4M parameters per member), ``"mlp"`` an MLP autoencoder ``d -> hidden_dims -> latent_dim`` and
        back. ``"auto"`` uses the conv net for images trained on a GPU, and the MLP otherwise: on a CPU the
        conv net is much slower per sample (see the User Guide). ``autoencoder_`` records the choice.
    hidden_dims : tuple of int, optional
        MLP hidden widths (default ``(512, 256)``); unused by the conv net.
    latent_dim : int, default=50
        Latent width of each member.
    head_hidden : int, default=25
        Hidden width of each classification head (``latent -> head_hidden -> K``).
    latent_noise : float, default=1.5
        Latent noise scale ``sigma`` of ``z + sigma * eps / max(eps)`` during training.
    pretrain_epochs : int, default=10
        Reconstruction epochs before the first vote.
    epochs_per_round : int, default=8
        Training epochs per pseudo-label round.
    max_rounds : int, default=10
        Maximum pseudo-label rounds (30 in the paper).
    patience : int, default=3
        Stop after this many rounds without a larger selected fraction (7 in the paper).
    agreement_threshold : float, default=1/1.2
        Fraction of the counted voters that must agree for a sample to be selected (the reference
        code's ``1/1.2``; ``1.0`` is unanimity).
    embedding : {"umap", "tsne", "none"}, default="umap"
        2-D embedding of each voter's codes before clustering: UMAP (``n_components=2``,
        ``min_dist=0``; umap-learn, installed with skdeepclust), scikit-learn's t-SNE (slower), or
        ``"none"``: a Gaussian mixture on the codes themselves, without the 2-D embedding (faster; for
        quick runs, at a clear cost in quality). UMAP's first use in a process compiles numba code: a
        few seconds, about 20 s on the first run after installation.
    n_neighbors : int, optional
        UMAP neighbours; default ``clip(30 * N / 70000, 10, 30)`` (the paper's rule, kept at least
        10 so small data sets get a connected graph).
    batch_size : int, default=64
        Mini-batch size.
    lr : float, default=1e-3
        Adam learning rate (a new optimizer per round).
    weight_decay : float, default=0.0
        Adam weight decay.
    n_jobs : int, optional
        Parallel jobs (joblib) for the per-voter embedding and clustering.
    device : {"auto", "cpu", "cuda"} or torch.device, default="auto"
        Training device.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, data orders, noise, embeddings and clusterers.
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
        ``>= 1`` shows a progress bar per training stage (tqdm, on stderr; a widget in Jupyter) with the
        loss terms of the last epoch, and prints one line per round; ``0`` writes nothing.

    Attributes
    ----------
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
        Per-epoch training records (stage ``"pretrain"`` or ``"round r"``), then one record per
        vote (stage ``"vote"``).
    n_features_out_ : int
        ``n_members * latent_dim``: ``transform`` returns the members' concatenated codes.
    device_ : torch.device
        Device used for training.
    interrupted_ : bool
        Whether training was interrupted.
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
    batch norm in eval mode. The paper-scale settings are ``n_members=15, max_rounds=30,
    patience=7`` with the conv autoencoder for images.

    ``predict`` on new data averages the members' head probabilities on clean codes (the heads are
    trained on the ensemble labels, so their ids are the ensemble's); ``fit_predict`` returns the
    ensemble vote. The two agree on most training samples but not necessarily all.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepclust import SPC
    >>> X, _ = make_blobs(n_samples=200, centers=3, n_features=8, random_state=0)
    >>> spc = SPC(n_clusters=3, n_members=3, pretrain_epochs=5, epochs_per_round=2, max_rounds=2,
    ...           embedding="none", device="cpu", random_state=0).fit(X)
    >>> spc.labels_.shape
    (200,)
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        "n_members": [IntInterval(1, None, closed="left")],
        "image_shape": [None, PositiveInts(3, "(C, H, W)")],
        "autoencoder": [StrOptions({"auto", "conv", "mlp"})],
        "hidden_dims": [None, PositiveInts()],
        "latent_dim": [IntInterval(1, None, closed="left")],
        "head_hidden": [IntInterval(1, None, closed="left")],
        "latent_noise": [Interval(Real, 0, None, closed="left")],
        "pretrain_epochs": [IntInterval(0, None, closed="left")],
        "epochs_per_round": [IntInterval(1, None, closed="left")],
        "max_rounds": [IntInterval(1, None, closed="left")],
        "patience": [IntInterval(1, None, closed="left")],
        "agreement_threshold": [Interval(Real, 0, 1, closed="right")],
        "embedding": [StrOptions({"umap", "tsne", "none"})],
        "n_neighbors": [None, IntInterval(2, None, closed="left")],
        "n_jobs": [None, IntInterval(None, None, closed="neither")],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        n_members: int = 10,
        image_shape: tuple[int, int, int] | None = None,
        autoencoder: str = "auto",
        hidden_dims: tuple[int, ...] | None = None,
        latent_dim: int = 50,
        head_hidden: int = 25,
        latent_noise: float = 1.5,
        pretrain_epochs: int = 10,
        epochs_per_round: int = 8,
        max_rounds: int = 10,
        patience: int = 3,
        agreement_threshold: float = 1 / 1.2,
        embedding: str = "umap",
        n_neighbors: int | None = None,
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
        self.n_members = n_members
        self.image_shape = image_shape
        self.autoencoder = autoencoder
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.head_hidden = head_hidden
        self.latent_noise = latent_noise
        self.pretrain_epochs = pretrain_epochs
        self.epochs_per_round = epochs_per_round
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

    # ------------------------------------------------------------------ networks
    def _build_network(self, d: int, ctx: FitContext) -> _SPCNet:
        shape = self._checked_image_shape(d)
        kind = self.autoencoder
        if kind == "auto":
            kind = "conv" if shape is not None and ctx.device.type == "cuda" else "mlp"
        self.autoencoder_ = kind
        if kind == "conv" and shape is None:
            raise ValueError('autoencoder="conv" needs image_shape=(C, H, W).')
        m, nz = self.n_members, self.latent_dim
        hidden = (512, 256) if self.hidden_dims is None else tuple(int(h) for h in self.hidden_dims)

        def factory():
            if kind == "conv":
                ae = EnsembleConvAutoencoder(m, shape, nz)
            else:
                ae = EnsembleMLPAutoencoder(m, d, hidden, nz)
            return _SPCNet(ae, m, nz, self.head_hidden, self.n_clusters)

        return build_module(factory, ctx.generator).to(ctx.device)

    # ------------------------------------------------------------------ labelling
    def _check_embedding_available(self) -> None:
        if self.embedding == "umap":
            try:
                import umap  # noqa: F401
            except ImportError as exc:  # a broken install, or a numba that does not support this NumPy
                raise ImportError(
                    f'SPC(embedding="umap") could not import umap-learn, a dependency of skdeepclust ({exc}). '
                    'Reinstall it with "pip install umap-learn" (its numba must support the installed NumPy), '
                    'or use embedding="tsne" or "none", which need nothing beyond scikit-learn.'
                ) from exc

    def _label_voters(self, Z: np.ndarray, seed: int) -> list[np.ndarray]:
        """Embed and cluster each voter's codes. ``Z`` is ``(N, M, latent)``."""
        n = Z.shape[0]
        codes = [Z[:, i] for i in range(Z.shape[1])]
        if Z.shape[1] > 1:  # the concatenation of all members' codes votes too
            codes.append(Z.reshape(n, -1))
        n_neighbors = self.n_neighbors or int(np.clip(30 * n // 70000, 10, 30))
        jobs = (delayed(_embed_and_cluster)(c, self.n_clusters, self.embedding, n_neighbors, seed)
                for c in codes)
        with keep_torch_threads():  # UMAP starts numba's OpenMP pool
            return Parallel(n_jobs=self.n_jobs)(jobs)

    def _vote(self, net: _SPCNet, X: torch.Tensor, seed: int, r: int, pivot: np.ndarray | None):
        """Round ``r``'s vote: every voter labels the members' codes; record it in ``rounds_`` and ``history_``."""
        t0 = time.perf_counter()
        net.eval()
        codes = embed_batches(lambda x: net.ae.encode(net.members_input(x)), X, [net])
        labellings = self._label_voters(codes.cpu().numpy().astype(np.float64), seed)
        labels, sel, n_voters = ensemble_vote(labellings, self.n_clusters, self.agreement_threshold, pivot)
        record = {"round": r, "labels": labels, "selected": sel, "fraction_selected": float(sel.mean()),
                  "n_voters": n_voters, "seconds": time.perf_counter() - t0}
        self.rounds_.append(record)
        self.history_.append({"stage": "vote", "round": r, "fraction_selected": record["fraction_selected"],
                              "n_voters": n_voters, "seconds": record["seconds"]})
        if self.verbose:
            print(f"[SPC] round {r}: {sel.mean():.1%} selected by {n_voters} voters", flush=True)
        return labels, sel

    # ------------------------------------------------------------------ training
    def _check_n_samples(self, n_samples: int) -> None:
        super()._check_n_samples(n_samples)
        if n_samples < 3:
            raise ValueError(f"SPC needs at least 3 samples (got n_samples={n_samples}).")

    def _fit_torch(self, X: torch.Tensor, trainer: Trainer) -> np.ndarray:
        ctx = trainer.ctx
        self._check_embedding_available()
        X = self._prepare_input(X)
        n, d = X.shape
        m, k = self.n_members, self.n_clusters
        net = self._build_network(d, ctx)
        self.n_features_out_ = m * self.latent_dim
        self.rounds_ = []
        orders = _MemberOrders(m, n, ctx)
        seed = ctx.seed_for_sklearn()  # one embedding seed for every voter (as the reference)
        targets = torch.zeros(n, dtype=torch.long, device=ctx.device)
        selected = torch.zeros(n, dtype=torch.bool, device=ctx.device)

        def reconstruction(idx):
            """Each member's L1 reconstruction of its own rows, with noise on the codes."""
            x = X[idx]
            z = net.ae.encode(x)
            rec = (net.ae.decode(relative_latent_noise(z, self.latent_noise, ctx.device_generator)) - x).abs().mean(-1)
            return z, rec  # rec: (B, M)

        def pretrain_step(pos, state):
            _, rec = reconstruction(orders.perms[:, pos].T)  # (B, M): each member's own samples
            return {"recon": rec.mean(0).sum()}

        def round_step(pos, state):
            idx = orders.perms[:, pos].T
            z, rec = reconstruction(idx)
            terms = {"recon": rec.mean(0).sum()}
            sel = selected[idx]
            n_sel = sel.sum(0)
            rest = (~sel).float()  # extra reconstruction weight on the unselected rows, when some are selected
            extra = (rec * rest).sum(0) / rest.sum(0).clamp(min=1)
            terms["recon_unselected"] = (extra * (n_sel > 0)).sum()
            if bool(n_sel.any()):  # cross-entropy of the heads on the selected rows' vote
                zh = relative_latent_noise(z, self.latent_noise, ctx.device_generator, mask=sel)
                logits = net.heads(zh)
                ce = F.cross_entropy(logits.reshape(-1, k), targets[idx].reshape(-1), reduction="none")
                ce = ce.reshape(sel.shape) * sel
                terms["ce"] = (ce.sum(0) / n_sel.clamp(min=1)).sum()
            else:
                terms["ce"] = rec.new_zeros(())
            return terms

        loop = dict(n_samples=n, batch_size=self.batch_size, modules=[net], shuffle=False, callbacks=[orders])
        trainer.run("pretrain", pretrain_step, n_epochs=self.pretrain_epochs,
                    optimizer=torch.optim.Adam(net.ae.parameters(), lr=self.lr, weight_decay=self.weight_decay),
                    **loop)
        labels, sel = self._vote(net, X, seed, 0, None)
        self.network_ = net  # the model is usable from the first vote on
        best = (-1.0, 0, None, labels)  # (selected fraction, round, network state, vote)
        last_gain = 0  # last round with a larger selected fraction (for patience)
        r = 0
        try:
            for r in range(1, self.max_rounds + 1):
                if trainer.stopped:
                    break
                if not sel.any():
                    warnings.warn(f"SPC round {r}: no sample is selected; training on reconstruction only.",
                                  RuntimeWarning, stacklevel=3)
                targets.copy_(torch.as_tensor(labels, device=ctx.device))
                selected.copy_(torch.as_tensor(sel, device=ctx.device))
                trainer.run(f"round {r}", round_step, n_epochs=self.epochs_per_round,
                            optimizer=torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay),
                            **loop)
                if trainer.stopped:
                    break
                labels, sel = self._vote(net, X, seed, r, labels)
                frac = float(sel.mean())
                if frac > best[0]:
                    last_gain = r
                if frac >= best[0]:  # a tie keeps the later round: same selection, heads trained longer
                    best = (frac, r, copy.deepcopy(net.state_dict()), labels)
                if r - last_gain >= self.patience:
                    break
        except KeyboardInterrupt:  # Ctrl-C in a later vote: the rounds end with the best completed one
            trainer.stopped_in = f"vote of round {r}"
        _, self.best_round_, state, labels = best
        if state is not None:
            net.load_state_dict(state)
        return labels

    # ------------------------------------------------------------------ inference
    def _inference_modules(self) -> tuple[str, ...]:
        return ("network_", *self._input_transform_attrs())

    def _infer(self, mods: dict, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        net = mods["network_"]
        z = net.ae.encode(net.members_input(self._scaled(mods, X)))
        probs = net.heads(z).softmax(-1).mean(1)
        return z.reshape(z.shape[0], -1), probs.argmax(1)


def _embed_and_cluster(codes: np.ndarray, k: int, embedding: str, n_neighbors: int,
                       seed: int) -> np.ndarray:
    """One voter's labels: 2-D embedding of its codes, then ``k`` clusters."""
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

