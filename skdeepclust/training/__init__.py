"""The one training loop every estimator uses, its callbacks and its schedules.

- :mod:`~skdeepclust.training._trainer`: :class:`Trainer` (stages of mini-batch epochs over in-memory
  tensors), :class:`LoopState`, batch arithmetic and :func:`embed_batches`;
- :mod:`~skdeepclust.training._callbacks`: :class:`Callback`, :class:`EMAUpdate`, :class:`LRSchedule`,
  :class:`KeepBest`, :class:`StopWhenStable`;
- :mod:`~skdeepclust.training._schedules`: :func:`warmup_cosine` and :func:`cosine_momentum`.
"""

from ._callbacks import Callback, EMAUpdate, KeepBest, LRSchedule, StopWhenStable
from ._schedules import cosine_momentum, warmup_cosine
from ._trainer import (
    EMBED_BATCH,
    STEP_SCHEDULE_MAX_EPOCHS,
    LoopState,
    NonFiniteLossError,
    Trainer,
    clamp_batch_size,
    embed_batches,
    epoch_batches,
    epochs_for_steps,
    n_batches,
)

__all__ = [
    "EMBED_BATCH",
    "STEP_SCHEDULE_MAX_EPOCHS",
    "Callback",
    "EMAUpdate",
    "KeepBest",
    "LRSchedule",
    "LoopState",
    "NonFiniteLossError",
    "StopWhenStable",
    "Trainer",
    "clamp_batch_size",
    "cosine_momentum",
    "embed_batches",
    "epoch_batches",
    "epochs_for_steps",
    "n_batches",
    "warmup_cosine",
]
