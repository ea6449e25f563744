"""Ablations: private subclasses of the estimators that each change one part of a method.

They take their estimator's parameters and behave as it does except for the class attribute they override. The
benchmarks fit them like any estimator (``run_all.py``'s variant rows); they are not part of the package's API.

- :class:`DistilMVCLatentPseudoLabels`: DistilMVC whose stage-3 pseudo-labels are the spectral clustering of the
  learned features' k-NN graph alone (the latent partition), with no input graph and no ``consensus_``;
- :class:`DistilMVCKMeansPseudoLabels`: DistilMVC with the reference code's pseudo-labels, one k-means
  (``_kmeans_n_init`` restarts) of each view's min-max-scaled teacher features, aligned anew to each view's
  student in every batch. The reference pipeline at the CPU network sizes is
  ``DistilMVCKMeansPseudoLabels(n_epochs_pretrain=50, n_epochs_contrastive=50, n_epochs_distill=50,
  distill_batch_size=10000, n_pair_neighbors=0)``;
- :class:`SPCRawCodes`: SPC whose voters' Gaussian mixtures cluster the members' raw latent codes, without the
  2-D embedding (the reference code's UMAP-off ablation; ``embedding`` is ignored). Faster, and clearly worse
  (``results/studies/spc_default_embedding.md``);
- :class:`HaDisNoHSD`: HaDis without hardness-aware self-distillation (``_hsd_weight = 0``), i.e. the ProPos
  objective (diffused alignment + prototype contrast). HaDis without the prototype contrast is a parameter:
  ``HaDis(prototype_weight=0)``.

- :class:`MTDCWeakBalance`: MTDC whose cluster contrast weighs its entropy balance term 0.1 instead of 1
  (``_entropy_weight``; ``results/studies/balance_priors.md``).

MTDC without its mutual terms (Contrastive Clustering) is a parameter setting too: ``MTDC(hcr_weight=0,
supcon_weight=0)``.
"""

from skdeepclust import MTDC, SPC, DistilMVC, HaDis

__all__ = ["DistilMVCKMeansPseudoLabels", "DistilMVCLatentPseudoLabels", "HaDisNoHSD", "MTDCWeakBalance",
           "SPCRawCodes"]


class DistilMVCLatentPseudoLabels(DistilMVC):
    """DistilMVC whose pseudo-labels are the latent partition alone (no input graph, no ``consensus_``)."""

    _pseudo_labels = "spectral"


class DistilMVCKMeansPseudoLabels(DistilMVC):
    """DistilMVC with the reference's pseudo-labels: k-means of each view's teacher features."""

    _pseudo_labels = "kmeans"
    _kmeans_n_init = 100


class HaDisNoHSD(HaDis):
    """HaDis without HSD: the ProPos objective (diffused alignment + prototype contrast)."""

    _hsd_weight = 0.0


class MTDCWeakBalance(MTDC):
    """MTDC with the cluster contrast's entropy balance term at a tenth of its weight."""

    _entropy_weight = 0.1


class SPCRawCodes(SPC):
    """SPC whose voters cluster the members' raw codes (no UMAP or t-SNE embedding)."""

    _embed_codes = False
