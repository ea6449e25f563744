"""Spectral clustering and graph modularity.

Spectral clustering of a given graph (:func:`spectral_graph`: scikit-learn's shift-invert ARPACK, or LOBPCG block
iterations past :data:`~skdeepclust.cluster.SPECTRAL_LOBPCG_MIN_ROWS` nodes) or of the k-NN graph of points
(:func:`spectral_knn`; at several neighbour counts, :func:`spectral_knn_counts`), and the modularity of a labelling
on a graph (:func:`graph_modularity`).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy import linalg, sparse
from scipy.sparse.linalg import lobpcg
from sklearn.cluster import spectral_clustering

from .. import cluster  # its size threshold is read from the package at each call: users set it there
from ._neighbors import knn_graph, nearest_neighbors, neighbor_graph


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
    if affinity.shape[0] > cluster.SPECTRAL_LOBPCG_MIN_ROWS:
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


def spectral_knn_counts(
    x: torch.Tensor, n_clusters: int, neighbor_counts, random_state: int | None = None
) -> dict[int, np.ndarray]:
    """Spectral clustering of the k-nearest-neighbour graphs of ``x`` at several neighbour counts.

    One neighbour search, for the largest count; the graph of each smaller count keeps the first neighbours
    of each row (:func:`neighbor_graph`), so each labelling is :func:`spectral_knn` at that count (up to the
    order of neighbours at equal distances).

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Points (for a cosine geometry, L2-normalise them first).
    n_clusters : int
        Number of clusters.
    neighbor_counts : iterable of int
        Neighbours per point of each graph (each capped at ``n - 1``; counts equal after the cap are
        clustered once).
    random_state : int, optional
        Seed of the eigensolver's start vector (and of NN-descent past
        :data:`APPROX_NEIGHBORS_MIN_ROWS` rows).

    Returns
    -------
    dict of int to numpy.ndarray of int64 of shape (n,)
        The labels at each (capped) neighbour count, in ascending order of the counts.
    """
    counts = sorted({max(1, min(int(c), x.shape[0] - 1)) for c in neighbor_counts})
    if not counts:
        raise ValueError("neighbor_counts is empty.")
    indices = nearest_neighbors(x, counts[-1] + 1, random_state=random_state)[1]
    return {c: spectral_graph(neighbor_graph(indices[:, : c + 1]), n_clusters, random_state) for c in counts}


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
