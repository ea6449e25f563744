"""Every estimator with all its defaults, with only its epoch and round counts cut to keep the tests fast."""

from sklearn.datasets import make_blobs

from skdeepclust import MTDC, SPC, DistilMVC, HaDis, SeCu

ESTIMATORS = {"DistilMVC": DistilMVC, "HaDis": HaDis, "MTDC": MTDC, "SeCu": SeCu, "SPC": SPC}
NAMES = sorted(ESTIMATORS)

#: the only parameters changed from the defaults, besides ``n_clusters``, ``random_state`` and ``device``
REDUCED_COUNTS = {
    "DistilMVC": {"n_epochs_pretrain": 1, "n_epochs_contrastive": 1, "n_epochs_distill": 1},
    "HaDis": {"n_epochs": 2, "n_epochs_warmup": 1},
    "MTDC": {"n_epochs": 2, "n_epochs_warmup": 1},
    "SeCu": {"n_epochs": 2, "n_epochs_warmup": 1},
    "SPC": {"n_epochs_pretrain": 1, "n_epochs_round": 1, "max_rounds": 1},
}
N_CLUSTERS = 3


def default_estimator(name):
    """``name`` built with its defaults (only ``n_clusters``, ``random_state`` and ``device`` given), counts cut."""
    est = ESTIMATORS[name](n_clusters=N_CLUSTERS, device="cpu", random_state=0)
    return est.set_params(**REDUCED_COUNTS[name])


def tiny_data():
    """60 rows of 3 blobs in 5 tabular features (the estimators' default input: no ``image_shape``)."""
    return make_blobs(n_samples=60, centers=N_CLUSTERS, n_features=5, random_state=0)[0]
