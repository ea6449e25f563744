"""Clustering pieces shared by the estimators.

K-means in PyTorch (k-means++ init, batched, on device), nearest neighbours, spectral clustering
of a k-NN graph, a k-NN label vote, and Hungarian label alignment.

Three size thresholds keep the cost of a fit near-linear in the number of rows ``n`` (all are module
constants; below them everything is computed exactly as before):

- :data:`APPROX_NEIGHBORS_MIN_ROWS`: above it, the k-nearest-neighbour *graph* of a point set (each row
  querying all rows, :func:`nearest_neighbors` without ``queries``, hence :func:`spectral_knn`) is found
  by NN-descent (pynndescent, a dependency of umap-learn) instead of exactly, which costs ``O(n^2 d)``;
- :data:`SPECTRAL_LOBPCG_MIN_ROWS`: above it, :func:`spectral_graph` finds the spectral embedding by
  block iterations (LOBPCG, sparse matrix products) instead of shift-invert, which factorises the Laplacian;
- :data:`KMEANS_RESTART_MAX_ROWS`: above it, the ``n_init`` k-means++ restarts of :func:`kmeans` run
  on a fixed random subsample of that many rows, and only the best one is refined on all rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from scipy import linalg, sparse
from scipy.optimize import linear_sum_assignment
from scipy.sparse.linalg import lobpcg
from sklearn.cluster import spectral_clustering

from ._utils import keep_torch_threads

__all__ = [
    "APPROX_NEIGHBORS_MIN_ROWS",
    "KMEANS_RESTART_MAX_ROWS",
    "SPECTRAL_LOBPCG_MIN_ROWS",
    "KMeansResult",
    "align_labels",
    "contingency_matrix",
    "graph_modularity",
    "kmeans",
    "knn_graph",
    "knn_vote",
    "match_labels",
    "nearest_neighbors",
    "neighbor_graph",
    "spectral_graph",
    "spectral_knn",
]


#: Above this many rows, :func:`nearest_neighbors` finds the k-NN graph of a point set (no ``queries``)
#: approximately, by NN-descent (pynndescent), in about ``O(n log n)`` instead of ``O(n^2 d)``. The first
#: approximate search in a process compiles numba code (tens of seconds, as UMAP's first use).
APPROX_NEIGHBORS_MIN_ROWS = 20_000

#: Above this many nodes, :func:`spectral_graph` (hence :func:`spectral_knn`) computes the spectral embedding by
#: block iterations (LOBPCG) on the normalised adjacency, ``O(edges x n_clusters)`` per iteration, instead of
#: scikit-learn's shift-invert ARPACK, whose sparse LU factorisation of the graph Laplacian took 89 s at 40 000 rows.
SPECTRAL_LOBPCG_MIN_ROWS = 20_000

#: Above this many rows, :func:`kmeans` runs its ``n_init`` restarts on a random subsample of this many rows
#: and refines only the best centres on all rows (one Lloyd run), instead of ``n_init`` runs on all rows.
KMEANS_RESTART_MAX_ROWS = 20_000


@dataclass
class KMeansResult:
    """Output of :func:`kmeans`.

    Attributes
    ----------
    centers : torch.Tensor of shape (K, d)
    labels : torch.Tensor of shape (n,)
    inertia : float
        Sum of squared distances of samples to their centre.
    n_iter : int
        Lloyd iterations of the best run.
    """

    centers: torch.Tensor
    labels: torch.Tensor
    inertia: float
    n_iter: int


def _sq_dists(x: torch.Tensor, c: torch.Tensor, x_sq: torch.Tensor) -> torch.Tensor:
    return (x_sq[:, None] - 2.0 * (x @ c.T) + (c * c).sum(1)[None, :]).clamp_min_(0.0)


def _kmeans_plusplus(x: torch.Tensor, k: int, x_sq: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Greedy k-means++ seeding (2 + log k candidates per step, as scikit-learn)."""
    n = x.shape[0]
    n_trials = 2 + int(np.log(k))
    first = torch.randint(n, (1,), generator=gen, device=gen.device).to(x.device)
    centers = [x[first]]
    closest = _sq_dists(x, centers[0], x_sq)[:, 0]
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than clusters: pick uniformly
            probs = torch.full_like(closest, 1.0 / n)
        else:
            probs = closest / total
        cand = torch.multinomial(probs.to(gen.device), n_trials, replacement=True, generator=gen).to(x.device)
        d_cand = torch.minimum(closest[None, :], _sq_dists(x, x[cand], x_sq).T)
        best = int(torch.argmin(d_cand.sum(1)))
        closest = d_cand[best]
        centers.append(x[cand[best]][None])
    return torch.cat(centers, dim=0)


