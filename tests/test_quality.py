"""Quality smoke tests on real data with generous floors.

By default only a short run of SeCu's default network on digits (shipped with scikit-learn) runs; the ``slow``
ones run the defaults in full, on digits and on the benchmark files of ``../shared/data``
(``python -m pytest -m slow``).
"""

import pytest
from sklearn.datasets import load_digits

from skdeepclust import SPC, DistilMVC, SeCu
from skdeepclust.datasets import load_mat_views
from skdeepclust.metrics import evaluate_clustering


def test_secu_digits_images_default_network_short_schedule(monkeypatch):
    """Default SeCu on the 8x8 digit images with the schedule cut to 600 steps (of 4500): the default network,
    batch size and optimiser learn well above chance (~0.1; measured ACC 0.60, NMI 0.62 in ~10 s)."""
    import skdeepclust.secu

    monkeypatch.setattr(skdeepclust.secu, "DEFAULT_STEPS", 600)
    X, y = load_digits(return_X_y=True)
    est = SeCu(n_clusters=10, image_shape=(1, 8, 8), device="cpu", random_state=0)
    m = evaluate_clustering(y, est.fit_predict(X / 16.0))
    assert est.n_epochs_ == 40  # 600 steps of 15 batches per epoch (1797 rows, batch size 128)
    assert m["acc"] > 0.5 and m["nmi"] > 0.5, m


@pytest.mark.slow
def test_secu_digits_images_defaults():
    """Default SeCu on the 8x8 digit images (KMeans on pixels: ACC ~0.79, NMI ~0.74; measured 0.885 / 0.879)."""
    X, y = load_digits(return_X_y=True)
    est = SeCu(n_clusters=10, image_shape=(1, 8, 8), device="cpu", random_state=0)
    m = evaluate_clustering(y, est.fit_predict(X / 16.0))
    assert m["acc"] > 0.75 and m["nmi"] > 0.72, m


@pytest.mark.slow
def test_distilmvc_mnist_usps_defaults(shared_data):
    ds = load_mat_views(shared_data / "MNIST_USPS.mat")
    m = evaluate_clustering(ds.y, DistilMVC(n_clusters=10, device="cpu", random_state=0).fit_predict(ds.views))
    assert m["acc"] > 0.97, m


@pytest.mark.slow
def test_spc_usps_cpu_budget(shared_data):
    """SPC with the benchmark's CPU settings on USPS.

    KMeans on pixels: ACC 0.67; measured: 0.976 in 247 s on two threads.
    """
    import scipy.io

    a = scipy.io.loadmat(shared_data / "USPS_9298.mat")["usps_all"]
    X, y = a[:, :256] / 255.0, a[:, 256].astype(int) - 1
    est = SPC(n_clusters=10, image_shape=(1, 16, 16), autoencoder="mlp", n_members=5, max_rounds=5, n_jobs=2,
              device="cpu", random_state=0)
    m = evaluate_clustering(y, est.fit_predict(X))
    assert m["acc"] > 0.95 and m["nmi"] > 0.9, m
    assert (est.predict(X) == est.labels_).mean() > 0.98
