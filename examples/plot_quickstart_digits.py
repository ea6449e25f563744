"""
==========================================
Quick start: deep clustering of the digits
==========================================

Cluster the 1797 handwritten digits that ship with scikit-learn with :class:`~skdeepclust.SeCu`,
evaluate the clusters against the true digits with ACC, NMI and ARI, and compare with k-means on
the raw pixels.

The digits are 8x8 grey images with values 0..16. skdeepclust takes images as **flattened rows in
[0, 1]** plus their shape ``image_shape=(channels, height, width)``, which switches on a small
convolutional network and image augmentations.
"""

# %%
# Load the images
# ---------------
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits

from skdeepclust import SeCu
from skdeepclust.metrics import evaluate_clustering

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel values to [0, 1]
print(X.shape, X.min(), X.max())

# %%
# Fit SeCu
# --------
# The estimator's defaults train for 4500 optimizer steps (300 epochs here). To keep this example short we train for 40
# epochs, with a narrower convolutional backbone (``hidden_dims`` are its channels) and batches of
# 64 so that each epoch has more optimizer steps on this small data set. ``device="cpu"`` and a
# fixed ``random_state`` make the run reproducible; ``device="auto"`` (the default) would use a GPU
# when there is one.
model = SeCu(
    n_clusters=10,
    image_shape=(1, 8, 8),
    hidden_dims=(16, 32, 64),
    batch_size=64,
    n_epochs=40,
    n_epochs_warmup=5,
    device="cpu",
    random_state=0,
)
t0 = time.perf_counter()
labels = model.fit_predict(X)
print(f"SeCu fitted in {time.perf_counter() - t0:.1f} s")

# %%
# Evaluate against the true digits
# --------------------------------
# The labels ``y`` are used only here, to evaluate. Cluster ids are arbitrary, so the clustering
# accuracy (ACC) first matches clusters to digits one-to-one (Hungarian algorithm). NMI and ARI do
# not need a matching. All three are 1.0 for a perfect clustering.
kmeans_labels = KMeans(n_clusters=10, n_init=10, random_state=0).fit_predict(X)
scores = {"SeCu": evaluate_clustering(y, labels), "KMeans (pixels)": evaluate_clustering(y, kmeans_labels)}
for name, s in scores.items():
    print(f"{name:<16} ACC={s['acc']:.3f}  NMI={s['nmi']:.3f}  ARI={s['ari']:.3f}")

# %%
# A fitted estimator works like any scikit-learn clusterer: ``predict`` assigns new images to the
# learned clusters (here, the first five training images, which gives ``labels_[:5]`` back),
# ``transform`` returns the embedding the method clusters in, and ``history_`` the training curves.
print("predict:", model.predict(X[:5]), "labels_:", model.labels_[:5])
print("embedding:", model.transform(X).shape)
print("last epoch:", {k: round(v, 3) if isinstance(v, float) else v for k, v in model.history_[-1].items()})

# %%
# Look at the clusters
# --------------------
# Ten random images of each cluster, one row per cluster.
rng = np.random.default_rng(0)
fig, axes = plt.subplots(10, 10, figsize=(6, 6.4))
for k in range(10):
    members = np.flatnonzero(labels == k)
    shown = rng.choice(members, size=min(10, members.size), replace=False)
    for j in range(10):
        ax = axes[k, j]
        ax.set_axis_off()
        if j < shown.size:
            ax.imshow(X[shown[j]].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    axes[k, 0].text(-2, 4, f"{k} ({members.size})", ha="right", va="center", fontsize=8)
fig.suptitle("SeCu clusters of the digits (cluster id and size)")
fig.subplots_adjust(left=0.15, wspace=0.05, hspace=0.05)

# %%
# And the scores side by side.
fig, ax = plt.subplots(figsize=(6, 3.5))
metrics = ["acc", "nmi", "ari"]
width = 0.38
for i, (name, s) in enumerate(scores.items()):
    ax.bar(np.arange(3) + (i - 0.5) * width, [s[m] for m in metrics], width, label=name)
ax.set_xticks(np.arange(3), [m.upper() for m in metrics])
ax.set_ylim(0, 1)
ax.set_ylabel("score")
ax.legend(loc="lower right")
ax.set_title("Digits: SeCu vs k-means on pixels")
fig.tight_layout()
plt.show()
