"""The one training loop every estimator uses.

Data stay as tensors on the device; an epoch is a shuffled permutation of sample indices cut into
batches, each passed to a method-supplied ``step`` function that returns its loss terms. The loop owns
everything else: optimizer steps, bfloat16 autocast on CUDA, gradient clipping, non-finite loss
detection (with the last good weights restored), per-epoch history, a progress line, callbacks
(EMA teachers, pseudo-label refreshes) and clean stopping on ``KeyboardInterrupt``.
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Sequence

import torch
from torch import nn

from ._utils import FitContext

__all__ = [
    "Callback",
    "EMAUpdate",
    "LRSchedule",
    "NonFiniteLossError",
    "STEP_SCHEDULE_MAX_EPOCHS",
    "TrainingInterrupted",
    "cosine_momentum",
    "epoch_batches",
    "epochs_for_steps",
    "n_batches",
    "train_stage",
]

StepFn = Callable[[torch.Tensor], dict[str, torch.Tensor]]


class NonFiniteLossError(FloatingPointError):
    """Raised when a loss becomes NaN or infinite; the modules hold the last good weights."""


class TrainingInterrupted(Exception):
    """Raised by :func:`train_stage` after a ``KeyboardInterrupt`` (the model stays usable)."""


class Callback:
    """Hook into :func:`train_stage`; override any method.

    Methods receive the zero-based epoch index (and the global step within the stage for
    ``on_batch_end``).
    """

    def on_epoch_begin(self, epoch: int) -> None:
        """Run before the first batch of ``epoch``."""

    def on_batch_end(self, epoch: int, step: int, n_steps: int) -> None:
        """Run after each optimizer step (``step`` is 1-based and global within the stage)."""

    def on_epoch_end(self, epoch: int, record: dict) -> None:
        """Run after the last batch of ``epoch``; ``record`` is the history row (may be extended)."""


class EMAUpdate(Callback):
    """Exponential moving average of a student module into a teacher after each step.

    ``teacher <- tau * teacher + (1 - tau) * student``, with ``tau`` given per step by ``momentum``.

    Parameters
    ----------
    teacher, student : torch.nn.Module
        Modules of identical structure.
    momentum : callable
        ``momentum(epoch, batch, step, n_steps) -> tau``.
    """

    def __init__(self, teacher: nn.Module, student: nn.Module, momentum: Callable[..., float]):
        self.teacher = teacher
        self.student = student
        self.momentum = momentum
        self._batch = 0

    def on_epoch_begin(self, epoch: int) -> None:  # noqa: D102
        self._batch = 0

    def on_batch_end(self, epoch: int, step: int, n_steps: int) -> None:  # noqa: D102
        tau = self.momentum(epoch, self._batch, step, n_steps)
        self._batch += 1
        with torch.no_grad():
            t = list(self.teacher.parameters())
            s = list(self.student.parameters())
            torch._foreach_lerp_(t, s, 1.0 - tau)


class LRSchedule(Callback):
    """Per-step learning-rate schedule: ``lr = initial_lr * factor(e)`` for every parameter group.

    ``e`` is the fractional epoch of the *next* step, ``epoch + k / steps_per_epoch`` with ``k`` the
    1-based step within the epoch (so the first step of training sees ``e = 1 / steps_per_epoch``).
    Each group's starting ``lr`` is kept as ``initial_lr`` (groups may have different base rates, e.g.
    a predictor at 10x); a group created with ``"scheduled": False`` keeps its rate.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Optimizer whose groups are scheduled.
    factor : callable
        ``factor(e) -> float``.
    steps_per_epoch : int
        Optimizer steps per epoch.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, factor: Callable[[float], float], steps_per_epoch: int):
        self.optimizer, self.factor, self.steps_per_epoch = optimizer, factor, max(1, steps_per_epoch)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self._k = 0

    def _apply(self, e: float) -> None:
        f = self.factor(e)
        for group in self.optimizer.param_groups:
            if group.get("scheduled", True):
                group["lr"] = group["initial_lr"] * f

    def on_epoch_begin(self, epoch: int) -> None:  # noqa: D102
        self._k = 1
        self._apply(epoch + 1 / self.steps_per_epoch)

    def on_batch_end(self, epoch: int, step: int, n_steps: int) -> None:  # noqa: D102
        self._k += 1
        self._apply(epoch + self._k / self.steps_per_epoch)


