"""Estimating the number of clusters of unlabelled data.

:func:`estimate_n_clusters` is what ``n_clusters="auto"`` of every estimator runs at the start of ``fit``; it
can be called on its own on any data (the kernel is in :mod:`skdeepclust.cluster`).
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils.validation import check_array

from .cluster._n_clusters import check_range, estimate

__all__ = ["estimate_n_clusters"]

METHODS = ("eigengap", "modularity")


def estimate_n_clusters(
    X,
    *,
    n_clusters_range: tuple[int, int] | None = None,
    method: str = "eigengap",
    n_neighbors: int = 10,
    resolution: float = 1.0,
    max_samples: int | None = 10_000,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
    return_curves: bool = False,
) -> int | tuple[int, dict]:
    """Estimate the number of clusters of ``X`` from its k-nearest-neighbour graph, without labels.

    The rows are joined to their ``n_neighbors`` nearest rows (Euclidean, symmetrised,
    :func:`~skdeepclust.cluster.knn_graph`). When that graph falls apart into connected components of
    comparable sizes (each at least half the mean size) and their number is in ``n_clusters_range``, that
    number is returned. Otherwise the smallest eigenvalues ``lambda_1 <= lambda_2 <= ...`` of the graph's
    normalised Laplacian are computed once, and:

    - ``method="eigengap"`` (default) returns the ``k`` with the largest scaled gap
      ``(lambda_{k+1} - lambda_k) / lambda_{k+1} ** 0.25``. The scaling discounts the gaps high in the
      spectrum, whose spacing grows with ``k`` on any graph (the classical eigengap, without it, often
      picks a large ``k`` on real data);
    - ``method="modularity"`` clusters the graph spectrally into every candidate ``k`` (the first ``k``
      eigenvectors, column-pivoted QR assignment, no restarts) and returns the ``k`` of highest modularity
      ``inside - resolution * expected`` (the share of edge weight inside the clusters minus the share
      expected by chance, what the estimators' ``score`` measures on the same graph). It costs a
      clustering per candidate.

    Scale the features first as the clustering should see them (e.g. :class:`~sklearn.preprocessing.StandardScaler`
    for tabular data, :class:`~skdeepclust.ViewScaler` for views side by side): the neighbours are Euclidean.
    The User Guide (:ref:`n_clusters_guide`) has its accuracy on the benchmark sets and where it fails.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data.
    n_clusters_range : (int, int), optional
        Smallest and largest candidate, both included; ``2 <= lower <= upper < n_samples``. ``None``:
        ``(2, min(n_samples // 10, 200))`` (at least ``(2, 2)``): clusters of fewer than about 10 samples, the
        graph's neighbourhood size, are not looked for. ``method="modularity"`` tries every number up to 30,
        then steps of about 5 %.
    method : {"eigengap", "modularity"}, default="eigengap"
        How the number is chosen (see above).
    n_neighbors : int, default=10
        Neighbours per row of the graph.
    resolution : float, default=1.0
        Weight of the chance term of the modularity (``method="modularity"``): above 1 favours more and smaller
        clusters, below 1 fewer and larger ones.
    max_samples : int or None, default=10_000
        Above this many rows the estimate runs on a random subsample of this many rows (``None``: all rows).
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
        Seed of the subsample and of the eigensolver's start vector (graphs of more than 2500 rows). An int
        gives the same result at every call.
    return_curves : bool, default=False
        Also return the curves the number was chosen from.

    Returns
    -------
    n_clusters : int
        The estimate, within ``n_clusters_range``.
    curves : dict
        Only with ``return_curves=True``: ``"components"`` (the number of comparable connected components
        that decided, or 0), ``"candidates"`` (the numbers weighed), and unless the components decided,
        ``"eigengap"`` or ``"modularity"`` (the criterion of each candidate) and ``"eigenvalues"`` (the
        largest eigenvalues ``1 - lambda`` of the normalised adjacency, descending).

    Raises
    ------
    ValueError
        If ``n_clusters_range`` does not fit the data (lower bound below 2, upper bound not below
        ``n_samples``, lower bound above the upper one), or ``X`` has fewer than 3 rows.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdeepclust import estimate_n_clusters
    >>> X, _ = make_blobs(n_samples=300, centers=4, cluster_std=0.5, random_state=0)
    >>> estimate_n_clusters(X, random_state=0)
    4
    """
    X = check_array(X, dtype=np.float64, ensure_min_samples=1)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, int | np.integer) or n_neighbors < 1:
        raise ValueError(f"n_neighbors must be a positive int, got {n_neighbors!r}.")
    if isinstance(resolution, bool) or not isinstance(resolution, Real) or not resolution > 0:
        raise ValueError(f"resolution must be a positive number, got {resolution!r}.")
    if max_samples is not None and (isinstance(max_samples, bool) or not isinstance(max_samples, int | np.integer)
                                    or max_samples < 3):
        raise ValueError(f"max_samples must be an int of at least 3 or None, got {max_samples!r}.")
    lower, upper = check_range(n_clusters_range, X.shape[0])
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    elif isinstance(random_state, np.random.RandomState):
        rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    else:
        rng = np.random.default_rng(random_state)
    if max_samples is not None and X.shape[0] > max_samples:
        X = X[np.sort(rng.choice(X.shape[0], int(max_samples), replace=False))]
        if upper >= X.shape[0]:
            raise ValueError(f"n_clusters_range={n_clusters_range!r}: the upper bound must be below "
                             f"max_samples={max_samples}.")
    k, curves = estimate(X, lower, upper, method, int(n_neighbors), float(resolution), rng)
    return (k, curves) if return_curves else k
