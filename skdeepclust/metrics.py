"""Clustering metrics and scorers, with and without ground-truth labels."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score, make_scorer, normalized_mutual_info_score, silhouette_score

from .cluster import contingency_matrix, graph_modularity, match_labels, neighbor_graph
from .cluster._neighbors import _exact_neighbors_float64
from .multiview import scale_params

__all__ = [
    "accuracy_scorer",
    "clustering_accuracy",
    "embedding_silhouette",
    "evaluate_clustering",
    "knn_modularity",
    "modularity_scorer",
    "purity_score",
    "reference_space",
    "silhouette_scorer",
]


def _encode(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred have different lengths: {y_true.shape[0]} and {y_pred.shape[0]}.")
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty.")
    return np.unique(y_true, return_inverse=True)[1], np.unique(y_pred, return_inverse=True)[1]


def clustering_accuracy(y_true, y_pred) -> float:
    """Unsupervised clustering accuracy: accuracy under the best one-to-one label matching.

    The predicted cluster ids are matched to the true classes by the Hungarian algorithm; clusters
    left without a partner count as errors.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes (any hashable labels).
    y_pred : array-like of shape (n_samples,)
        Cluster ids.

    Returns
    -------
    float
        Accuracy in ``[0, 1]``.

    Examples
    --------
    >>> from skdeepclust.metrics import clustering_accuracy
    >>> clustering_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    t, p = _encode(y_true, y_pred)
    k = max(t.max(), p.max()) + 1
    mapping = match_labels(p, t, k)
    return float(np.mean(mapping[p] == t))


def purity_score(y_true, y_pred) -> float:
    """Purity: the fraction of samples that belong to the majority class of their cluster.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster ids.

    Returns
    -------
    float
        Purity in ``(0, 1]``.
    """
    t, p = _encode(y_true, y_pred)
    w = contingency_matrix(p, t)
    return float(w.max(axis=1).sum() / t.size)


def evaluate_clustering(y_true, y_pred) -> dict[str, float]:
    """ACC (Hungarian), NMI (arithmetic normalisation) and ARI of a clustering.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster ids.

    Returns
    -------
    dict
        ``{"acc": ..., "nmi": ..., "ari": ...}``.
    """
    return {
        "acc": clustering_accuracy(y_true, y_pred),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
    }


def embedding_silhouette(embedding, labels, *, max_samples: int = 2000, random_state: int = 0) -> float:
    """Silhouette score of ``labels`` in an embedding; ``-1`` when there are fewer than 2 clusters.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, n_features)
        Points (e.g. an estimator's ``transform`` output).
    labels : array-like of shape (n_samples,)
        Cluster ids.
    max_samples : int, default=2000
        Larger inputs are scored on a fixed random subsample of this size (silhouette is quadratic).
    random_state : int, default=0
        Seed of that subsample.

    Returns
    -------
    float
        In ``[-1, 1]``, higher is better.
    """
    embedding = np.asarray(embedding, dtype=np.float64)
    labels = np.asarray(labels)
    n_labels = np.unique(labels).size
    if n_labels < 2 or n_labels >= labels.shape[0]:
        return -1.0
    sample_size = max_samples if labels.shape[0] > max_samples else None
    return float(silhouette_score(embedding, labels, sample_size=sample_size, random_state=random_state))


def reference_space(X, view_sizes=None) -> np.ndarray:
    """The input as a space for judging clusterings: each view scaled to unit total variance.

    A space that does not depend on the fitted model, so that clusterings of different models (or
    hyperparameters) are judged in the same geometry. With ``view_sizes`` (a multi-view
    concatenation), every view is scaled so that its columns' variances sum to one, and each view
    counts alike whatever its width.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data (the views side by side when ``view_sizes`` is given).
    view_sizes : sequence of int, optional
        Columns of each view.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        Float64 copy of ``X``, each view scaled (:func:`~skdeepclust.multiview.scale_params`,
        ``"view-variance"``).
    """
    X = np.asarray(X, dtype=np.float64)
    offset, scale = scale_params(X, view_sizes, "view-variance")
    return (X - offset) / scale