class _Progress:
    """A one-line text progress bar on stderr (no dependency)."""

    def __init__(self, desc: str, n_epochs: int, enabled: bool):
        self.desc, self.n_epochs, self.enabled = desc, n_epochs, enabled
        self.t0 = time.perf_counter()

    def update(self, epoch: int, record: dict) -> None:
        if not self.enabled:
            return
        done = epoch + 1
        width = 20
        bar = "#" * (width * done // self.n_epochs) + "-" * (width - width * done // self.n_epochs)
        terms = " ".join(
            f"{k}={v:.4g}" for k, v in record.items() if k not in ("stage", "epoch", "seconds", "steps")
        )
        elapsed = time.perf_counter() - self.t0
        end = "\n" if done == self.n_epochs else ""
        sys.stderr.write(f"\r{self.desc} [{bar}] {done}/{self.n_epochs} {terms} ({elapsed:.1f}s)   {end}")
        sys.stderr.flush()


#: upper bound of a schedule set in steps (``epochs_for_steps``): the longest schedule of the papers
STEP_SCHEDULE_MAX_EPOCHS = 1000


def epochs_for_steps(n_steps: int, n_samples: int, batch_size: int, *, drop_last: bool = False,
                     min_epochs: int = 1, max_epochs: int | None = STEP_SCHEDULE_MAX_EPOCHS) -> int:
    """Number of epochs that gives at least ``n_steps`` optimizer steps, within ``[min_epochs, max_epochs]``.

    A schedule set in steps rather than epochs trains a small data set (few batches per epoch) as long
    as a large one. The upper bound keeps a tiny data set (one batch per epoch) from being trained for
    thousands of passes: by default ``STEP_SCHEDULE_MAX_EPOCHS`` (1000, the longest schedule of the
    methods' papers).

    Parameters
    ----------
    n_steps : int
        Wanted number of optimizer steps.
    n_samples : int
        Training samples.
    batch_size : int
        Mini-batch size.
    drop_last : bool, default=False
        Whether the last incomplete batch of an epoch is dropped.
    min_epochs : int, default=1
        Lower bound on the result.
    max_epochs : int or None, default=STEP_SCHEDULE_MAX_EPOCHS
        Upper bound on the result (``None``: no bound); ``min_epochs`` wins if the two conflict.

    Returns
    -------
    int
        ``max(min_epochs, min(max_epochs, ceil(n_steps / batches_per_epoch)))``.

    Examples
    --------
    >>> epochs_for_steps(4500, n_samples=9298, batch_size=128)
    62
    >>> epochs_for_steps(4500, n_samples=1440, batch_size=128)
    375
    >>> epochs_for_steps(4500, n_samples=100, batch_size=128)  # one batch per epoch: capped
    1000
    """
    epochs = math.ceil(n_steps / n_batches(n_samples, batch_size, drop_last))
    if max_epochs is not None:
        epochs = min(epochs, int(max_epochs))
    return max(int(min_epochs), epochs)


def n_batches(n: int, batch_size: int, drop_last: bool) -> int:
    """Optimizer steps per epoch of :func:`train_stage` (the batches :func:`epoch_batches` cuts).

    Parameters
    ----------
    n : int
        Training samples.
    batch_size : int
        Mini-batch size (clamped to ``n``).
    drop_last : bool
        Whether the last incomplete batch is dropped.

    Returns
    -------
    int
    """
    batch_size = max(1, min(batch_size, n))
    n_full = n // batch_size
    if drop_last and n_full > 0:
        return n_full
    if n % batch_size == 1 and n_full > 0 and batch_size > 1:  # a one-row remainder joins the last full batch
        return n_full
    return -(-n // batch_size)


def epoch_batches(n: int, batch_size: int, drop_last: bool, shuffle: bool, ctx: FitContext) -> list[torch.Tensor]:
    """Cut one epoch's (shuffled) sample indices into batches.

    Batch size is clamped to ``n``. With ``drop_last`` the incomplete last batch is dropped (unless it is
    the only one); otherwise a last batch of a single row is merged into the batch before it, since a
    one-row batch breaks batch normalisation and batch statistics.

    Parameters
    ----------
    n : int
        Training samples.
    batch_size : int
        Mini-batch size.
    drop_last : bool
        Drop the incomplete last batch.
    shuffle : bool
        Draw a permutation from ``ctx.generator``; otherwise keep the sample order.
    ctx : FitContext
        The fit's generators and device.

    Returns
    -------
    list of torch.Tensor
        Index tensors on ``ctx.device``.
    """
    batch_size = max(1, min(batch_size, n))
    order = torch.randperm(n, generator=ctx.generator) if shuffle else torch.arange(n)
    order = order.to(ctx.device)
    n_full = n // batch_size
    stop = n_full * batch_size if (drop_last and n_full > 0) else n
    bounds = list(range(0, stop, batch_size)) + [stop]
    if stop - bounds[-2] == 1 and len(bounds) > 2 and batch_size > 1:
        del bounds[-2]
    return [order[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def train_stage(
    step: StepFn,
    *,
    n_samples: int,
    n_epochs: int,
    batch_size: int,
    optimizer: torch.optim.Optimizer,
    ctx: FitContext,
    history: list[dict],
    stage: str,
    modules: Sequence[nn.Module],
    drop_last: bool = True,
    shuffle: bool = True,
    clip_grad_norm: float | None = None,
    callbacks: Sequence[Callback] = (),
    verbose: int = 0,
) -> None:
    """Run ``n_epochs`` epochs of mini-batch training.

    Parameters
    ----------
    step : callable
        ``step(indices) -> {"term": tensor, ...}`` computes the loss terms of one batch given the
        batch's sample indices (a tensor on ``ctx.device``). The terms are summed into the total loss
        ``loss`` unless the dict already holds a ``"loss"`` entry. It runs under autocast on CUDA.
    n_samples : int
        Number of samples indexed by ``step``.
    n_epochs : int
        Epochs to run (0 does nothing).
    batch_size : int
        Batch size; clamped to ``n_samples``.
    optimizer : torch.optim.Optimizer
        Optimizer over the trained parameters.
    ctx : FitContext
        Device, generators and AMP flag of the fit.
    history : list of dict
        One record per epoch is appended: ``stage``, ``epoch``, the mean of each loss term over the
        epoch's batches, ``steps`` and ``seconds``.
    stage : str
        Name of the stage in the history and the progress bar.
    modules : sequence of torch.nn.Module
        Modules set to train mode during the stage and restored on a non-finite loss.
    drop_last : bool, default=True
        Drop the last incomplete batch (unless it is the only batch); without it, a one-row last batch
        joins the batch before it.
    shuffle : bool, default=True
        Shuffle the samples each epoch.
    clip_grad_norm : float, optional
        Clip the global gradient norm of the optimized parameters.
    callbacks : sequence of Callback
        Hooks, called in order.
    verbose : int, default=0
        ``>= 1`` prints a progress bar with the current losses to stderr.

    Raises
    ------
    NonFiniteLossError
        When a loss term is NaN/inf; the modules are restored to the weights they had at the start of
        that epoch.
    TrainingInterrupted
        On ``KeyboardInterrupt``; the current weights are kept and the history has the completed
        epochs.
    """
    if n_epochs <= 0:
        return
    batch_size = max(1, min(batch_size, n_samples))
    params = [p for group in optimizer.param_groups for p in group["params"]]
    progress = _Progress(stage, n_epochs, verbose >= 1)
    n_steps = n_epochs * n_batches(n_samples, batch_size, drop_last)
    global_step = 0
    for m in modules:
        m.train()
    try:
        for epoch in range(n_epochs):
            t0 = time.perf_counter()
            snapshot = [copy.deepcopy(m.state_dict()) for m in modules]
            opt_snapshot = copy.deepcopy(optimizer.state_dict())
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            sums: dict[str, torch.Tensor] = {}
            batches = epoch_batches(n_samples, batch_size, drop_last, shuffle, ctx)
            for b, idx in enumerate(batches):
                optimizer.zero_grad(set_to_none=True)
                with ctx.autocast():
                    terms = step(idx)
                loss = terms["loss"] if "loss" in terms else sum(terms.values())
                if not bool(torch.isfinite(loss)):
                    for m, state in zip(modules, snapshot, strict=True):
                        m.load_state_dict(state)
                    optimizer.load_state_dict(opt_snapshot)
                    detail = ", ".join(f"{k}={float(v.detach()):.4g}" for k, v in terms.items())
                    raise NonFiniteLossError(
                        f"Non-finite loss in stage {stage!r}, epoch {epoch + 1}, batch {b + 1} ({detail}). "
                        f"The weights were restored to those at the start of that epoch. "
                        "Try a lower learning rate or scaling the input features."
                    )
                loss.backward()
                if clip_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
                optimizer.step()
                global_step += 1
                for cb in callbacks:
                    cb.on_batch_end(epoch, global_step, n_steps)
                for k, v in terms.items():
                    sums[k] = sums.get(k, 0.0) + v.detach().float()
                if "loss" not in terms:
                    sums["loss"] = sums.get("loss", 0.0) + loss.detach().float()
            record: dict = {"stage": stage, "epoch": epoch + 1}
            record.update({k: float(v) / len(batches) for k, v in sums.items()})
            for cb in callbacks:
                cb.on_epoch_end(epoch, record)
            record["steps"] = len(batches)
            record["seconds"] = time.perf_counter() - t0
            history.append(record)
            progress.update(epoch, record)
    except KeyboardInterrupt as exc:
        if verbose:
            sys.stderr.write("\n")
        raise TrainingInterrupted(f"training interrupted during stage {stage!r}") from exc


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
