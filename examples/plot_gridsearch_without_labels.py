"""
====================================
Hyperparameter search without labels
====================================

Clustering data usually come without labels, so ``GridSearchCV``'s usual scorers (accuracy, F1)
are unavailable. skdeepclust's estimators have a **label-free** ``score``: the silhouette of the
predicted clusters in the embedding the method clusters in (``transform``), in ``[-1, 1]``,
higher is better. :func:`skdeepclust.metrics.silhouette_scorer` computes the same for any fitted
clusterer or pipeline.

Here a :class:`~sklearn.pipeline.Pipeline` (scaling, then :class:`~skdeepclust.SeCu`) is tuned over
its learning rate with :class:`~sklearn.model_selection.GridSearchCV`, never seeing a label. The
digits do have labels, so at the end we check the choice against them.

The silhouette is meant to compare settings of **one** method that keep the embedding space
(learning rates, temperatures, epochs, loss weights); it is not a fair judge across numbers of
clusters on a soft-assignment embedding, nor across methods.
"""

# %%
# A pipeline that takes raw pixels
# --------------------------------
# The digits' pixels run from 0 to 16; SeCu with ``image_shape`` wants values in [0, 1].
# ``MinMaxScaler(clip=True)`` does that inside the pipeline, and clips the held-out folds of the
# search into [0, 1] too. The estimator settings are small so that the search is quick.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skdeepclust import SeCu
from skdeepclust.metrics import evaluate_clustering, silhouette_scorer

X, y = load_digits(return_X_y=True)  # y is kept aside for the final check only

pipe = make_pipeline(
    MinMaxScaler(clip=True),
    SeCu(
        n_clusters=10,
        image_shape=(1, 8, 8),
        hidden_dims=(16, 32, 64),
        batch_size=64,
        max_epochs=25,
        warmup_epochs=3,
        device="cpu",
        random_state=0,
    ),
)
print(pipe)

# %%
# The search
# ----------
# Three learning rates, two folds: each candidate is trained on one half of the data and scored on
# the other, then the best is refitted on all of it. ``search.fit(X)`` gets no ``y``.
# Leaving ``scoring`` out would use the pipeline's ``score``, which is the same silhouette; passing
# :func:`~skdeepclust.metrics.silhouette_scorer` makes the choice explicit and also works for
# estimators without such a ``score``.
search = GridSearchCV(pipe, {"secu__lr": [0.05, 0.2, 0.8]}, scoring=silhouette_scorer, cv=2)
t0 = time.perf_counter()
search.fit(X)
print(f"search done in {time.perf_counter() - t0:.1f} s")

results = search.cv_results_
for lr, mean, std in zip(results["param_secu__lr"], results["mean_test_score"], results["std_test_score"], strict=True):
    print(f"lr={lr:<5} silhouette={mean:.3f} ± {std:.3f}")
print("best:", search.best_params_)

# %%
# The refitted pipeline is a ready-to-use model of the whole data set.
labels = search.best_estimator_.predict(X)
print("cluster sizes:", np.bincount(labels, minlength=10))

# %%
# Check the choice against the labels
# -----------------------------------
# This is the step you cannot do on unlabelled data. We compare the selected model with k-means on
# the same scaled pixels.
kmeans_labels = KMeans(10, n_init=10, random_state=0).fit_predict(MinMaxScaler().fit_transform(X))
for name, pred in [(f"SeCu, lr={search.best_params_['secu__lr']}", labels), ("KMeans (pixels)", kmeans_labels)]:
    s = evaluate_clustering(y, pred)
    print(f"{name:<16} ACC={s['acc']:.3f}  NMI={s['nmi']:.3f}  ARI={s['ari']:.3f}")

# %%
# Plot the search
# ---------------
fig, ax = plt.subplots(figsize=(5.5, 3.5))
lrs = [f"{lr:g}" for lr in results["param_secu__lr"]]
ax.errorbar(np.arange(len(lrs)), results["mean_test_score"], yerr=results["std_test_score"], marker="o", capsize=4)
ax.set_xticks(np.arange(len(lrs)), lrs)
ax.set_xlim(-0.5, len(lrs) - 0.5)
ax.set_xlabel("SeCu learning rate (secu__lr)")
ax.set_ylabel("held-out silhouette")
ax.set_title("Label-free grid search (mean ± std over 2 folds)")
fig.tight_layout()
plt.show()
