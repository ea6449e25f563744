"""Clustering metrics and scorers, with and without ground-truth labels."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score, make_scorer, normalized_mutual_info_score, silhouette_score

from .cluster import contingency_matrix, match_labels

__all__ = [
    "accuracy_scorer",
    "clustering_accuracy",
    "embedding_silhouette",
    "evaluate_clustering",
    "purity_score",
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


def silhouette_scorer(estimator, X, y=None) -> float:
    """Label-free scorer for ``GridSearchCV``: silhouette of ``predict(X)`` in ``transform(X)``.

    Works for any fitted clusterer (or ``Pipeline`` ending in one) that has ``transform`` and
    ``predict``. ``y`` is ignored. Comparable across hyperparameters of one method that keep the
    embedding space (learning rate, temperatures, epochs); not a fair judge across ``n_clusters``
    on a soft-assignment embedding.

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
