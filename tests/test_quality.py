"""Quality smoke tests on real data with generous floors.

The fast ones run by default (digits, shipped with scikit-learn); the ``slow`` ones read the benchmark
files of ``../shared/data`` and run the defaults (``python -m pytest -m slow``).
"""

import sys
from pathlib import Path

import pytest

from skdeepclust import DistilMVC
from skdeepclust.datasets import load_digits_views, load_mat_views
from skdeepclust.metrics import evaluate_clustering

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def test_distilmvc_digits_two_views():
    """KMeans on the same min-max-scaled views: ACC ~0.79, NMI ~0.74."""
    d = load_digits_views()
    est = DistilMVC(n_clusters=10, hidden_dims=(256, 256), latent_dim=128, head_hidden_dim=128,
                    n_epochs_pretrain=20, n_epochs_contrastive=30, n_epochs_distill=30, kmeans_n_init=10,
                    device="cpu", random_state=0)
    m = evaluate_clustering(d.y, est.fit_predict(d.views))
    assert m["acc"] > 0.8 and m["nmi"] > 0.75, m


@pytest.mark.slow
def test_distilmvc_mnist_usps_defaults(shared_data):
    ds = load_mat_views(shared_data / "MNIST_USPS.mat")
    m = evaluate_clustering(ds.y, DistilMVC(n_clusters=10, device="cpu", random_state=0).fit_predict(ds.views))
    assert m["acc"] > 0.97, m
