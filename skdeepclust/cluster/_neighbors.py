"""Nearest neighbours: every k-nearest-neighbour search of the package.

:func:`nearest_neighbors` (exact, in row chunks on the data's device; the k-NN graph of more than
:data:`~skdeepclust.cluster.APPROX_NEIGHBORS_MIN_ROWS` rows by NN-descent), the symmetrised k-NN graph
(:func:`knn_graph`, :func:`neighbor_graph`), the k-NN label vote (:func:`knn_vote`), and the exact float64 search
on the CPU that the label-free scores of :mod:`skdeepclust.metrics` use.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy import sparse

from .. import cluster  # its size threshold is read from the package at each call: users set it there
from .._utils import keep_torch_threads


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
    if self_query and x.shape[0] > cluster.APPROX_NEIGHBORS_MIN_ROWS and k < x.shape[0]:
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


def _exact_neighbors_float64(x: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest rows of ``x`` to each row of ``x``, exact, in float64 on the CPU.

    scikit-learn's exact search (:class:`sklearn.neighbors.NearestNeighbors`): among neighbours at tied
    distances (frequent on integer-valued data such as the digits' pixels) it keeps those that it always kept,
    which :func:`nearest_neighbors` does not, so scores computed from these lists keep their values.

    Parameters
    ----------
    x : numpy.ndarray of float64 of shape (n, d)
        Points, each a query and a candidate.
    k : int
        Neighbours per row (at most ``n``); a row is normally its own first neighbour.

    Returns
    -------
    numpy.ndarray of int64 of shape (n, k)
        Row indices of the neighbours, by ascending distance.
    """
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x, return_distance=False)


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
