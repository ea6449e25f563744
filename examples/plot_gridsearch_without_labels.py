"""
====================================
Hyperparameter search without labels
====================================

Clustering data usually come without labels, so ``GridSearchCV``'s usual scorers (accuracy, F1)
are unavailable. skdeepclust's estimators have a **label-free** ``score``: the modularity of the
predicted clusters on the 10-nearest-neighbour graph of the input, that is, the share of
neighbour pairs that fall in one cluster minus the share expected by chance (higher is better, at
most 1). Every candidate is judged on the same graph, so the scores of different settings are
comparable. :func:`skdeepclust.metrics.modularity_scorer` computes the same for any fitted clusterer
or pipeline.

Here a :class:`~sklearn.pipeline.Pipeline` (scaling, then :class:`~skdeepclust.SeCu`) is tuned over
its learning rate with :class:`~sklearn.model_selection.GridSearchCV`, never seeing a label. The
digits do have labels, so at the end we check the choice against them. The User Guide page
:doc:`/user_guide/model_selection` has the measured regret of this criterion and of the others
that were tried.
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
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skdeepclust import SeCu
from skdeepclust.metrics import clustering_accuracy, evaluate_clustering, modularity_scorer

X, y = load_digits(return_X_y=True)  # y is kept aside for the final check only

pipe = make_pipeline(
    MinMaxScaler(clip=True),
    SeCu(
        n_clusters=10,
        image_shape=(1, 8, 8),
        hidden_dims=(16, 32, 64),
        batch_size=64,
        n_epochs=25,
        n_epochs_warmup=3,
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
# Leaving ``scoring`` out uses the pipeline's ``score``, which is the same modularity; passing
# :func:`~skdeepclust.metrics.modularity_scorer` makes the choice explicit and also works for
# estimators without such a ``score``.
search = GridSearchCV(pipe, {"secu__lr": [0.05, 0.2, 0.8]}, scoring=modularity_scorer, cv=2)
t0 = time.perf_counter()
search.fit(X)
print(f"search done in {time.perf_counter() - t0:.1f} s")

results = search.cv_results_
for lr, mean, std in zip(results["param_secu__lr"], results["mean_test_score"], results["std_test_score"], strict=True):
    print(f"lr={lr:<5} modularity={mean:.3f} ± {std:.3f}")
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
# Did the score rank the candidates as the labels would? Each learning rate, fitted on all the data:
# its modularity (no labels) against its accuracy (labels).
lrs = list(results["param_secu__lr"])
fitted = [clone(pipe).set_params(secu__lr=lr).fit(X) for lr in lrs]
modularity = [m.score(X) for m in fitted]
accuracy = [clustering_accuracy(y, m.predict(X)) for m in fitted]
for lr, q, acc in zip(lrs, modularity, accuracy, strict=True):
    print(f"lr={lr:<5} modularity={q:.3f}  ACC={acc:.3f}")

# %%
# Plot the search
# ---------------
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ticks = [f"{lr:g}" for lr in lrs]
ax1.errorbar(np.arange(len(lrs)), results["mean_test_score"], yerr=results["std_test_score"], marker="o", capsize=4)
ax1.set_xticks(np.arange(len(lrs)), ticks)
ax1.set_xlim(-0.5, len(lrs) - 0.5)
ax1.set_xlabel("SeCu learning rate (secu__lr)")
ax1.set_ylabel("held-out modularity")
ax1.set_title("Label-free grid search (2 folds)")
ax2.plot(modularity, accuracy, "o")
for lr, q, acc in zip(ticks, modularity, accuracy, strict=True):
    ax2.annotate(f"lr={lr}", (q, acc), textcoords="offset points", xytext=(4, 4))
ax2.set_xlabel("modularity (no labels)")
ax2.set_ylabel("ACC (labels)")
ax2.set_title("Score against accuracy, all data")
fig.tight_layout()
plt.show()