def knn_modularity(X, labels, *, n_neighbors: int = 10, max_samples: int = 4000, random_state: int = 0) -> float:
    """Modularity of ``labels`` on the k-nearest-neighbour graph of ``X``.

    The graph joins every point to its ``n_neighbors`` nearest points (Euclidean), symmetrised
    (``A = (C + C^T) / 2``). Modularity is the fraction of edge weight inside clusters minus the
    fraction expected if edges were placed at random with the same degrees, ``sum_c e_c - a_c^2``:
    high when clusters follow the neighbourhoods of ``X`` without being rewarded for merging them
    (one cluster scores 0). Higher is better, at most 1.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Points, e.g. :func:`reference_space` of the input.
    labels : array-like of shape (n_samples,)
        Cluster ids.
    n_neighbors : int, default=10
        Neighbours per point.
    max_samples : int, default=4000
        Larger inputs are scored on a fixed random subsample of this size (the exact neighbour search is
        quadratic).
    random_state : int, default=0
        Seed of that subsample.

    Returns
    -------
    float
        Modularity in ``[-0.5, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepclust.metrics import knn_modularity
    >>> X = np.r_[np.zeros((5, 2)), np.ones((5, 2))] + np.arange(10)[:, None] * 1e-3
    >>> round(knn_modularity(X, [0] * 5 + [1] * 5, n_neighbors=3), 2)
    0.5
    """
    X = np.asarray(X, dtype=np.float64)
    if np.asarray(labels).ravel().shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but labels has {np.asarray(labels).ravel().shape[0]}.")
    return _graph_score(_scoring_graph(X, n_neighbors, max_samples, random_state), labels)


def _scoring_graph(X: np.ndarray, n_neighbors: int = 10, max_samples: int = 4000, random_state: int = 0
                   ) -> tuple:
    """The k-NN graph that :func:`knn_modularity` scores labels on, and the rows it keeps (``None``: all).

    Built once, it scores several labellings of the same ``X`` (:func:`_graph_score`).
    """
    X = np.asarray(X, dtype=np.float64)
    rows = None
    if X.shape[0] > max_samples:
        rows = np.sort(np.random.default_rng(random_state).choice(X.shape[0], max_samples, replace=False))
        X = X[rows]
    k = max(1, min(int(n_neighbors), X.shape[0] - 1))
    return neighbor_graph(_exact_neighbors_float64(X, k + 1)), rows  # A = (C + C^T) / 2, self-loops ignored


def _graph_score(scoring_graph: tuple, labels) -> float:
    """Modularity of ``labels`` (one per row of the full ``X``) on a graph of :func:`_scoring_graph`."""
    graph, rows = scoring_graph
    labels = np.unique(np.asarray(labels).ravel(), return_inverse=True)[1]
    return graph_modularity(graph, labels if rows is None else labels[rows])


def modularity_scorer(estimator, X, y=None) -> float:
    """Label-free scorer for ``GridSearchCV``: modularity of ``predict(X)`` on the k-NN graph of ``X``.

    The estimators' own ``score``, for any fitted clusterer with ``predict`` (or a ``Pipeline`` ending in
    one): :func:`knn_modularity` of the predicted labels in :func:`reference_space` of ``X`` (each view
    scaled to unit total variance when the estimator, or a pipeline's last step, has ``view_sizes_`` that
    fit ``X``). The space does not depend on the candidate, so candidates are compared in one geometry. It
    judges a clustering by how well it follows the neighbourhoods of the input: a method whose clusters
    should differ from the input's neighbourhoods (e.g. invariance to lighting learned from augmentations)
    is judged against them. ``y`` is ignored. See :ref:`model_selection_guide` for its measured regret.

    Parameters
    ----------
    estimator : estimator
        A fitted clusterer.
    X : array-like of shape (n_samples, n_features)
        Data to score.
    y : None
        Ignored.

    Returns
    -------
    float
        Modularity, at most 1; higher is better.
    """
    labels = estimator.predict(X)
    final = estimator[-1] if hasattr(estimator, "steps") else estimator
    sizes = getattr(final, "view_sizes_", None)
    if isinstance(X, list | tuple):  # a list of views
        views = [np.asarray(v, dtype=np.float64) for v in X]
        sizes, X = [v.shape[1] for v in views], np.hstack(views)
    elif sizes is not None and sum(sizes) != np.shape(X)[1]:
        sizes = None  # a pipeline changed the columns: one view
    return knn_modularity(reference_space(X, sizes), labels)


def silhouette_scorer(estimator, X, y=None) -> float:
    """Label-free scorer: silhouette of ``predict(X)`` in the estimator's own ``transform(X)``.

    Each candidate is judged in its own embedding, so scores of different hyperparameters are not
    comparable in general, and this criterion picks poorly (see :ref:`model_selection_guide` on choosing
    hyperparameters without labels); prefer :func:`modularity_scorer`. Works for any fitted clusterer
    (or ``Pipeline`` ending in one) that has ``transform`` and ``predict``. ``y`` is ignored.

    Parameters
    ----------
    estimator : estimator
        A fitted clusterer.
    X : array-like of shape (n_samples, n_features)
        Data to score.
    y : None
        Ignored.

    Returns
    -------
    float
        Silhouette in ``[-1, 1]``.
    """
    return embedding_silhouette(estimator.transform(X), estimator.predict(X))


#: Scorer for ``GridSearchCV`` when labels are available: clustering accuracy of ``predict``.
accuracy_scorer = make_scorer(clustering_accuracy)
