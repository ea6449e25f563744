"""Ablations: private subclasses of the estimators that each change one part of a method.

They take their estimator's parameters and behave as it does except for the class attribute they override. The
benchmarks fit them like any estimator (``run_all.py``'s variant rows); they are not part of the package's API.

- :class:`HaDisNoHSD`: HaDis without hardness-aware self-distillation (``_hsd_weight = 0``), i.e. the ProPos
  objective (diffused alignment + prototype contrast). HaDis without the prototype contrast is a parameter:
  ``HaDis(prototype_weight=0)``.

MTDC without its mutual terms (Contrastive Clustering) is a parameter setting too: ``MTDC(hcr_weight=0,
supcon_weight=0)``.
"""

from skdeepclust import HaDis

__all__ = ["HaDisNoHSD"]


class HaDisNoHSD(HaDis):
    """HaDis without HSD: the ProPos objective (diffused alignment + prototype contrast)."""

    _hsd_weight = 0.0