def kmeans(
    x: torch.Tensor,
    n_clusters: int,
    *,
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
    generator: torch.Generator | None = None,
) -> KMeansResult:
    """Lloyd's k-means with k-means++ seeding, computed in torch on ``x``'s device.

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Data (any float dtype; computed in float32, or float64 if ``x`` is float64).
    n_clusters : int
        Number of clusters ``K`` (``1 <= K <= n``).
    n_init : int, default=10
        Independent seedings; the run with the lowest inertia is kept.
    max_iter : int, default=300
        Maximum Lloyd iterations per run.
    tol : float, default=1e-4
        Convergence threshold on the total squared centre shift, relative to the mean per-feature
        variance of ``x`` (scikit-learn's convention).
    generator : torch.Generator, optional
        Source of randomness (on the CPU or on ``x``'s device). ``None`` uses a fresh unseeded one.

    Returns
    -------
    KMeansResult
        Best centres, labels, inertia and iteration count. Empty clusters are re-seeded with the
        point farthest from its centre, so every cluster has at least one member when ``n >= K``.

    Notes
    -----
    With ``n_init > 1`` and more than :data:`KMEANS_RESTART_MAX_ROWS` rows, the restarts (seeding and
    Lloyd iterations) run on a random subsample of :data:`KMEANS_RESTART_MAX_ROWS` rows drawn from
    ``generator``, and the centres of the restart with the lowest subsample inertia start one Lloyd run on
    all rows: the cost is that of one full run plus ``n_init`` runs on the subsample, bounded in ``n``.
    """
    if x.ndim != 2:
        raise ValueError(f"kmeans expects a 2-D tensor, got shape {tuple(x.shape)}.")
    n = x.shape[0]
    if not 1 <= n_clusters <= n:
        raise ValueError(f"n_clusters={n_clusters} must be between 1 and n_samples={n}.")
    if generator is None:
        generator = torch.Generator(device="cpu")
        generator.seed()
    if x.dtype not in (torch.float32, torch.float64):
        x = x.float()
    x_sq = (x * x).sum(1)
    tol_abs = tol * float(x.var(dim=0).mean()) if n > 1 else 0.0
    if n_init > 1 and n > KMEANS_RESTART_MAX_ROWS:
        pick = torch.randperm(n, generator=generator, device=generator.device)[:KMEANS_RESTART_MAX_ROWS]
        sub = x[pick.to(x.device)]
        start = kmeans(sub, n_clusters, n_init=n_init, max_iter=max_iter, tol=tol, generator=generator).centers
        return _lloyd_runs(x, n_clusters, 1, max_iter, tol_abs, x_sq, generator, start)
    return _lloyd_runs(x, n_clusters, n_init, max_iter, tol_abs, x_sq, generator, None)


