"""Data sets that need no download: scikit-learn's digits seen as two views, and synthetic multi-view clusters."""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch, check_random_state


def load_digits_views() -> Bunch:
    """scikit-learn's digits as a two-view dataset (offline, ships with scikit-learn).

    View 1 is the 8x8 pixel intensities scaled to ``[0, 1]``; view 2 is a different description of
    the same image: its horizontal and vertical intensity gradients (2 x 7 x 8 = 112 features, scaled
    to ``[-1, 1]``).

    Returns
    -------
    Bunch
        ``views`` (list of two float64 arrays), ``y`` (digits 0-9), ``view_sizes``, ``n_clusters`` (10).
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    img = d.images / 16.0
    grad = np.concatenate(
        [np.diff(img, axis=2).reshape(len(img), -1), np.diff(img, axis=1).reshape(len(img), -1)], axis=1
    )
    views = [img.reshape(len(img), -1), grad]
    return Bunch(views=views, y=d.target.astype(np.int64), view_sizes=(64, grad.shape[1]), n_clusters=10)


def make_multiview_blobs(
    n_samples: int = 300,
    n_clusters: int = 3,
    view_sizes=(10, 5),
    *,
    cluster_std: float = 1.0,
    separation: float = 4.0,
    noise_views: int = 0,
    random_state=None,
) -> Bunch:
    """Synthetic multi-view data: each view a random linear image of shared Gaussian clusters.

    A latent cluster center is drawn per class; every view maps the latent point (center + noise) with
    its own random linear map and adds its own noise, so every view carries the clusters, seen
    differently.

    Parameters
    ----------
    n_samples : int, default=300
        Number of samples (split as evenly as possible between clusters).
    n_clusters : int, default=3
        Number of clusters.
    view_sizes : sequence of int, default=(10, 5)
        Width of each informative view.
    cluster_std : float, default=1.0
        Within-cluster standard deviation in the latent space.
    separation : float, default=4.0
        Scale of the latent centers.
    noise_views : int, default=0
        Extra views of pure noise (width 5) appended after the informative ones.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    Bunch
        ``views``, ``y``, ``view_sizes``, ``n_clusters``.
    """
    rs = check_random_state(random_state)
    latent_dim = 4
    y = np.arange(n_samples) % n_clusters
    rs.shuffle(y)
    centers = rs.normal(scale=separation, size=(n_clusters, latent_dim))
    latent = centers[y] + rs.normal(scale=cluster_std, size=(n_samples, latent_dim))
    views = []
    for d in view_sizes:
        w = rs.normal(size=(latent_dim, d)) / np.sqrt(latent_dim)
        views.append(latent @ w + 0.1 * rs.normal(size=(n_samples, d)))
    for _ in range(noise_views):
        views.append(rs.normal(size=(n_samples, 5)))
    return Bunch(views=views, y=y.astype(np.int64), view_sizes=tuple(v.shape[1] for v in views), n_clusters=n_clusters)
