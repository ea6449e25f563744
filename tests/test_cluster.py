import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from skdeepclust import cluster
from skdeepclust.cluster import (
    align_labels,
    contingency_matrix,
    kmeans,
    knn_vote,
    match_labels,
    nearest_neighbors,
    spectral_knn,
)


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


def test_nearest_neighbors_matches_brute_force_in_chunks():
    gen = torch.Generator().manual_seed(0)
    x, q = torch.randn(50, 3, generator=gen), torch.randn(7, 3, generator=gen)
    full = torch.cdist(q, x)
    dist, idx = nearest_neighbors(x, 4, q, chunk=3)  # chunks of 3 query rows
    assert torch.equal(idx, full.argsort(1)[:, :4])
    torch.testing.assert_close(dist, full.sort(1).values[:, :4])
    # self-query: every row is its own first neighbour, also for exact duplicates
    dup = torch.cat([x, x[:5]])
    dist, idx = nearest_neighbors(dup, 3, chunk=16)
    assert torch.equal(idx[:, 0], torch.arange(55)) and float(dist[:, 0].abs().max()) == 0.0
    assert torch.equal(idx[50:, 1], torch.arange(5)) and float(dist[50:, 1].max()) < 1e-6


def test_spectral_knn_keeps_a_large_class_that_kmeans_splits():
    # one broad class of 600 points and two small tight ones beside it (USPS's situation): k-means,
    # which favours clusters of equal spread, cuts the broad class in two and merges the small ones
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (600, 2)), rng.normal((6, 0), 0.15, (60, 2)),
                        rng.normal((6.8, 0), 0.15, (60, 2))])
    y = np.repeat([0, 1, 2], [600, 60, 60])
    spec = spectral_knn(torch.tensor(X), 3, n_neighbors=10, random_state=0)
    km = kmeans(torch.tensor(X), 3, n_init=5, generator=torch.Generator().manual_seed(0)).labels.numpy()
    assert adjusted_rand_score(y, spec) > 0.99
    assert adjusted_rand_score(y, km) < 0.5
    np.testing.assert_array_equal(spec, spectral_knn(torch.tensor(X), 3, n_neighbors=10, random_state=0))


def test_knn_vote_majority_and_ties():
    x = torch.tensor([[0.0], [0.1], [0.2], [5.0], [5.1]])
    labels = torch.tensor([0, 0, 1, 1, 1])
    out = knn_vote(x, labels, torch.tensor([[0.05], [5.05], [0.13]]), 3, 2)
    assert out.tolist() == [0, 1, 0]  # the majority wins over the nearest voter (0.13: 0.1, 0.2, 0.0)
    # two voters, one per label: the tie goes to the nearer one's label
    assert knn_vote(x, labels, torch.tensor([[0.17], [0.12]]), 2, 2).tolist() == [1, 0]
    # five voters: 2-2 between labels 0 and 1, the nearest voter (label 2) not among them: the smallest id
    x2 = torch.tensor([[0.0], [1.0], [1.1], [2.0], [2.1]])
    assert knn_vote(x2, torch.tensor([2, 0, 1, 0, 1]), torch.tensor([[-0.5]]), 5, 3).tolist() == [0]
    # more voters than points are capped at the number of points
    assert knn_vote(x, labels, torch.tensor([[0.15]]), 50, 2).tolist() == [1]


@pytest.fixture(scope="module")
def blobs_3000():
    X, y = make_blobs(n_samples=3000, centers=6, n_features=16, cluster_std=2.0, random_state=0)
    return torch.tensor(X, dtype=torch.float32), y