def _lloyd_runs(x: torch.Tensor, n_clusters: int, n_init: int, max_iter: int, tol_abs: float, x_sq: torch.Tensor,
                generator: torch.Generator, start: torch.Tensor | None) -> KMeansResult:
    """``n_init`` Lloyd runs from k-means++ seeds (or one from ``start``); the lowest inertia wins."""
    best: KMeansResult | None = None
    for _ in range(n_init):
        centers = _kmeans_plusplus(x, n_clusters, x_sq, generator) if start is None else start.to(x.dtype)
        n_iter = 0
        for n_iter in range(1, max_iter + 1):  # noqa: B007
            d = _sq_dists(x, centers, x_sq)
            labels = d.argmin(1)
            counts = torch.bincount(labels, minlength=n_clusters)
            new = torch.zeros_like(centers).index_add_(0, labels, x)
            empty = counts == 0
            if bool(empty.any()):
                far = d.gather(1, labels[:, None])[:, 0].topk(int(empty.sum())).indices
                new[empty] = x[far]
                counts = counts.clone()
                counts[empty] = 1
            new = new / counts[:, None].to(x.dtype)
            shift = float(((new - centers) ** 2).sum())
            centers = new
            if shift <= tol_abs:
                break
        d = _sq_dists(x, centers, x_sq)
        mind, labels = d.min(1)
        inertia = float(mind.sum())
        if best is None or inertia < best.inertia:
            best = KMeansResult(centers=centers, labels=labels, inertia=inertia, n_iter=n_iter)
    assert best is not None
    return best


def contingency_matrix(labels_a, labels_b, n_a: int | None = None, n_b: int | None = None) -> np.ndarray:
    """Counts ``W[i, j] = #{samples with labels_a == i and labels_b == j}``.

    Parameters
    ----------
    labels_a, labels_b : array-like of int of shape (n,)
        Non-negative integer labels.
    n_a, n_b : int, optional
        Number of rows/columns (defaults: max label + 1).

    Returns
    -------
    numpy.ndarray of shape (n_a, n_b)
    """
    a = np.asarray(labels_a, dtype=np.int64).ravel()
    b = np.asarray(labels_b, dtype=np.int64).ravel()
    n_a = int(a.max()) + 1 if n_a is None else n_a
    n_b = int(b.max()) + 1 if n_b is None else n_b
    w = np.zeros((n_a, n_b), dtype=np.int64)
    np.add.at(w, (a, b), 1)
    return w


def match_labels(labels, reference, n_clusters: int | None = None) -> np.ndarray:
    """Hungarian matching of one labelling to another.

    Parameters
    ----------
    labels : array-like of int of shape (n,)
        Labels to rename.
    reference : array-like of int of shape (n,)
        Labels to agree with.
    n_clusters : int, optional
        Size of the (square) label space; defaults to the largest label + 1 of either input.

    Returns
    -------
    numpy.ndarray of shape (n_clusters,)
        ``mapping[j]`` is the reference id that label ``j`` is renamed to; the mapping is a
        permutation maximising the number of samples on which the two labellings agree.
    """
    a = np.asarray(labels, dtype=np.int64).ravel()
    r = np.asarray(reference, dtype=np.int64).ravel()
    if n_clusters is None:
        n_clusters = int(max(a.max(), r.max())) + 1
    w = contingency_matrix(r, a, n_clusters, n_clusters)
    ref_ids, lab_ids = linear_sum_assignment(w, maximize=True)
    mapping = np.empty(n_clusters, dtype=np.int64)
    mapping[lab_ids] = ref_ids
    return mapping


def align_labels(labels, reference, n_clusters: int | None = None):
    """Rename ``labels`` so that they agree as much as possible with ``reference`` (Hungarian).

    Parameters
    ----------
    labels : numpy.ndarray or torch.Tensor of int of shape (n,)
        Labels to rename.
    reference : numpy.ndarray or torch.Tensor of int of shape (n,)
        Labels to agree with.
    n_clusters : int, optional
        Size of the label space.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Renamed labels, of the same type (and device) as ``labels``.
    """
    if isinstance(labels, torch.Tensor):
        mapping = match_labels(labels.cpu().numpy(), torch.as_tensor(reference).cpu().numpy(), n_clusters)
        return torch.as_tensor(mapping, device=labels.device)[labels.long()]
    labels = np.asarray(labels, dtype=np.int64)
    return match_labels(labels, reference, n_clusters)[labels]


