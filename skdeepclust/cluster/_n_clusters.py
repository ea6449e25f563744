"""Estimating the number of clusters from the k-nearest-neighbour graph of the data, without labels.

The kernel of :func:`skdeepclust.estimate_n_clusters` (:func:`estimate`): one eigen-decomposition of the
normalised adjacency of the symmetric k-NN graph (:func:`normalised_spectrum`) and its scaled eigengaps
(:func:`eigengap_scores`), or the spectral clustering of every candidate number of clusters on its leading
eigenvectors and the modularity terms of each (:func:`modularity_terms`). The benchmark of the estimate
(``benchmarks/n_clusters.py``) calls these pieces too.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy import linalg, sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh

from ._spectral import _cluster_qr, _without_self_loops

#: below this many nodes the spectrum is computed densely (LAPACK), above it by Lanczos iterations (ARPACK)
DENSE_MAX_NODES = 2500


def normalised_spectrum(
    graph: sparse.spmatrix,
    n_values: int,
    random_state: int | np.random.Generator | None = None,
    vectors: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The largest eigenvalues and eigenvectors of the normalised adjacency ``D^-1/2 A D^-1/2`` of a graph.

    Self-loops are ignored. Eigenvalue ``mu`` of the normalised adjacency is ``1 - lambda`` for the
    eigenvalue ``lambda`` of the normalised Laplacian; the graph has as many eigenvalues ``mu = 1`` as
    connected components.

    Parameters
    ----------
    graph : scipy.sparse matrix of shape (n, n)
        Symmetric, non-negative, every node with an edge (e.g. from :func:`knn_graph`).
    n_values : int
        How many of the largest eigenvalues (at most ``n``).
    random_state : int or numpy.random.Generator, optional
        Seed of the Lanczos start vector (graphs of more than ``DENSE_MAX_NODES`` nodes).
    vectors : bool, default=True
        Whether to compute the eigenvectors too (``False`` is cheaper).

    Returns
    -------
    values : ndarray of shape (n_values,)
        Eigenvalues, descending.
    vectors : ndarray of shape (n, n_values) or None
        Their eigenvectors, in the same order (``None`` with ``vectors=False``).
    inv_sqrt_degree : ndarray of shape (n,)
        ``1 / sqrt(degree)`` of every node (rows of the spectral embedding are the eigenvectors times it).
    """
    A = _without_self_loops(graph)
    n = A.shape[0]
    n_values = int(min(n_values, n))
    inv_sqrt = 1.0 / np.sqrt(np.maximum(np.asarray(A.sum(axis=1)).ravel(), 1e-12))
    S = (sparse.diags(inv_sqrt) @ A @ sparse.diags(inv_sqrt)).tocsr()
    want = vectors
    if n <= DENSE_MAX_NODES or n_values >= n - 1:
        out = linalg.eigh(S.toarray(), subset_by_index=[n - n_values, n - 1], eigvals_only=not want)
    else:
        rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = eigsh(S, k=n_values, which="LA", v0=rng.uniform(-1, 1, n), tol=1e-8, return_eigenvectors=want)
    values, vecs = out if want else (out, None)
    order = np.argsort(values)[::-1]
    return values[order], (vecs[:, order] if want else None), inv_sqrt


def modularity_terms(
    graph: sparse.spmatrix, vectors: np.ndarray, inv_sqrt_degree: np.ndarray, candidates
) -> tuple[np.ndarray, np.ndarray]:
    """The modularity terms of the spectral clustering of a graph into each candidate number of clusters.

    The clustering into ``k`` clusters is the column-pivoted QR assignment of the first ``k`` eigenvectors
    (scikit-learn's ``assign_labels="cluster_qr"``, no restarts). The modularity at resolution ``gamma`` is
    ``inside - gamma * expected``.

    Parameters
    ----------
    graph : scipy.sparse matrix of shape (n, n)
        The graph (self-loops ignored).
    vectors : ndarray of shape (n, m)
        Eigenvectors of its normalised adjacency, by descending eigenvalue (:func:`normalised_spectrum`).
    inv_sqrt_degree : ndarray of shape (n,)
        ``1 / sqrt(degree)`` of every node.
    candidates : iterable of int
        Numbers of clusters, each at most ``m``.

    Returns
    -------
    inside : ndarray of shape (n_candidates,)
        Share of the edge weight inside the clusters.
    expected : ndarray of shape (n_candidates,)
        Share expected by chance, ``sum_c a_c^2`` (``a_c``: share of the edge ends in cluster ``c``).
    """
    A = _without_self_loops(graph).tocoo()
    total = A.data.sum()
    degree = np.bincount(A.row, weights=A.data, minlength=A.shape[0])
    inside, expected = [], []
    for k in candidates:
        labels = _cluster_qr(vectors[:, :k] * inv_sqrt_degree[:, None])
        inside.append(A.data[labels[A.row] == labels[A.col]].sum() / total)
        expected.append(np.sum((np.bincount(labels, weights=degree) / total) ** 2))
    return np.asarray(inside), np.asarray(expected)


def candidate_ks(lower: int, upper: int) -> np.ndarray:
    """The candidates of a range: every number up to 30, then steps of about 5 % (a relative resolution)."""
    ks = list(range(lower, min(upper, 30) + 1))
    k = max(lower, 30)
    while k < upper:
        k = min(upper, max(k + 1, int(round(k * 1.05))))
        ks.append(k)
    return np.unique(np.asarray(ks, dtype=np.int64))


