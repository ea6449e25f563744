"""Clustering pieces shared by the estimators.

K-means in PyTorch (k-means++ init, batched, on device), nearest neighbours, spectral clustering
of a k-NN graph, a k-NN label vote, and Hungarian label alignment.

Three size thresholds keep the cost of a fit near-linear in the number of rows ``n`` (all are constants of
this package, read at each call, so that setting one here, e.g. ``skdeepclust.cluster.KMEANS_RESTART_MAX_ROWS =
10**9``, changes it everywhere; below them everything is computed exactly as before):

- :data:`APPROX_NEIGHBORS_MIN_ROWS`: above it, the k-nearest-neighbour *graph* of a point set (each row
  querying all rows, :func:`nearest_neighbors` without ``queries``, hence :func:`spectral_knn`) is found
  by NN-descent (pynndescent, a dependency of umap-learn) instead of exactly, which costs ``O(n^2 d)``;
- :data:`SPECTRAL_LOBPCG_MIN_ROWS`: above it, :func:`spectral_graph` finds the spectral embedding by
  block iterations (LOBPCG, sparse matrix products) instead of shift-invert, which factorises the Laplacian;
- :data:`KMEANS_RESTART_MAX_ROWS`: above it, the ``n_init`` k-means++ restarts of :func:`kmeans` run
  on a fixed random subsample of that many rows, and only the best one is refined on all rows.
"""

from __future__ import annotations

from ._kmeans import KMeansResult, kmeans
from ._matching import align_labels, contingency_matrix, match_labels
from ._neighbors import knn_graph, knn_vote, nearest_neighbors, neighbor_graph
from ._spectral import graph_modularity, spectral_graph, spectral_knn, spectral_knn_counts

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
    "spectral_knn_counts",
]


#: Above this many rows, :func:`nearest_neighbors` finds the k-NN graph of a point set (no ``queries``)
#: approximately, by NN-descent (pynndescent), in about ``O(n log n)`` instead of ``O(n^2 d)``. The first
#: approximate search in a process compiles numba code (tens of seconds, as UMAP's first use).
APPROX_NEIGHBORS_MIN_ROWS = 20_000

#: Above this many nodes, :func:`spectral_graph` (hence :func:`spectral_knn`) computes the spectral embedding by
#: block iterations (LOBPCG) on the normalised adjacency, ``O(edges x n_clusters)`` per iteration, instead of
#: scikit-learn's shift-invert ARPACK, whose sparse LU factorisation of the graph Laplacian grows much faster than
#: ``n`` (:ref:`many_rows`).
SPECTRAL_LOBPCG_MIN_ROWS = 20_000

#: Above this many rows, :func:`kmeans` runs its ``n_init`` restarts on a random subsample of this many rows
#: and refines only the best centers on all rows (one Lloyd run), instead of ``n_init`` runs on all rows.
KMEANS_RESTART_MAX_ROWS = 20_000
