"""Schedules of the training loop: the learning-rate warm-up and cosine decay, and the EMA momentum."""

from __future__ import annotations

import math

__all__ = ["cosine_momentum", "warmup_cosine"]


def warmup_cosine(e: float, *, n_warmup: float, n_epochs: float, start: float = 0.0,
                  min_warmup: float = 0.0) -> float:
    """Learning-rate factor at fractional epoch ``e``: zero, then a linear warm-up, then a cosine decay.

    ``0`` up to epoch ``start``; then ``max(min_warmup, e - start) / n_warmup`` for ``n_warmup`` epochs;
    then ``(1 + cos(pi * p)) / 2`` with ``p = (e - start - n_warmup) / (n_epochs - start - n_warmup)``
    (at most 1), down to 0 at epoch ``n_epochs``. Use it as a factor of
    :class:`~skdeepclust.training.LRSchedule`.

    Parameters
    ----------
    e : float
        Fractional epoch of the step.
    n_warmup : float
        Epochs of linear warm-up (0: none).
    n_epochs : float
        Epoch at which the factor reaches 0.
    start : float, default=0.0
        Epochs before the warm-up at factor 0.
    min_warmup : float, default=0.0
        Lower bound of the warm-up's progress ``e - start``.

    Returns
    -------
    float

    Examples
    --------
    >>> [round(warmup_cosine(e, n_warmup=2, n_epochs=10), 3) for e in (1, 2, 6, 10)]
    [0.5, 1.0, 0.5, 0.0]
    >>> warmup_cosine(0.5, n_warmup=2, n_epochs=10, start=1)
    0.0
    """
    if e <= start:
        return 0.0
    if n_warmup > 0 and e <= start + n_warmup:
        return max(min_warmup, e - start) / n_warmup
    progress = (e - start - n_warmup) / max(1, n_epochs - start - n_warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def cosine_momentum(step: int, total: int, base: float) -> float:
    """BYOL's cosine EMA momentum ``1 - (1 - base) (cos(pi step / total) + 1) / 2``.

    Parameters
    ----------
    step : int
        Current step.
    total : int
        Step at which the momentum reaches 1.
    base : float
        Momentum at step 0.

    Returns
    -------
    float
        The momentum ``tau`` for this step.
    """
    return 1.0 - (1.0 - base) * (math.cos(math.pi * step / total) + 1.0) / 2.0
