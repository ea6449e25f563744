import numpy as np
import pytest
import scipy.io

from skdeepclust.datasets import load_digits_views, load_mat_views, make_multiview_blobs


def test_cell_array_transposed_views_and_truth_key(tmp_path):
    rng = np.random.default_rng(0)
    v1, v2 = rng.normal(size=(10, 4)), rng.normal(size=(10, 3))
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = v1.T, v2.T  # stored features x samples
    path = tmp_path / "cell.mat"
    scipy.io.savemat(path, {"data": cell, "truth": (np.arange(10) % 2 + 1)[:, None]})
    ds = load_mat_views(path)
    assert ds.view_sizes == (4, 3) and ds.n_clusters == 2
    np.testing.assert_allclose(ds.views[0], v1)
    assert ds.y.tolist() == (np.arange(10) % 2).tolist()


def test_numbered_keys_and_column_cell(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "num.mat"
    scipy.io.savemat(path, {"X2": rng.normal(size=(6, 2)), "X1": rng.normal(size=(6, 5)), "Y": np.arange(6)[None]})
    ds = load_mat_views(path)
    assert ds.view_names == ["X1", "X2"] and ds.view_sizes == (5, 2)
    cell = np.empty((3, 1), dtype=object)
    for i in range(3):
        cell[i, 0] = rng.normal(size=(6, i + 1))
    scipy.io.savemat(tmp_path / "col.mat", {"X": cell, "gt": np.arange(6)[:, None], "extra": 1})
    assert load_mat_views(tmp_path / "col.mat").view_sizes == (1, 2, 3)


def test_errors(tmp_path):
    scipy.io.savemat(tmp_path / "nolab.mat", {"X1": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="No label"):
        load_mat_views(tmp_path / "nolab.mat")
    scipy.io.savemat(tmp_path / "bad.mat", {"X1": np.zeros((3, 2)), "Y": np.arange(4)})
    with pytest.raises(ValueError, match="neither dimension"):
        load_mat_views(tmp_path / "bad.mat")


@pytest.mark.parametrize(
    "name,sizes,k,n",
    [
        ("MNIST_USPS", (784, 784), 10, 5000),
        ("BDGP", (1750, 79), 5, 2500),
        ("HW", (240, 76, 216, 47, 64, 6), 10, 2000),
        ("Synthetic3d", (3, 3, 3), 3, 600),
        ("Hdigit", (784, 256), 10, 10000),
    ],
)
def test_shared_benchmark_files(shared_data, name, sizes, k, n):
    ds = load_mat_views(shared_data / f"{name}.mat")
    assert ds.view_sizes == sizes and ds.n_clusters == k and ds.y.shape == (n,)
    assert np.bincount(ds.y).min() > 0


def test_digits_views_and_blobs():
    d = load_digits_views()
    assert d.view_sizes == (64, 112) and d.views[0].max() <= 1
    b = make_multiview_blobs(30, 3, (4, 2), noise_views=1, random_state=0)
    assert b.view_sizes == (4, 2, 5) and np.bincount(b.y).tolist() == [10, 10, 10]
