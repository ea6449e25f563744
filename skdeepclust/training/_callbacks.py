"""Callbacks of the :class:`~skdeepclust.training.Trainer`: each receives the :class:`LoopState`.

:class:`EMAUpdate` moves a teacher towards a student after every step, :class:`LRSchedule` sets every
parameter group's learning rate from a factor of the fractional epoch, :class:`KeepBest` scores
checkpoints, keeps the best weights and ends a stage when the score stops improving, and
:class:`StopWhenStable` ends a stage when the partition stops changing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ..cluster import align_labels
from ._trainer import LoopState

__all__ = ["Callback", "EMAUpdate", "KeepBest", "LRSchedule", "StopWhenStable"]


class Callback:
    """Hook into a :class:`~skdeepclust.training.Trainer` stage; override any method.

    Each method receives the :class:`~skdeepclust.training.LoopState`; a callback ends the stage early
    with :meth:`LoopState.stop`.
    """

    def on_epoch_begin(self, state: LoopState) -> None:
        """Run before the first batch of an epoch (before its batches are drawn)."""

    def on_batch_end(self, state: LoopState) -> None:
        """Run after each optimizer step."""

    def on_epoch_end(self, state: LoopState, record: dict) -> None:
        """Run after the last batch of an epoch; ``record`` is its history row (may be extended)."""


class EMAUpdate(Callback):
    """Exponential moving average of a student module into a teacher after each step.

    ``teacher <- tau * teacher + (1 - tau) * student``, with ``tau = momentum(state)`` per step.

    Parameters
    ----------
    teacher, student : torch.nn.Module
        Modules of identical structure.
    momentum : callable
        ``momentum(state) -> tau``, given the :class:`LoopState` after the step.
    """

    def __init__(self, teacher: nn.Module, student: nn.Module, momentum: Callable[[LoopState], float]):
        self.teacher = teacher
        self.student = student
        self.momentum = momentum

    def on_batch_end(self, state: LoopState) -> None:  # noqa: D102
        tau = self.momentum(state)
        with torch.no_grad():
            t = list(self.teacher.parameters())
            s = list(self.student.parameters())
            torch._foreach_lerp_(t, s, 1.0 - tau)


class KeepBest(Callback):
    """Score checkpoints of a stage, keep the weights of the best one, and stop when it stops improving.

    At the end of every epoch in ``at_epochs`` the modules are scored (``score(state)``, higher is
    better; the epoch's history row gets a ``"checkpoint_score"``). A checkpoint replaces the kept one
    when it scores higher, by more than ``margin`` while the kept one is the first checkpoint; with
    ``prefer_later`` a tie also goes to the later checkpoint. With ``patience``, the stage ends (with
    a ``"stop"`` entry in the history) after that many checkpoints in a row without a strictly higher
    score than every one before. :meth:`restore` loads the kept weights (and the optimizer's state at
    that checkpoint, when an optimizer is given), so that the next stage starts from them.

    Parameters
    ----------
    modules : sequence of torch.nn.Module
        Modules whose weights are kept.
    score : callable
        ``score(state) -> float``, called after the last batch of each epoch in ``at_epochs``.
    at_epochs : collection of int
        One-based epoch numbers to score.
    optimizer : torch.optim.Optimizer, default=None
        Optimizer whose state is kept with the weights (``None``: not kept).
    margin : float, default=0.0
        How much more than the first checkpoint a later one must score to replace it.
    prefer_later : bool, default=False
        Whether a later checkpoint with the kept one's score replaces it.
    patience : int, default=None
        Checkpoints without improvement after which the stage ends; ``None`` never ends it.

    Attributes
    ----------
    scores : dict
        Score of every checkpoint, by epoch.
    best_epoch : int or None
        Epoch of the kept checkpoint.
    """

    def __init__(self, modules: Sequence[nn.Module], score: Callable[[LoopState], float], at_epochs, *,
                 optimizer: torch.optim.Optimizer | None = None, margin: float = 0.0, prefer_later: bool = False,
                 patience: int | None = None):
        self.modules = list(modules)
        self.score = score
        self.at_epochs = frozenset(int(e) for e in at_epochs)
        self.optimizer = optimizer
        self.margin = float(margin)
        self.prefer_later = prefer_later
        self.patience = patience
        self.scores: dict[int, float] = {}
        self.best_epoch: int | None = None
        self._top: float | None = None  # highest score so far, and the checkpoints since it rose
        self._since_top = 0
        self._kept = None

    def _replaces(self, s: float) -> bool:
        if self.best_epoch is None:
            return True
        best = self.scores[self.best_epoch]
        if self.best_epoch == min(self.scores):
            best += self.margin
        return s > best or (self.prefer_later and s == best)

    def on_epoch_end(self, state: LoopState, record: dict) -> None:  # noqa: D102
        epoch = state.epoch + 1
        if epoch not in self.at_epochs:
            return
        s = self.score(state)
        record["checkpoint_score"] = self.scores[epoch] = s = float(s)
        if self._replaces(s):
            self.best_epoch = epoch
            self._kept = ([copy.deepcopy(m.state_dict()) for m in self.modules],
                          None if self.optimizer is None else copy.deepcopy(self.optimizer.state_dict()))
        if self._top is None or s > self._top:
            self._top, self._since_top = s, 0
        else:
            self._since_top += 1
        if self.patience is not None and self._since_top >= self.patience:
            state.stop(f"no higher checkpoint score in {self._since_top} checkpoints")

    def restore(self) -> int | None:
        """Load the kept weights; the epoch they are from (``None`` when no epoch was scored)."""
        if self._kept is not None:
            for m, saved in zip(self.modules, self._kept[0], strict=True):
                m.load_state_dict(saved)
            if self.optimizer is not None:
                self.optimizer.load_state_dict(self._kept[1])
            self._kept = None
        return self.best_epoch


class LRSchedule(Callback):
    """Per-step learning-rate schedule, one factor per parameter group (as ``torch.optim.lr_scheduler.LambdaLR``).

    Each group's rate is ``initial_lr * factor(e)``, ``e`` being the fractional epoch of the *next*
    step, ``epoch + k / n_batches`` with ``k`` the 1-based step within the epoch (so the first step of
    training sees ``e = 1 / n_batches``). Each group's starting ``lr`` is kept as ``initial_lr``.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Optimizer whose groups are scheduled.
    factor : callable or sequence of (callable or None)
        ``factor(e) -> float`` for every group, or one per group; ``None`` keeps that group's rate.
    """

    def __init__(self, optimizer: torch.optim.Optimizer,
                 factor: Callable[[float], float] | Sequence[Callable[[float], float] | None]):
        groups = optimizer.param_groups
        factors = list(factor) if isinstance(factor, Sequence) else [factor] * len(groups)
        if len(factors) != len(groups):
            raise ValueError(f"LRSchedule got {len(factors)} factors for {len(groups)} parameter groups.")
        self.optimizer, self.factors = optimizer, factors
        for group in groups:
            group.setdefault("initial_lr", group["lr"])

    def _apply(self, e: float) -> None:
        for group, factor in zip(self.optimizer.param_groups, self.factors, strict=True):
            if factor is not None:
                group["lr"] = group["initial_lr"] * factor(e)

    def on_epoch_begin(self, state: LoopState) -> None:  # noqa: D102
        self._apply(state.epoch + 1 / state.n_batches)

    def on_batch_end(self, state: LoopState) -> None:  # noqa: D102
        self._apply(state.epoch + (state.batch + 2) / state.n_batches)


class StopWhenStable(Callback):
    """End a stage once the clusters of a fixed set of rows stop changing.

    Every ``every`` epochs, ``assign()`` gives the cluster of each row of a fixed subsample; the share of
    rows whose cluster differs from the previous check (after matching the cluster ids one-to-one,
    :func:`~skdeepclust.cluster.align_labels`, so a renumbering is no change) is recorded as ``"changed"``
    in the epoch's history row. When it is below ``tol`` at ``patience`` checks in a row, and at least
    ``min_epochs`` epochs are done, the stage ends (:meth:`LoopState.stop`).

    Parameters
    ----------
    assign : callable
        ``assign() -> labels`` (array or tensor of int), the current clusters of the fixed rows, or ``None``
        while there are none yet (the check is skipped).
    tol : float
        Share of rows below which the partition counts as unchanged.
    every : int, default=1
        Epochs between checks.
    patience : int, default=2
        Checks in a row below ``tol`` that end the stage.
    min_epochs : int, default=0
        Epochs before the stage may end.
    """

    def __init__(self, assign, tol: float, *, every: int = 1, patience: int = 2, min_epochs: int = 0):
        self.assign, self.tol, self.every = assign, float(tol), int(every)
        self.patience, self.min_epochs = int(patience), int(min_epochs)
        self._previous: np.ndarray | None = None
        self._stable = 0

    def on_epoch_end(self, state: LoopState, record: dict) -> None:  # noqa: D102
        if (state.epoch + 1) % self.every:
            return
        labels = self.assign()
        if labels is None:
            return
        labels = (labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)).astype(np.int64)
        if self._previous is not None:
            changed = float(np.mean(align_labels(labels, self._previous) != self._previous))
            record["changed"] = changed
            self._stable = self._stable + 1 if changed < self.tol else 0
            if self._stable >= self.patience and state.epoch + 1 >= self.min_epochs:
                state.stop(f"fewer than {self.tol:g} of the checked rows changed cluster at {self._stable} checks "
                           "in a row")
        self._previous = labels
