"""DistilMVC's pseudo-label ablations: private subclasses for the benchmark rows, not part of the package's API.

By default DistilMVC's stage-3 pseudo-labels are the "auto" consensus: spectral clusterings of the k-NN graph
of the learned features, of the input's graph and of their sum, the most modular on the sum, aligned once to
the student's prediction. The subclasses here override the class attribute the estimator reads:

- :class:`_SpectralPseudoLabels`: the learned features' graph only (the latent partition), aligned once;
- :class:`_KMeansPseudoLabels`: the reference code's pseudo-labels, one k-means (``_kmeans_n_init`` restarts)
  of each view's min-max-scaled teacher features, aligned anew to each view's student in every batch.

They take every parameter of :class:`~skdeepclust.DistilMVC`. The reference pipeline at the CPU network sizes
is ``_KMeansPseudoLabels(n_epochs_pretrain=50, n_epochs_contrastive=50, n_epochs_distill=50,
distill_batch_size=10000, n_pair_neighbors=0)``.
"""

from __future__ import annotations

from skdeepclust import DistilMVC

__all__ = ["_KMeansPseudoLabels", "_SpectralPseudoLabels"]


class _SpectralPseudoLabels(DistilMVC):
    """DistilMVC whose pseudo-labels are the latent partition alone (no input graph, no ``consensus_``)."""

    _pseudo_labels = "spectral"


class _KMeansPseudoLabels(DistilMVC):
    """DistilMVC with the reference's pseudo-labels: k-means of each view's teacher features."""

    _pseudo_labels = "kmeans"
    _kmeans_n_init = 100
