"""Behaviour of HaDis: tabular and image input, custom encoder and augmentation, ablations, errors."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits, make_blobs
from torch import nn

from skdeepclust import HaDis
from skdeepclust.metrics import clustering_accuracy

from ._instances import small_hadis


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(300, centers=4, n_features=6, cluster_std=1.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16.0).astype(np.float32), y[:600]


def test_tabular_blobs(blobs):
    X, y = blobs
    est = small_hadis(n_clusters=4).fit(X)
    assert clustering_accuracy(y, est.labels_) > 0.9
    assert est.cluster_centers_.shape == (4, 8)
    np.testing.assert_allclose(np.linalg.norm(est.cluster_centers_, axis=1), 1.0, rtol=1e-5)
    emb = est.transform(X)
    assert emb.shape == (300, 8)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    terms = est.history_[-1]
    assert {"dsa", "hsd", "psl", "loss", "seconds"} <= set(terms)
    assert "psl" not in est.history_[0]  # warm-up: no prototype term


def test_images_with_conv_encoder(digits):
    X, y = digits
    est = small_hadis(n_clusters=10, image_shape=(1, 8, 8), hidden_dims=(16, 16), max_epochs=15, batch_size=64)
    est.fit(X)
    assert est.transform(X).shape == (600, 8)
    assert clustering_accuracy(y, est.labels_) > 0.4  # chance is ~0.11; a 15-epoch run


def test_ablation_switches_change_the_objective(blobs):
    X, _ = blobs
    no_hsd = small_hadis(n_clusters=4, hsd_weight=0.0, max_epochs=5).fit(X)
    no_psl = small_hadis(n_clusters=4, cluster_loss_weight=0.0, max_epochs=5).fit(X)
    assert "hsd" not in no_hsd.history_[-1] and "psl" in no_hsd.history_[-1]
    assert "psl" not in no_psl.history_[-1] and "hsd" in no_psl.history_[-1]


def test_custom_encoder_and_augment(blobs):
    X, y = blobs
    calls = {"n": 0}

    def augment(x, gen):
        calls["n"] += 1
        return x + 0.1 * torch.randn(x.shape, generator=gen, device=x.device)

    torch.manual_seed(0)
    enc = nn.Sequential(nn.Linear(6, 16), nn.ReLU())
    weights = enc[0].weight.detach().clone()
    est = small_hadis(n_clusters=4, encoder=enc, augment=augment, max_epochs=5).fit(X)
    assert calls["n"] == 2 * 5 * (300 // 32)  # two views per step
    assert torch.equal(enc[0].weight, weights)  # the user's module is copied, not trained in place
    assert est.network_.online[0] is not enc


def test_determinism_and_pickle(blobs):
    X, _ = blobs
    a = small_hadis(n_clusters=4, max_epochs=5, random_state=3).fit(X)
    b = small_hadis(n_clusters=4, max_epochs=5, random_state=3).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_allclose(restored.transform(X), a.transform(X))


def test_bad_image_input(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="has 49 pixels per image but X has 64 features"):
        small_hadis(image_shape=(1, 7, 7)).fit(X)
    with pytest.raises(ValueError, match="divide 8-bit images by 255"):
        small_hadis(image_shape=(1, 8, 8)).fit(X * 16)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        small_hadis(image_shape=(8, 8)).fit(X)
    with pytest.raises(ValueError, match="n_clusters=700 must be <= n_samples=600"):
        small_hadis(n_clusters=700).fit(X)
