"""
=================================
Training curves from ``history_``
=================================

Every estimator records its training as it goes: after ``fit``, ``history_`` is a **list of dicts,
one per epoch**, with the training ``stage``, the ``epoch`` within it, the mean of each loss term
over the epoch's batches, the total ``loss``, the number of optimizer ``steps`` and the
``seconds`` it took. No callback to register, no logger to configure.

We plot the curves of a three-stage method (:class:`~skdeepclust.DistilMVC`) and of a one-stage
method (:class:`~skdeepclust.MTDC`).
"""

# %%
# A multi-stage method: DistilMVC
# -------------------------------
# Two views of the digits (:func:`skdeepclust.datasets.load_digits_views`: the pixels, and the
# image gradients), with small networks and short stages to keep the example quick.
import time
from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skdeepclust import MTDC, DistilMVC
from skdeepclust.datasets import load_digits_views
from skdeepclust.metrics import evaluate_clustering

data = load_digits_views()
dmvc = DistilMVC(
    n_clusters=10,
    hidden_dims=(128, 256),
    latent_dim=64,
    projection_hidden_dim=64,
    feature_dim=32,
    n_epochs_pretrain=20,
    n_epochs_contrastive=40,
    n_epochs_distill=20,
    batch_size=128,
    device="cpu",
    random_state=0,
)
t0 = time.perf_counter()
dmvc.fit(data.views)
scores = evaluate_clustering(data.y, dmvc.labels_)
print(f"DistilMVC fitted in {time.perf_counter() - t0:.1f} s;", {k: round(v, 3) for k, v in scores.items()})

# %%
# ``history_`` is plain Python: index it, loop over it, or turn it into a table with
# ``pandas.DataFrame(model.history_)``.
print(len(dmvc.history_), "records; the first of each stage:")
seen = set()
for record in dmvc.history_:
    if record["stage"] not in seen:
        seen.add(record["stage"])
        print({k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()})


# %%
# A small helper groups the records by stage and plots every loss term of each stage.
def curves_by_stage(history):
    """``{stage: {term: [values per epoch]}}``, leaving out the bookkeeping entries."""
    out = defaultdict(lambda: defaultdict(list))
    for record in history:
        for key, value in record.items():
            if key not in ("stage", "epoch", "steps", "seconds"):
                out[record["stage"]][key].append(value)
    return out


def plot_stages(history, title):
    stages = curves_by_stage(history)
    fig, axes = plt.subplots(1, len(stages), figsize=(4.2 * len(stages), 3.4), squeeze=False)
    for ax, (stage, terms) in zip(axes[0], stages.items(), strict=True):
        for term, values in terms.items():
            ax.plot(np.arange(1, len(values) + 1), values, label=term, lw=2 if term == "loss" else 1.2)
        ax.set_title(f"stage {stage!r}")
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    axes[0, 0].set_ylabel("mean loss over the epoch's batches")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


plot_stages(dmvc.history_, "DistilMVC on two views of the digits")

# %%
# Stage 1 trains the autoencoders on reconstruction (``rec``); stage 2 adds the cross-view
# contrasts (``instance``, ``cluster``) and the weighted mutual-information term (``mi``); stage 3
# distils the k-means pseudo-labels into the student (``distill``, one full-batch step per epoch).
#
# A one-stage method: MTDC
# ------------------------
# MTDC records its four terms: the two Contrastive Clustering terms (``instance``, ``cluster``)
# and the two mutual-teaching terms (``hcr``, ``pcl``), already multiplied by their weights.
X, y = load_digits(return_X_y=True)
mtdc = MTDC(
    n_clusters=10,
    image_shape=(1, 8, 8),
    hidden_dims=(16, 32, 64),
    n_epochs=25,
    batch_size=64,
    device="cpu",
    random_state=0,
)
t0 = time.perf_counter()
mtdc.fit(X / 16.0)
scores = evaluate_clustering(y, mtdc.labels_)
print(f"MTDC fitted in {time.perf_counter() - t0:.1f} s;", {k: round(v, 3) for k, v in scores.items()})
plot_stages(mtdc.history_, "MTDC on the digit images")

# %%
# Time per epoch
# --------------
# ``seconds`` makes it easy to see where the time goes, stage by stage.
fig, ax = plt.subplots(figsize=(6, 3.2))
for name, model in [("DistilMVC", dmvc), ("MTDC", mtdc)]:
    seconds = [r["seconds"] for r in model.history_]
    ax.plot(np.cumsum(seconds), marker=".", label=name)
ax.set_xlabel("epoch (all stages in order)")
ax.set_ylabel("cumulative seconds")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# ``verbose=1`` prints the same numbers live, as a progress bar per stage; a fit interrupted with
# Ctrl-C keeps the epochs completed so far in ``history_`` and sets ``interrupted_``.
