"""
=================================
Compare the methods on the digits
=================================

Fit the single-view estimators (:class:`~skdeepclust.SeCu`, :class:`~skdeepclust.MTDC`,
:class:`~skdeepclust.HaDis`, :class:`~skdeepclust.SPC`) and k-means on the same data, scikit-learn's
8x8 digits, and compare their ACC and NMI against the true digits.

Every deep method here runs with **small, fast settings** (a narrow backbone, a few dozen epochs),
far below the defaults and further below the papers' schedules, so this is a smoke test of the
workflow, not a ranking of the methods: on another data set, or with longer training, the order can
change. For a fair comparison use the same budget for all, several seeds, and the benchmark scripts
(see the Benchmarks page).
"""

# %%
# The data and the models
# -----------------------
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits

from skdeepclust import MTDC, SPC, HaDis, SeCu
from skdeepclust.metrics import evaluate_clustering

X, y = load_digits(return_X_y=True)
X = X / 16.0  # images as flattened rows in [0, 1]

images = dict(n_clusters=10, image_shape=(1, 8, 8), device="cpu", random_state=0)
small = dict(hidden_dims=(16, 32, 64), batch_size=64)  # a narrow conv backbone, more steps per epoch
models = {
    "KMeans (pixels)": KMeans(n_clusters=10, n_init=10, random_state=0),
    "SeCu": SeCu(n_epochs=30, n_epochs_warmup=5, **small, **images),
    "MTDC": MTDC(n_epochs=25, **small, **images),
    "HaDis": HaDis(n_epochs=25, n_epochs_warmup=5, **small, **images),
    # SPC: an ensemble of 3 small MLP autoencoders whose codes vote after a UMAP embedding each.
    "SPC": SPC(
        n_members=3,
        autoencoder="mlp",
        hidden_dims=(128,),
        n_epochs_pretrain=10,
        n_epochs_round=3,
        max_rounds=2,
        **images,
    ),
}

# %%
# Fit and score
# -------------
results = {}
for name, model in models.items():
    t0 = time.perf_counter()
    labels = model.fit_predict(X)
    seconds = time.perf_counter() - t0
    results[name] = {**evaluate_clustering(y, labels), "seconds": seconds}
    r = results[name]
    print(f"{name:<16} ACC={r['acc']:.3f}  NMI={r['nmi']:.3f}  ARI={r['ari']:.3f}  ({seconds:.1f} s)")

# %%
# Bar chart
# ---------
names = list(results)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [2, 1]})
ax = axes[0]
width = 0.38
x = np.arange(len(names))
for i, metric in enumerate(["acc", "nmi"]):
    bars = ax.bar(x + (i - 0.5) * width, [results[n][metric] for n in names], width, label=metric.upper())
    ax.bar_label(bars, fmt="%.2f", fontsize=7)
ax.set_xticks(x, names, rotation=20)
ax.set_ylim(0, 1.15)
ax.set_ylabel("score")
ax.legend(loc="upper center", ncol=2)
ax.set_title("Digits: clustering quality (small settings)")

ax = axes[1]
ax.barh(names, [results[n]["seconds"] for n in names], color="gray")
ax.invert_yaxis()
ax.set_xlabel("fit seconds (this machine)")
ax.set_title("Fit time")
fig.tight_layout()
plt.show()