def nearest_neighbors(
    x: torch.Tensor,
    k: int,
    queries: torch.Tensor | None = None,
    chunk: int | None = None,
    *,
    random_state: int | np.random.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest neighbours (Euclidean): exact, computed in row chunks on ``x``'s device.

    Past :data:`APPROX_NEIGHBORS_MIN_ROWS` rows, the k-NN graph of ``x`` (``queries=None``) is found
    approximately by NN-descent (:class:`pynndescent.NNDescent`, one thread, on the CPU) instead: the exact
    search costs ``O(n^2 d)``. On the image sets its recall of the exact neighbours is above 0.9 (see the
    cost-curve study in the benchmarks). Queries of other points are always exact (``O(m n d)``).

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Reference points.
    k : int
        Neighbours per query (at most ``n``).
    queries : torch.Tensor of shape (m, d), optional
        Query points. ``None``: the rows of ``x`` query themselves, and each row is its own first
        neighbour (at distance 0), even among exact duplicates.
    chunk : int, optional
        Query rows per distance block (memory ``chunk * n`` distances); default: about ``2**25 / n``
        rows, at most 4096.
    random_state : int or numpy.random.Generator, optional
        Seed of NN-descent (a generator is drawn from only when the approximate search runs); unused by
        the exact search. The approximate graph is reproducible for a fixed seed.

    Returns
    -------
    distances : torch.Tensor of shape (m, k)
        Distances to the neighbours, ascending.
    indices : torch.Tensor of int64 of shape (m, k)
        Row indices of the neighbours in ``x``.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.0], [1.0], [5.0]])
    >>> nearest_neighbors(x, 2)[1].tolist()
    [[0, 1], [1, 0], [2, 1]]
    """
    self_query = queries is None
    if self_query and x.shape[0] > APPROX_NEIGHBORS_MIN_ROWS and k < x.shape[0]:
        return _approximate_neighbors(x, k, random_state)
    q = x if self_query else queries
    chunk = chunk or max(1, min(4096, 2**25 // max(1, x.shape[0])))
    dists, idx = [], []
    for s in range(0, q.shape[0], chunk):
        d = torch.cdist(q[s : s + chunk], x)
        if self_query:
            rows = torch.arange(d.shape[0], device=d.device)
            d[rows, rows + s] = -1.0  # the point itself comes first
        dd, ii = d.topk(k, dim=1, largest=False)
        dists.append(dd.clamp(min=0.0))
        idx.append(ii)
    return torch.cat(dists), torch.cat(idx)


def _approximate_neighbors(
    x: torch.Tensor, k: int, random_state: int | np.random.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k-NN graph of ``x`` by NN-descent, each row its own first neighbour (as the exact search)."""
    from pynndescent import NNDescent

    if isinstance(random_state, np.random.Generator):
        random_state = int(random_state.integers(0, 2**31 - 1))
    data = np.ascontiguousarray(x.detach().float().cpu().numpy())
    n = data.shape[0]
    # one neighbour more than asked, so that k are left when the row itself is not among them
    with keep_torch_threads(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba/pynndescent performance notes
        idx, dist = NNDescent(data, n_neighbors=min(k + 1, n - 1), metric="euclidean", random_state=random_state,
                              n_jobs=1, low_memory=True, compressed=True, verbose=False).neighbor_graph
    idx, dist = idx.astype(np.int64), dist.astype(np.float32)
    rows = np.arange(n)[:, None]
    # the row itself first (distance 0), then its other neighbours in ascending order (-1: none found)
    keep = (idx != rows) & (idx >= 0)
    order = np.argsort(~keep, axis=1, kind="stable")[:, : k - 1]
    out_idx = np.concatenate([rows, np.take_along_axis(idx, order, 1)], axis=1)
    out_dist = np.concatenate([np.zeros((n, 1), np.float32), np.take_along_axis(dist, order, 1)], axis=1)
    missing = ~np.take_along_axis(keep, order, 1)
    if missing.any():  # NN-descent can leave a slot empty; the row itself fills it (never happens in practice)
        out_idx[:, 1:][missing] = np.broadcast_to(rows, missing.shape)[missing]
        out_dist[:, 1:][missing] = 0.0
    return (torch.from_numpy(out_dist.clip(min=0.0)).to(device=x.device, dtype=x.dtype),
            torch.from_numpy(out_idx).to(x.device))


def knn_graph(
    x: torch.Tensor, n_neighbors: int = 10, random_state: int | np.random.Generator | None = None
) -> sparse.csr_matrix:
    """The symmetrised k-nearest-neighbour graph of ``x``, as scikit-learn's spectral clustering builds it.

    Each point is connected to its ``n_neighbors`` nearest points and to itself, ``C_ij = 1``, and the
    graph is ``A = (C + C^T) / 2`` (scikit-learn's ``SpectralClustering(affinity="nearest_neighbors")``).
    The neighbours come from :func:`nearest_neighbors` (exact on ``x``'s device, or NN-descent past
    :data:`APPROX_NEIGHBORS_MIN_ROWS` rows).

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Points (for a cosine geometry, L2-normalise them first).
    n_neighbors : int, default=10
        Neighbours per point (capped at ``n - 1``).
    random_state : int or numpy.random.Generator, optional
        Seed of NN-descent (past :data:`APPROX_NEIGHBORS_MIN_ROWS` rows).

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, n)
        Symmetric, entries in ``{0.5, 1}``.
    """
    k = max(1, min(int(n_neighbors), x.shape[0] - 1))
    return neighbor_graph(nearest_neighbors(x, k + 1, random_state=random_state)[1])


def neighbor_graph(indices) -> sparse.csr_matrix:
    """The symmetrised graph of given neighbour lists: ``A = (C + C^T) / 2`` with ``C_ij = 1`` for each listed ``j``.

    Parameters
    ----------
    indices : torch.Tensor or ndarray of int of shape (n, k)
        Row ``i`` lists the neighbours of point ``i`` (itself included, as :func:`nearest_neighbors` returns
        them).

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, n)

    Examples
    --------
    >>> neighbor_graph(np.array([[0, 1], [1, 0], [2, 1]])).toarray()
    array([[1. , 1. , 0. ],
           [1. , 1. , 0.5],
           [0. , 0.5, 1. ]])
    """
    idx = indices.cpu().numpy() if isinstance(indices, torch.Tensor) else np.asarray(indices)
    n, k = idx.shape
    conn = sparse.csr_matrix((np.ones(idx.size), (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n))
    return (0.5 * (conn + conn.T)).tocsr()


def _without_self_loops(affinity: sparse.spmatrix) -> sparse.csr_matrix:
    """A float64 CSR copy of a graph with its diagonal removed (spectral embeddings and modularity ignore it)."""
    A = sparse.csr_matrix(affinity, dtype=np.float64, copy=True)
    A.setdiag(0.0)
    A.eliminate_zeros()
    return A


def _cluster_qr(embedding: np.ndarray) -> np.ndarray:
    """Labels from a spectral embedding by column-pivoted QR (Damle, Minden and Ying, 2019): no restarts."""
    k = embedding.shape[1]
    pivots = linalg.qr(embedding.T, pivoting=True, mode="economic")[2]
    u, _, vt = linalg.svd(embedding[pivots[:k]].T)
    return np.abs(embedding @ (u @ vt)).argmax(axis=1)


def _lobpcg_spectral_labels(affinity: sparse.spmatrix, n_clusters: int, random_state: int | None) -> np.ndarray:
    """Spectral clustering with the embedding from block iterations (LOBPCG) on the normalised adjacency.

    The same embedding as scikit-learn's (the ``n_clusters`` smallest eigenvectors of the normalised
    Laplacian ``I - D^-1/2 A D^-1/2``, self-loops ignored, each row divided by ``sqrt(degree)``), found as
    the largest eigenvectors of ``D^-1/2 A D^-1/2`` by LOBPCG with matrix products only, instead of
    shift-invert, which factorises the Laplacian. A block of ``n_clusters`` vectors also finds a repeated
    eigenvalue (one per connected component of the graph), which single-vector Lanczos can miss.
    """
    A = _without_self_loops(affinity)
    inv_sqrt = 1.0 / np.sqrt(np.maximum(np.asarray(A.sum(axis=1)).ravel(), 1e-12))
    normalised = (sparse.diags(inv_sqrt) @ A @ sparse.diags(inv_sqrt)).tocsr()
    start = np.random.default_rng(random_state).standard_normal((A.shape[0], n_clusters))
    with warnings.catch_warnings():
        # past the iteration cap the block is still a usable approximation of the subspace
        warnings.filterwarnings("ignore", message="Exited at iteration")
        warnings.filterwarnings("ignore", message="Exited postprocessing")
        vectors = lobpcg(normalised, start, largest=True, tol=1e-6, maxiter=1000)[1]
    return _cluster_qr(vectors * inv_sqrt[:, None])


def spectral_graph(affinity: sparse.spmatrix, n_clusters: int, random_state: int | None = None) -> np.ndarray:
    """Spectral clustering of a given graph.

    :func:`sklearn.cluster.spectral_clustering` (ARPACK, ``assign_labels="cluster_qr"``, which needs no
    restarts) on a symmetric sparse affinity matrix, e.g. from :func:`knn_graph` or a sum of such graphs.
    Past :data:`SPECTRAL_LOBPCG_MIN_ROWS` nodes the same embedding is found by block iterations (LOBPCG) on
    the normalised adjacency, with sparse matrix products only, instead of scikit-learn's shift-invert mode,
    whose sparse LU factorisation of the Laplacian grows much faster than the number of nodes.

    Parameters
    ----------
    affinity : scipy.sparse matrix of shape (n, n)
        Symmetric, non-negative.
    n_clusters : int
        Number of clusters.
    random_state : int, optional
        Seed of the eigensolver's start vector.

    Returns
    -------
    numpy.ndarray of int64 of shape (n,)
        Cluster ids in ``0 .. n_clusters - 1``.
    """
    if affinity.shape[0] > SPECTRAL_LOBPCG_MIN_ROWS:
        return _lobpcg_spectral_labels(affinity, n_clusters, random_state).astype(np.int64)
    if affinity.shape[0] < 500:  # ARPACK cannot return n_clusters >= n eigenvectors of a sparse matrix; dense is cheap
        affinity = affinity.toarray()
    with warnings.catch_warnings():
        # a k-NN graph of well separated clusters is often disconnected; the embedding still separates them
        warnings.filterwarnings("ignore", message="Graph is not fully connected")
        warnings.filterwarnings("ignore", message="k >= N")  # small n: scipy's dense solver, as intended
        labels = spectral_clustering(affinity, n_clusters=n_clusters, random_state=random_state,
                                     assign_labels="cluster_qr")
    return labels.astype(np.int64)


def spectral_knn(
    x: torch.Tensor, n_clusters: int, n_neighbors: int = 10, random_state: int | None = None
) -> np.ndarray:
    """Spectral clustering of the symmetrised k-nearest-neighbour graph of ``x``.

    :func:`spectral_graph` of :func:`knn_graph`: scikit-learn's
    ``SpectralClustering(affinity="nearest_neighbors", assign_labels="cluster_qr")`` with the neighbours
    found by :func:`nearest_neighbors` (exactly on ``x``'s device, or by NN-descent past
    :data:`APPROX_NEIGHBORS_MIN_ROWS` rows). Unlike k-means it does not favour clusters of equal
    spread, so it keeps a large or elongated class whole.

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Points (for a cosine geometry, L2-normalise them first).
    n_clusters : int
        Number of clusters.
    n_neighbors : int, default=10
        Neighbours per point (capped at ``n - 1``).
    random_state : int, optional
        Seed of the eigensolver's start vector (and of NN-descent past
        :data:`APPROX_NEIGHBORS_MIN_ROWS` rows).

    Returns
    -------
    numpy.ndarray of int64 of shape (n,)
        Cluster ids in ``0 .. n_clusters - 1``.
    """
    return spectral_graph(knn_graph(x, n_neighbors, random_state), n_clusters, random_state)


def graph_modularity(affinity: sparse.spmatrix, labels) -> float:
    """Modularity of ``labels`` on a weighted graph (self-loops ignored).

    ``Q = sum_c e_c - a_c^2``: ``e_c`` is the fraction of the edge weight inside cluster ``c``, ``a_c``
    the fraction of edge ends in it. High when clusters follow the graph without being rewarded for
    merging them (one cluster scores 0); at most 1.

    Parameters
    ----------
    affinity : scipy.sparse matrix of shape (n, n)
        Symmetric, non-negative edge weights.
    labels : array-like of shape (n,)
        Cluster ids.

    Returns
    -------
    float

    Examples
    --------
    >>> from scipy import sparse
    >>> A = sparse.csr_matrix([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    >>> graph_modularity(A, [0, 0, 1, 1])
    0.5
    """
    A = _without_self_loops(affinity)
    labels = np.unique(np.asarray(labels).ravel(), return_inverse=True)[1]
    if labels.shape[0] != A.shape[0]:
        raise ValueError(f"The graph has {A.shape[0]} nodes but labels has {labels.shape[0]}.")
    total = A.sum()
    if total <= 0:
        return 0.0
    member = sparse.csr_matrix((np.ones(labels.size), (np.arange(labels.size), labels)))
    inside = (member.T @ A @ member).diagonal().sum() / total
    share = (member.T @ np.asarray(A.sum(axis=1)).ravel()) / total
    return float(inside - np.sum(share**2))


def knn_vote(
    x: torch.Tensor, labels: torch.Tensor, queries: torch.Tensor, n_neighbors: int, n_clusters: int
) -> torch.Tensor:
    """Label each query by the majority label of its ``n_neighbors`` nearest points of ``x``.

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Labelled points.
    labels : torch.Tensor of int of shape (n,)
        Their labels, in ``0 .. n_clusters - 1``.
    queries : torch.Tensor of shape (m, d)
        Points to label.
    n_neighbors : int
        Voters per query (capped at ``n``).
    n_clusters : int
        Size of the label space.

    Returns
    -------
    torch.Tensor of int64 of shape (m,)
        The most voted label; a tie goes to the nearest voter's label if it is among the tied labels,
        else to the smallest id.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.0], [0.1], [5.0], [5.1]])
    >>> knn_vote(x, torch.tensor([0, 0, 1, 1]), torch.tensor([[0.2], [4.0]]), 2, 2).tolist()
    [0, 1]
    """
    k = max(1, min(int(n_neighbors), x.shape[0]))
    idx = nearest_neighbors(x, k, queries)[1]
    voted = labels.to(queries.device).long()[idx]
    votes = torch.zeros(queries.shape[0], n_clusters, dtype=torch.float64, device=queries.device)
    votes.scatter_add_(1, voted, torch.ones(voted.shape, dtype=votes.dtype, device=votes.device))
    votes.scatter_add_(1, voted[:, :1], torch.full((voted.shape[0], 1), 0.5, dtype=votes.dtype, device=votes.device))
    return votes.argmax(1)
