import numpy as np
import pytest

from skdeepclust.metrics import (
    clustering_accuracy,
    embedding_silhouette,
    evaluate_clustering,
    purity_score,
)


def test_accuracy_permutation_invariant():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert clustering_accuracy(y, [5, 5, 3, 3, 9, 9]) == 1.0
    assert clustering_accuracy(y, [0, 0, 0, 1, 1, 1]) == pytest.approx(4 / 6)


def test_accuracy_more_clusters_than_classes():
    # six singleton clusters: only 2 can be matched (one per class)
    assert clustering_accuracy([0, 0, 0, 1, 1, 1], np.arange(6)) == pytest.approx(2 / 6)


def test_purity():
    assert purity_score([0, 0, 1, 1], [0, 0, 0, 0]) == 0.5
    assert purity_score([0, 0, 1, 1], np.arange(4)) == 1.0


def test_evaluate_clustering_keys_and_errors():
    out = evaluate_clustering([0, 1, 0, 1], [1, 0, 1, 0])
    assert out == {"acc": 1.0, "nmi": pytest.approx(1.0), "ari": pytest.approx(1.0)}
    with pytest.raises(ValueError, match="different lengths"):
        clustering_accuracy([0, 1], [0])


def test_silhouette_degenerate():
    X = np.random.default_rng(0).normal(size=(10, 2))
    assert embedding_silhouette(X, np.zeros(10)) == -1.0
    X[:5] += 10
    assert embedding_silhouette(X, np.repeat([0, 1], 5)) > 0.8
