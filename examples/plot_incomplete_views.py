"""
=============================================
Clustering multi-view data with missing views
=============================================

In real multi-view data some samples lack some views: a sensor was off, a page has no links, an item
has no image. :class:`~skdeepclust.DistilMVC` takes such data as it is: a view row that is entirely
NaN marks that view as missing for the sample. Training uses only the views each sample has, and the
samples' neighbours in the views they have link them to the views they lack (see
:ref:`distilmvc_missing_views`).

Here we remove views from a growing share of the samples of a small two-view set, and compare the
clustering accuracy with two ways of imputing the missing views by their mean.
"""

# %%
# Data: two views that need each other
# ------------------------------------
# 240 samples in 3 clusters. The first view holds one Gaussian blob per cluster; the second holds three
# concentric rings, one per cluster, which no linear cut separates but where each sample's neighbours lie
# on its own ring. For a share ``rate`` of the samples we remove one of the two views, each view for half
# of them.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import minmax_scale

from skdeepclust import DistilMVC
from skdeepclust.metrics import clustering_accuracy

rng = np.random.default_rng(0)
y = np.repeat([0, 1, 2], 80)
blobs = rng.normal(size=(y.size, 5)) * 0.6 + 3.0 * np.eye(3, 5)[y]
angle = rng.uniform(0, 2 * np.pi, y.size)
rings = (1.0 + 1.5 * y)[:, None] * np.c_[np.cos(angle), np.sin(angle)] + rng.normal(size=(y.size, 2)) * 0.12
views = [blobs, rings]


def remove_views(views, rate, seed):
    """The views with a share ``rate`` of the samples losing one of the two views (their rows set to NaN)."""
    rows = np.random.default_rng(seed).permutation(len(views[0]))[: round(rate * len(views[0]))]
    observed = np.ones((len(views[0]), 2), dtype=bool)
    observed[rows, np.arange(rows.size) % 2] = False  # half of them lose view 0, half view 1
    return [np.where(observed[:, [v]], x, np.nan) for v, x in enumerate(views)]


def mean_imputed(views):
    """Each missing view row replaced by the view's mean over the samples that have it."""
    return [np.where(np.isnan(x), np.nanmean(x, axis=0), x) for x in views]


def model():
    # small networks and short stages, so that the example runs in seconds
    return DistilMVC(n_clusters=3, hidden_dims=(64,), latent_dim=32, projection_hidden_dim=32, feature_dim=16,
                     n_epochs_pretrain=10, n_epochs_contrastive=15, n_epochs_distill=25, batch_size=32, lr=1e-3,
                     device="cpu", random_state=0)


# %%
# Fit at each missing rate
# ------------------------
# ``DistilMVC`` on the views with NaN rows; the same estimator on the mean-imputed views; and k-means of the
# mean-imputed views side by side (each feature min-max scaled).
rates = [0.0, 0.1, 0.3, 0.5]
acc = {"DistilMVC (missing views)": [], "DistilMVC (mean-imputed)": [], "k-means (mean-imputed)": []}
t0 = time.perf_counter()
for rate in rates:
    incomplete_views = remove_views(views, rate, seed=0)
    incomplete = model().fit(incomplete_views)
    acc["DistilMVC (missing views)"].append(clustering_accuracy(y, incomplete.labels_))
    filled = mean_imputed(incomplete_views)  # at rate 0, the complete views: the same fit again
    imputed = incomplete if rate == 0 else model().fit(filled)
    acc["DistilMVC (mean-imputed)"].append(clustering_accuracy(y, imputed.labels_))
    kmeans = KMeans(3, n_init=10, random_state=0).fit_predict(minmax_scale(np.hstack(filled)))
    acc["k-means (mean-imputed)"].append(clustering_accuracy(y, kmeans))
    print(f"missing {rate:.0%}: views missing per view {incomplete.n_missing_.tolist()}, "
          + ", ".join(f"{name} {values[-1]:.3f}" for name, values in acc.items()))
print(f"{time.perf_counter() - t0:.0f} s")

# %%
# ``n_missing_`` counts, per view, the training samples without it. ``predict`` and ``transform`` take new
# samples with missing views too: they average the soft cluster assignments over the views each sample has.
new_rows = [v[[0, 100, 200]].copy() for v in views]
new_rows[0][0] = np.nan  # the first new sample lacks view 0
new_rows[1][1] = np.nan  # the second lacks view 1
print(incomplete.predict(new_rows), incomplete.transform(new_rows).round(2))

# %%
# Accuracy against the missing rate
# ---------------------------------
fig, ax = plt.subplots(figsize=(6, 4))
for (name, values), marker in zip(acc.items(), "osd", strict=True):
    ax.plot(np.array(rates) * 100, values, marker=marker, label=name)
ax.set_xlabel("samples with missing views (%)")
ax.set_ylabel("clustering accuracy")
ax.set_ylim(0, 1.02)
ax.legend()
ax.set_title("Blobs and rings, 3 clusters")
plt.tight_layout()
plt.show()
