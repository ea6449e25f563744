"""
=======================================================
Multi-view clustering of a ``.mat`` file with DistilMVC
=======================================================

Multi-view clustering research passes its data sets around as MATLAB ``.mat`` files (MNIST-USPS,
BDGP, Caltech101, HW, ...), with the views in a cell array or under numbered keys, sometimes stored
transposed, and the labels under ``Y``, ``gt`` or ``truth``.
:func:`skdeepclust.datasets.load_mat_views` reads these layouts into a list of views.

So that the example runs anywhere, we first *write* a small ``.mat`` file with two synthetic views
(:func:`skdeepclust.datasets.make_multiview_blobs`), in one of those layouts, then read it back and
cluster it with :class:`~skdeepclust.DistilMVC`. A real file loads the same way::

    data = load_mat_views("MNIST_USPS.mat")
"""

# %%
# Write a multi-view ``.mat`` file
# --------------------------------
# Four clusters of 600 samples, seen through two views of 20 and 10 features. We store the views
# the way many research files do: a ``1 x 2`` cell array ``X`` whose second view is transposed
# (features x samples), and the labels as a column vector ``Y`` numbered from 1.
import shutil
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import scipy.io
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

from skdeepclust import DistilMVC, ViewScaler, stack_views
from skdeepclust.datasets import load_mat_views, make_multiview_blobs
from skdeepclust.metrics import evaluate_clustering

blobs = make_multiview_blobs(n_samples=600, n_clusters=4, view_sizes=(20, 10), cluster_std=1.5, random_state=0)

cells = np.empty((1, 2), dtype=object)  # a MATLAB cell array
cells[0, 0] = blobs.views[0]  # 600 x 20
cells[0, 1] = blobs.views[1].T  # 10 x 600: stored transposed
tmp = Path(tempfile.mkdtemp())
path = tmp / "toy_multiview.mat"
scipy.io.savemat(path, {"X": cells, "Y": (blobs.y + 1)[:, None]})
print("wrote", path.name, {k: v.shape for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")})

# %%
# Read it back
# ------------
# :func:`~skdeepclust.datasets.load_mat_views` finds the cell array and the labels, turns the
# transposed view the right way round (from the number of labels) and renumbers the labels from 0.
data = load_mat_views(path)
shutil.rmtree(tmp)  # the views are in memory now
print("views:", [v.shape for v in data.views], "| view_sizes:", data.view_sizes)
print("n_clusters:", data.n_clusters, "| labels:", np.unique(data.y))

# %%
# Cluster with DistilMVC
# ----------------------
# :class:`~skdeepclust.DistilMVC` takes the list of views directly. Its defaults are sized for data
# sets of thousands of samples with hundreds of features; for this small example we use small
# autoencoders, short stages and a higher learning rate. Each view is min-max scaled inside the
# estimator.
model = DistilMVC(
    n_clusters=data.n_clusters,
    hidden_dims=(128, 256),
    latent_dim=64,
    projection_hidden_dim=64,
    feature_dim=32,
    n_epochs_pretrain=30,
    n_epochs_contrastive=50,
    n_epochs_distill=30,
    batch_size=64,
    lr=1e-3,
    device="cpu",
    random_state=0,
)
t0 = time.perf_counter()
labels = model.fit_predict(data.views)
print(f"DistilMVC fitted in {time.perf_counter() - t0:.1f} s")

# %%
# Compare with k-means on the concatenated views, each min-max scaled with
# :class:`~skdeepclust.ViewScaler` (the usual multi-view baseline). On small, low-dimensional
# synthetic views like these, k-means is a strong baseline; the deep method is meant for real views
# with many features. The point here is the workflow, which is the same on a real file.
X, sizes = stack_views(data.views)  # one array + the width of each view
X_scaled = ViewScaler(view_sizes=sizes).fit_transform(X)
kmeans_labels = KMeans(data.n_clusters, n_init=10, random_state=0).fit_predict(X_scaled)

for name, pred in [("DistilMVC", labels), ("KMeans (scaled views)", kmeans_labels)]:
    s = evaluate_clustering(data.y, pred)
    print(f"{name:<22} ACC={s['acc']:.3f}  NMI={s['nmi']:.3f}  ARI={s['ari']:.3f}")

# %%
# The stacked array with ``view_sizes`` is the same input in the layout scikit-learn tools
# expect (they treat a Python list as a list of samples). A model fitted on the list predicts the
# stacked rows too, as long as the views have the same widths:
print("same predictions:", np.array_equal(model.predict(X), labels))

# %%
# Plot the clusters in each view
# ------------------------------
# Each view projected on its first two principal components, coloured by the true clusters
# (top) and by DistilMVC's clusters (bottom).
fig, axes = plt.subplots(2, 2, figsize=(8, 7))
for v, view in enumerate(data.views):
    xy = PCA(n_components=2).fit_transform(view)
    for row, (title, colours) in enumerate([("true clusters", data.y), ("DistilMVC", labels)]):
        ax = axes[row, v]
        ax.scatter(xy[:, 0], xy[:, 1], c=colours, s=8, cmap="tab10", vmin=0, vmax=9)
        ax.set_title(f"view {v + 1} ({view.shape[1]} features): {title}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
fig.tight_layout()
plt.show()