def shared_neighbor_graph(indices: np.ndarray) -> sparse.csr_matrix:
    """The k-NN graph reweighted by shared neighbours: each edge weighs the Jaccard index of the two neighbour lists.

    ``indices`` as :func:`nearest_neighbors` returns them (each row first in its own list). An edge of the
    symmetric k-NN graph between two points whose lists share ``s`` of their ``k`` entries weighs
    ``s / (2k - s)`` (PhenoGraph's weighting): edges across a sparse gap between clusters, whose ends have
    different neighbours, weigh little.
    """
    n, k = indices.shape
    conn = sparse.csr_matrix((np.ones(indices.size), (np.repeat(np.arange(n), k), indices.ravel())), shape=(n, n))
    edges = ((conn + conn.T) > 0).astype(np.float64)
    shared = (conn @ conn.T).multiply(edges).tocsr()
    shared.data = shared.data / (2 * k - shared.data)
    shared.setdiag(0.0)
    shared.eliminate_zeros()
    return shared


def separated_components(graph: sparse.spmatrix) -> int:
    """The number of connected components of a graph when they are of comparable sizes, else 0.

    Comparable: every component has at least half the mean size. Clusters that share no edge of the k-NN
    graph are unambiguous, whatever the criterion; a graph with a few small detached groups (outliers,
    tight small classes) is not taken as that and returns 0.
    """
    n_parts, labels = connected_components(graph, directed=False)
    if n_parts < 2:
        return 0
    sizes = np.bincount(labels)
    return int(n_parts) if sizes.min() >= 0.5 * graph.shape[0] / n_parts else 0


def default_range(n_samples: int) -> tuple[int, int]:
    """``(2, min(n_samples // 10, 200))``, at least ``(2, 2)``: clusters of fewer than 10 samples are not looked for."""
    return 2, int(max(2, min(n_samples // 10, 200)))


def check_range(n_clusters_range, n_samples: int) -> tuple[int, int]:
    """``n_clusters_range`` (``None``: :func:`default_range`) as two ints, or a ``ValueError`` naming the problem."""
    if n_samples < 3:
        raise ValueError(f"Estimating the number of clusters needs at least 3 samples (got n_samples={n_samples}).")
    if n_clusters_range is None:
        return default_range(n_samples)
    if (not isinstance(n_clusters_range, tuple | list) or len(n_clusters_range) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in n_clusters_range)):
        raise TypeError(f"n_clusters_range must be a pair of ints (lower, upper) or None, got {n_clusters_range!r}.")
    lower, upper = (int(v) for v in n_clusters_range)
    if lower < 2:
        raise ValueError(f"n_clusters_range={n_clusters_range!r}: the lower bound must be at least 2 (got {lower}).")
    if lower > upper:
        raise ValueError(f"n_clusters_range={n_clusters_range!r}: the lower bound {lower} is above the upper bound "
                         f"{upper}.")
    if upper >= n_samples:
        raise ValueError(f"n_clusters_range={n_clusters_range!r}: the upper bound must be below n_samples={n_samples} "
                         f"(got {upper}).")
    return lower, upper


#: the exponent of the eigengap's scaling, ``(lambda_{k+1} - lambda_k) / lambda_{k+1} ** GAP_EXPONENT``
GAP_EXPONENT = 0.25


def eigengap_scores(values: np.ndarray, lower: int, upper: int, exponent: float = GAP_EXPONENT) -> np.ndarray:
    """The scaled eigengap of every candidate ``k = lower .. upper`` from the normalised adjacency's eigenvalues.

    ``(lambda_{k+1} - lambda_k) / lambda_{k+1} ** exponent`` with ``lambda = 1 - mu`` the eigenvalues of the
    normalised Laplacian, ascending (``values``: ``mu``, descending, at least ``upper + 1`` of them). With
    ``exponent=0`` the classical eigengap; a positive exponent discounts the gaps high in the spectrum, whose
    spacing grows with ``k`` on any graph, against the gaps low in it.
    """
    lam = np.clip(1.0 - np.asarray(values, dtype=np.float64)[: upper + 1], 0.0, None)
    gaps = lam[lower:] - lam[lower - 1 : upper]  # k = lower .. upper: lambda_{k+1} - lambda_k
    return gaps / np.maximum(lam[lower:], 1e-12) ** exponent


def estimate(
    X: np.ndarray,
    lower: int,
    upper: int,
    method: str = "eigengap",
    n_neighbors: int = 10,
    resolution: float = 1.0,
    random_state: np.random.Generator | None = None,
) -> tuple[int, dict]:
    """The estimate of :func:`skdeepclust.estimate_n_clusters` on a validated float64 array.

    Returns the number of clusters and the curves it was chosen from.
    """
    import torch

    from ._neighbors import knn_graph

    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    graph = knn_graph(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64)), n_neighbors, random_state=rng)
    n_parts = separated_components(graph)
    if lower <= n_parts <= upper:  # the graph falls apart into comparable pieces: nothing to weigh
        return n_parts, {"components": n_parts, "candidates": np.array([n_parts])}
    values, vectors, inv_sqrt = normalised_spectrum(graph, upper + 1, random_state=rng,
                                                    vectors=method == "modularity")
    info = {"components": 0, "eigenvalues": values}
    if method == "eigengap":
        scores = eigengap_scores(values, lower, upper)
        info["candidates"], info["eigengap"] = np.arange(lower, upper + 1), scores
        return int(lower + np.argmax(scores)), info
    ks = candidate_ks(lower, upper)
    inside, expected = modularity_terms(graph, vectors, inv_sqrt, ks)
    q = inside - resolution * expected
    info["candidates"], info["modularity"] = ks, q
    return int(ks[np.argmax(q)]), info
