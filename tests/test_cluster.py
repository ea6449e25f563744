import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from skdeepclust.cluster import align_labels, contingency_matrix, kmeans, match_labels


def test_kmeans_recovers_blobs_and_matches_sklearn_inertia():
    from sklearn.cluster import KMeans

    X, y = make_blobs(500, centers=5, n_features=4, random_state=0)
    res = kmeans(torch.tensor(X), 5, n_init=5, generator=torch.Generator().manual_seed(0))
    assert adjusted_rand_score(y, res.labels.numpy()) > 0.95
    ref = KMeans(5, n_init=5, random_state=0).fit(X)
    assert res.inertia == pytest.approx(ref.inertia_, rel=1e-3)
    # inertia is consistent with labels/centres
    d = ((torch.tensor(X)[:, None] - res.centers[None]) ** 2).sum(-1)
    assert torch.equal(d.argmin(1), res.labels)


def test_kmeans_seeded_and_no_empty_cluster():
    X = torch.randn(200, 3, generator=torch.Generator().manual_seed(0))
    a = kmeans(X, 7, n_init=2, generator=torch.Generator().manual_seed(3))
    b = kmeans(X, 7, n_init=2, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.labels, b.labels)
    assert torch.bincount(a.labels, minlength=7).min() > 0


def test_kmeans_duplicate_points():
    X = torch.zeros(10, 2)
    X[5:] = 1.0
    res = kmeans(X, 3, n_init=1, generator=torch.Generator().manual_seed(0))
    assert res.inertia == pytest.approx(0.0)


def test_kmeans_bad_input():
    with pytest.raises(ValueError, match="n_clusters"):
        kmeans(torch.zeros(3, 2), 5)
    with pytest.raises(ValueError, match="2-D"):
        kmeans(torch.zeros(3), 2)


def test_contingency_and_matching():
    a = np.array([0, 0, 1, 1, 2])
    b = np.array([1, 1, 0, 0, 2])
    assert contingency_matrix(a, b).tolist() == [[0, 2, 0], [2, 0, 0], [0, 0, 1]]
    mapping = match_labels(b, a)
    assert np.array_equal(mapping[b], a)


def test_align_labels_torch_and_numpy():
    ref = np.array([0, 0, 1, 1, 2, 2])
    lab = np.array([2, 2, 0, 0, 1, 0])
    out = align_labels(lab, ref, 3)
    assert out.tolist() == [0, 0, 1, 1, 2, 1]
    out_t = align_labels(torch.tensor(lab), torch.tensor(ref), 3)
    assert isinstance(out_t, torch.Tensor) and out_t.tolist() == out.tolist()
