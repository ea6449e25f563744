"""HaDis ablations: private subclasses of :class:`~skdeepclust.HaDis` that change one part of the method.

They take HaDis's parameters and behave as HaDis except for the class attribute they override; the
benchmarks fit them like any estimator (see ``benchmarks/results/studies/hadis_ablations.md``).

- :class:`HaDisNoHSD`: without hardness-aware self-distillation (``_hsd_weight = 0``), i.e. the ProPos
  objective (DSA + PSL).

The other HaDis ablation, without the prototype contrast, is a parameter: ``HaDis(prototype_weight=0)``.
"""

from skdeepclust import HaDis


class HaDisNoHSD(HaDis):
    """HaDis without HSD: the ProPos objective (diffused alignment + prototype contrast)."""

    _hsd_weight = 0.0
