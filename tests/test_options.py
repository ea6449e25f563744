"""Options that switch behaviour do what their documentation says."""

import numpy as np
from sklearn.datasets import make_blobs

from skdeepclust import ViewScaler

from ._instances import small_distilmvc


def test_distilmvc_scaling_none_leaves_scaling_to_the_user():
    X, _ = make_blobs(n_samples=120, centers=3, n_features=6, random_state=0)
    X = X * np.array([1, 10, 100, 1, 10, 100])
    scaled = ViewScaler(view_sizes=(3, 3)).fit_transform(X)
    params = dict(view_sizes=(3, 3), n_clusters=3, n_epochs_contrastive=5, n_epochs_distill=5)
    own = small_distilmvc(scaling="none", **params).fit(scaled)
    np.testing.assert_array_equal(own.input_offset_.numpy(), 0)
    np.testing.assert_array_equal(own.input_scale_.numpy(), 1)
    # the built-in min-max scaling learns the same map as the user's ViewScaler
    inner = small_distilmvc(**params).fit(X)
    np.testing.assert_allclose((X - inner.input_offset_.numpy()) / inner.input_scale_.numpy(), scaled, atol=1e-5)
    unscaled = small_distilmvc(scaling="none", **params).fit(X)
    assert not np.array_equal(unscaled.transform(X), inner.transform(X))
