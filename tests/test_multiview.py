import numpy as np
import pytest
import torch

from skdeepclust.multiview import ViewScaler, check_view_sizes, is_view_list, scale_params, split_views, stack_views


def test_stack_and_split_round_trip():
    a, b = np.arange(6.0).reshape(3, 2), np.arange(9.0).reshape(3, 3)
    X, sizes = stack_views([a, b])
    assert sizes == (2, 3)
    va, vb = split_views(X, sizes)
    np.testing.assert_array_equal(va, a)
    np.testing.assert_array_equal(vb, b)
    assert stack_views([a.astype(np.float32), b.astype(np.float32)])[0].dtype == np.float32


def test_is_view_list():
    assert is_view_list([np.zeros((2, 2)), np.zeros((2, 1))])
    assert not is_view_list([[1.0, 2.0], [3.0, 4.0]])  # a list of rows
    assert not is_view_list(np.zeros((2, 2)))
    assert not is_view_list([])


def test_check_view_sizes():
    assert check_view_sizes(None, 5) == (5,)
    assert check_view_sizes([2, 3], 5) == (2, 3)
    with pytest.raises(ValueError, match="add up"):
        check_view_sizes([2, 2], 5)
    with pytest.raises(ValueError, match="positive"):
        check_view_sizes([5, True], 6)


def test_view_scaler_methods():
    X = np.array([[0.0, 10.0, 1.0], [2.0, 30.0, 3.0], [1.0, 20.0, 2.0]])
    mm = ViewScaler(view_sizes=(2, 1)).fit_transform(X)
    assert mm.min() == 0 and mm.max() == 1
    vmm = ViewScaler(view_sizes=(2, 1), method="view-minmax").fit_transform(X)
    np.testing.assert_allclose(vmm[:, 0], [0.0, 2 / 30, 1 / 30])
    np.testing.assert_allclose(vmm[:, 2], [0.0, 1.0, 0.5])
    std = ViewScaler(method="standard").fit_transform(X)
    np.testing.assert_allclose(std.mean(0), 0.0, atol=1e-12)
    const = ViewScaler().fit_transform(np.ones((3, 2)))
    np.testing.assert_array_equal(const, np.zeros((3, 2)))


def test_view_scaler_errors():
    with pytest.raises(ValueError, match="add up"):
        ViewScaler(view_sizes=(1, 1)).fit(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="features"):
        ViewScaler().fit(np.zeros((3, 3))).transform(np.zeros((3, 2)))


@pytest.mark.parametrize("method", ["standard", "minmax", "view-minmax", "view-variance", "none"])
def test_scale_params_same_on_numpy_and_torch(method):
    X = np.random.default_rng(0).normal(size=(20, 5)) * [1, 10, 100, 1, 1]
    offset, scale = scale_params(X, (3, 2), method)
    t_offset, t_scale = scale_params(torch.from_numpy(X), (3, 2), method)
    np.testing.assert_array_equal(offset, t_offset.numpy())
    np.testing.assert_array_equal(scale, t_scale.numpy())
    Z = (X - offset) / scale
    if method == "view-variance":  # every view has unit total (unbiased) variance
        np.testing.assert_allclose([Z[:, :3].var(0, ddof=1).sum(), Z[:, 3:].var(0, ddof=1).sum()], 1.0)
    elif method == "standard":
        np.testing.assert_allclose(Z.std(0, ddof=1), 1.0)
    elif method == "none":
        np.testing.assert_array_equal(Z, X)


def test_scale_params_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="Unknown scaling 'robust'"):
        scale_params(np.zeros((3, 2)), None, "robust")