def test_nearest_neighbors_approximate_past_threshold(monkeypatch, blobs_3000):
    x, _ = blobs_3000
    exact_d, exact_i = nearest_neighbors(x, 11)
    monkeypatch.setattr(cluster, "APPROX_NEIGHBORS_MIN_ROWS", 1000)  # 3000 rows: NN-descent
    threads = torch.get_num_threads()
    dist, idx = nearest_neighbors(x, 11, random_state=0)
    assert torch.get_num_threads() == threads  # numba's thread pool must not change the caller's torch threads
    assert dist.shape == idx.shape == (3000, 11) and idx.dtype == torch.int64 and dist.dtype == x.dtype
    np.testing.assert_array_equal(idx[:, 0].numpy(), np.arange(3000))  # each row its own first neighbour
    assert (dist[:, 0] == 0).all() and (dist[:, 1:] >= dist[:, :-1]).all()
    pairs = zip(idx[:, 1:].tolist(), exact_i[:, 1:].tolist(), strict=True)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in pairs])
    assert recall > 0.9
    # the distances are the true ones of the neighbours found
    np.testing.assert_allclose(dist.numpy(), (x[:, None] - x[idx]).norm(dim=2).numpy(), rtol=1e-4, atol=1e-4)
    # reproducible for a seed, and a numpy generator is a seed too
    again = nearest_neighbors(x, 11, random_state=0)[1]
    np.testing.assert_array_equal(idx.numpy(), again.numpy())
    a = nearest_neighbors(x, 11, random_state=np.random.default_rng(5))[1]
    np.testing.assert_array_equal(a.numpy(), nearest_neighbors(x, 11, random_state=np.random.default_rng(5))[1].numpy())
    # queries of other points stay exact
    q = x[:50] + 0.01
    expected = torch.cdist(q, x).topk(5, largest=False)[1]
    np.testing.assert_array_equal(nearest_neighbors(x, 5, q)[1].numpy(), expected.numpy())


def test_spectral_knn_approximate_graph_agrees_with_exact(monkeypatch, blobs_3000):
    x, y = blobs_3000
    exact = spectral_knn(x, 6, random_state=0)
    monkeypatch.setattr(cluster, "APPROX_NEIGHBORS_MIN_ROWS", 1000)
    approx = spectral_knn(x, 6, random_state=0)
    assert adjusted_rand_score(exact, approx) > 0.95
    np.testing.assert_array_equal(approx, spectral_knn(x, 6, random_state=0))


def test_kmeans_restarts_on_a_subsample_past_threshold(monkeypatch, blobs_3000):
    x, _ = blobs_3000
    full = kmeans(x, 6, n_init=4, generator=torch.Generator().manual_seed(0))
    monkeypatch.setattr(cluster, "KMEANS_RESTART_MAX_ROWS", 500)
    sub = kmeans(x, 6, n_init=4, generator=torch.Generator().manual_seed(0))
    assert sub.labels.shape == (3000,) and torch.bincount(sub.labels, minlength=6).min() > 0
    assert sub.inertia <= 1.01 * full.inertia
    assert adjusted_rand_score(full.labels.numpy(), sub.labels.numpy()) > 0.95
    again = kmeans(x, 6, n_init=4, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(sub.centers, again.centers, rtol=0, atol=0)
    # one initialisation: no subsample, the plain run
    one = kmeans(x, 6, n_init=1, generator=torch.Generator().manual_seed(0))
    monkeypatch.setattr(cluster, "KMEANS_RESTART_MAX_ROWS", 10**9)
    torch.testing.assert_close(one.centers, kmeans(x, 6, n_init=1, generator=torch.Generator().manual_seed(0)).centers)


@pytest.mark.parametrize("spread", [3.0, 6.0])
def test_spectral_graph_block_iterations_agree_with_shift_invert(monkeypatch, spread):
    # spread 3: a k-NN graph in 8 connected components, where eigenvalue 1 repeats (single-vector Lanczos missed
    # one of them: ARI 0.87); spread 6: overlapping clusters
    X, y = make_blobs(3000, n_features=20, centers=10, cluster_std=spread, random_state=0)
    graph = cluster.knn_graph(torch.tensor(X, dtype=torch.float32), 10, random_state=0)
    shift_invert = cluster.spectral_graph(graph, 10, random_state=0)
    monkeypatch.setattr(cluster, "SPECTRAL_LOBPCG_MIN_ROWS", 1000)
    block = cluster.spectral_graph(graph, 10, random_state=0)
    assert adjusted_rand_score(shift_invert, block) > 0.99
    np.testing.assert_array_equal(block, cluster.spectral_graph(graph, 10, random_state=0))


def test_graph_modularity_matches_the_dense_definition():
    rng = np.random.default_rng(0)
    W = rng.random((30, 30)) * (rng.random((30, 30)) < 0.2)
    W = W + W.T
    labels = rng.integers(0, 4, 30)
    A = W - np.diag(np.diag(W))  # self-loops are ignored
    m, k = A.sum(), A.sum(1)
    same = labels[:, None] == labels[None, :]
    expected = ((A - np.outer(k, k) / m) * same).sum() / m
    assert cluster.graph_modularity(sparse.csr_matrix(W), labels) == pytest.approx(expected)
