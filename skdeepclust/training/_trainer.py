"""The training loop: :class:`Trainer`, its :class:`LoopState`, batch arithmetic and batched embedding passes.

A :class:`Trainer` is bound once per fit. Data stay as tensors on the device; an epoch is a shuffled
permutation of sample indices cut into batches, each passed with the :class:`LoopState` to a
method-supplied ``step`` function that returns its loss terms. The loop owns everything else:
optimizer steps, bfloat16 autocast on CUDA, non-finite loss detection (with the last
good weights restored), per-epoch history, a progress bar per stage (tqdm), callbacks
(:mod:`skdeepclust.training._callbacks`), which receive the same state and may end a stage early,
and clean stopping on ``KeyboardInterrupt``.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Number
from typing import TYPE_CHECKING

import torch
from torch import nn
from tqdm.auto import tqdm

from .. import distributed
from .._utils import FitContext

if TYPE_CHECKING:
    from ._callbacks import Callback

__all__ = [
    "EMBED_BATCH",
    "LoopState",
    "NonFiniteLossError",
    "STEP_SCHEDULE_MAX_EPOCHS",
    "Trainer",
    "clamp_batch_size",
    "embed_batches",
    "epoch_batches",
    "epochs_for_steps",
    "n_batches",
]

#: rows per batch of every pass over many rows without gradients (:func:`embed_batches`, ``predict``, ``transform``)
EMBED_BATCH = 4096

StepFn = Callable[[torch.Tensor, "LoopState"], dict[str, torch.Tensor]]


class NonFiniteLossError(FloatingPointError):
    """Raised when a loss becomes NaN or infinite; the modules hold the weights of the epoch's start."""


@dataclass
class LoopState:
    """Where training is: what a stage's ``step`` and every callback receive.

    Attributes
    ----------
    stage : str
        Name of the running stage.
    epoch : int
        Zero-based epoch within the stage.
    n_epochs : int
        Epochs of the stage.
    batch : int
        Zero-based batch within the epoch (the batch being computed, or just stepped in
        ``on_batch_end``).
    n_batches : int
        Batches (optimizer steps) per epoch.
    step : int
        Optimizer steps done in the stage so far (1-based after a step).
    n_steps : int
        Optimizer steps of the whole stage.
    global_step : int
        Optimizer steps done in the fit so far, over all stages.
    shard : BatchShard or None
        In data-parallel training (see :mod:`skdeepclust.distributed`), how the batch being computed
        is split over the processes; ``None`` in a single process.
    stop_reason : str or None
        Set by a callback (:meth:`stop`) to end the stage after the current epoch; recorded as the
        ``"stop"`` entry of that epoch's history row.
    """

    stage: str
    epoch: int = 0
    n_epochs: int = 0
    batch: int = 0
    n_batches: int = 0
    step: int = 0
    n_steps: int = 0
    global_step: int = 0
    shard: distributed.BatchShard | None = None
    stop_reason: str | None = None

    def stop(self, reason: str) -> None:
        """End the stage once the current epoch is done, for ``reason`` (kept in the history).

        Parameters
        ----------
        reason : str
            Why the stage ends early, e.g. ``"no better checkpoint in 3 rounds"``.
        """
        self.stop_reason = reason

    @property
    def progress(self) -> float:
        """Fraction of the stage's optimizer steps done, in ``[0, 1]``."""
        return self.step / self.n_steps if self.n_steps else 1.0

    def local(self, x: torch.Tensor) -> torch.Tensor:
        """The rows of a global-batch tensor that this process forwards (all of them in a single process).

        Parameters
        ----------
        x : torch.Tensor of shape (batch_rows, ...)
            One row per sample of the batch being computed.

        Returns
        -------
        torch.Tensor
        """
        return x if self.shard is None else self.shard.local(x)

    def gather(self, y: torch.Tensor) -> torch.Tensor:
        """The whole batch's rows of an output computed on :meth:`local` rows (differentiable).

        A ``step`` that forwards ``state.local(x)`` and computes its loss on ``state.gather(output)``
        computes the loss of the global batch in every process. In a single process, ``y`` itself.

        Parameters
        ----------
        y : torch.Tensor of shape (local_rows, ...)
            Output rows of this process.

        Returns
        -------
        torch.Tensor of shape (batch_rows, ...)
        """
        return y if self.shard is None else self.shard.gather(y)


#: history entries that are not loss terms (left out of the progress bar's postfix)
_NOT_TERMS = ("stage", "epoch", "seconds", "steps", "stop")


def _progress_bar(stage: str, n_epochs: int, enabled: bool) -> tqdm:
    """One stage's progress bar: ``n_epochs`` epochs (silent and writing nothing when not ``enabled``).

    ``tqdm.auto`` gives a text bar on stderr in a terminal and a widget in a Jupyter notebook.
    """
    return tqdm(total=n_epochs, desc=stage, unit="epoch", disable=not enabled, leave=True, dynamic_ncols=True)


def _show_epoch(bar: tqdm, record: dict) -> None:
    """Advance ``bar`` by one epoch and show the epoch's loss terms in its postfix."""
    terms = {k: (f"{v:.4g}" if isinstance(v, Number) else str(v)) for k, v in record.items() if k not in _NOT_TERMS}
    bar.set_postfix(terms, refresh=False)
    bar.update(1)


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


def _batch_bounds(n: int, batch_size: int, drop_last: bool) -> list[int]:
    """Start of every batch of an epoch, and the end of the last one."""
    batch_size = clamp_batch_size(batch_size, n)
    n_full = n // batch_size
    stop = n_full * batch_size if (drop_last and n_full > 0) else n
    bounds = [*range(0, stop, batch_size), stop]
    if stop - bounds[-2] == 1 and len(bounds) > 2 and batch_size > 1:  # a one-row remainder joins the batch before
        del bounds[-2]
    return bounds


def n_batches(n: int, batch_size: int, drop_last: bool) -> int:
    """Optimizer steps per epoch of :meth:`Trainer.run` (the batches :func:`epoch_batches` cuts).

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
    return len(_batch_bounds(n, batch_size, drop_last)) - 1


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
    order = torch.randperm(n, generator=ctx.generator) if shuffle else torch.arange(n)
    order = order.to(ctx.device)
    bounds = _batch_bounds(n, batch_size, drop_last)
    return [order[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


class Trainer:
    """The training loop of one fit: stages of mini-batch epochs over in-memory tensors.

    Bound once per fit to the fit's context (device, generators, autocast), its history and its
    verbosity; each :meth:`run` trains one stage. The loop owns the optimizer steps, bfloat16 autocast
    on CUDA, non-finite loss detection, the history rows, the progress bar and the
    callbacks; the method supplies ``step(indices, state) -> {"term": tensor, ...}``.

    ``KeyboardInterrupt`` (Ctrl-C) during a stage stops training: :attr:`stopped_in` names the stage,
    the weights stay as reached, and every later :meth:`run` returns at once, so the method finishes
    with what it has.

    Parameters
    ----------
    ctx : FitContext
        Device, generators and autocast flag of the fit.
    history : list of dict
        One record per epoch is appended: ``stage``, ``epoch``, the mean of each loss term over the
        epoch's batches (and the total ``loss``), ``steps`` and ``seconds``.
    verbose : int, default=0
        ``>= 1`` shows a tqdm progress bar per stage: epochs done and the loss terms of the last epoch,
        on stderr (a widget in a Jupyter notebook). ``0`` writes nothing.
    data_parallel : bool, default=False
        Train data-parallel over the processes of the initialised default process group (see
        :mod:`skdeepclust.distributed`): every process runs the same loop on the same global batches;
        :attr:`LoopState.shard` tells ``step`` which rows to forward, the modules start each stage from
        rank 0's weights, batch normalisation uses the global batch's statistics, and gradients are
        averaged over the processes before every optimizer step. ``step`` must compute the loss of
        the global batch (:meth:`LoopState.gather`).

    Attributes
    ----------
    stopped_in : str or None
        The stage that ``KeyboardInterrupt`` stopped, or ``None``.
    global_step : int
        Optimizer steps done so far, over all stages.
    """

    def __init__(self, ctx: FitContext, history: list[dict], verbose: int = 0, data_parallel: bool = False):
        self.ctx, self.history, self.verbose = ctx, history, verbose
        self.stopped_in: str | None = None
        self.global_step = 0
        if data_parallel and not distributed.is_distributed():
            raise RuntimeError("data_parallel=True needs an initialised process group of more than one process.")
        self.data_parallel = data_parallel

    @property
    def stopped(self) -> bool:
        """Whether ``KeyboardInterrupt`` has stopped training."""
        return self.stopped_in is not None

    def run(
        self,
        stage: str,
        step: StepFn,
        *,
        n_samples: int,
        n_epochs: int,
        batch_size: int,
        optimizer: torch.optim.Optimizer,
        modules: Sequence[nn.Module],
        drop_last: bool = True,
        shuffle: bool = True,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        """Train one stage of ``n_epochs`` epochs (nothing when 0, or once training was stopped).

        Parameters
        ----------
        stage : str
            Name of the stage in the history, the progress bar and :class:`LoopState`.
        step : callable
            ``step(indices, state) -> {"term": tensor, ...}`` computes the loss terms of one batch
            given the batch's sample indices (a tensor on the device). The terms are summed into the
            total loss unless the dict holds a ``"loss"`` entry. It runs under autocast on CUDA.
        n_samples : int
            Number of samples indexed by ``step``.
        n_epochs : int
            Epochs to run.
        batch_size : int
            Batch size; clamped to ``n_samples`` (:func:`clamp_batch_size`).
        optimizer : torch.optim.Optimizer
            Optimizer over the trained parameters.
        modules : sequence of torch.nn.Module
            Modules set to train mode during the stage and restored on a non-finite loss.
        drop_last : bool, default=True
            Drop the last incomplete batch (unless it is the only batch); without it, a one-row last
            batch joins the batch before it.
        shuffle : bool, default=True
            Shuffle the samples each epoch.
        callbacks : sequence of Callback
            Hooks, called in order.

        Raises
        ------
        NonFiniteLossError
            When a loss term is NaN/inf; the modules are restored to the weights they had at the start
            of that epoch.
        """
        if n_epochs <= 0 or self.stopped:
            return
        ctx = self.ctx
        batch_size = clamp_batch_size(batch_size, n_samples)
        per_epoch = n_batches(n_samples, batch_size, drop_last)
        state = LoopState(stage, n_epochs=n_epochs, n_batches=per_epoch, n_steps=n_epochs * per_epoch,
                          global_step=self.global_step)
        for m in modules:
            m.train()
        parallel = self.data_parallel
        if parallel:
            distributed.broadcast_modules(modules)
            rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
            params = [p for group in optimizer.param_groups for p in group["params"]]
        bar = _progress_bar(stage, n_epochs, self.verbose >= 1)
        sync_bn = contextlib.ExitStack()  # batch norm over the global batch, for the stage only
        if parallel:
            sync_bn.enter_context(distributed.synchronized_batch_norm(modules))
        try:
            for epoch in range(n_epochs):
                t0 = time.perf_counter()
                state.epoch, state.batch = epoch, 0
                snapshot = [copy.deepcopy(m.state_dict()) for m in modules]
                opt_snapshot = copy.deepcopy(optimizer.state_dict())
                for cb in callbacks:
                    cb.on_epoch_begin(state)
                sums: dict[str, torch.Tensor] = {}
                batches = epoch_batches(n_samples, batch_size, drop_last, shuffle, ctx)
                for b, idx in enumerate(batches):
                    state.batch = b
                    if parallel:
                        state.shard = distributed.BatchShard(idx.shape[0], rank, world)
                    optimizer.zero_grad(set_to_none=True)
                    with ctx.autocast():
                        terms = step(idx, state)
                    loss = terms["loss"] if "loss" in terms else sum(terms.values())
                    if not bool(torch.isfinite(loss)):
                        for m, saved in zip(modules, snapshot, strict=True):
                            m.load_state_dict(saved)
                        optimizer.load_state_dict(opt_snapshot)
                        detail = ", ".join(f"{k}={float(v.detach()):.4g}" for k, v in terms.items())
                        raise NonFiniteLossError(
                            f"Non-finite loss in stage {stage!r}, epoch {epoch + 1}, batch {b + 1} ({detail}). "
                            "Try a lower learning rate or scaling the input features."
                        )
                    loss.backward()
                    if parallel:
                        distributed.average_gradients(params)
                    optimizer.step()
                    state.step += 1
                    state.global_step += 1
                    self.global_step = state.global_step
                    for cb in callbacks:
                        cb.on_batch_end(state)
                    for k, v in terms.items():
                        sums[k] = sums.get(k, 0.0) + v.detach().float()
                    if "loss" not in terms:
                        sums["loss"] = sums.get("loss", 0.0) + loss.detach().float()
                record: dict = {"stage": stage, "epoch": epoch + 1}
                record.update({k: float(v) / len(batches) for k, v in sums.items()})
                for cb in callbacks:
                    cb.on_epoch_end(state, record)
                record["steps"] = len(batches)
                record["seconds"] = time.perf_counter() - t0
                if state.stop_reason is not None:
                    record["stop"] = state.stop_reason
                self.history.append(record)
                _show_epoch(bar, record)
                if state.stop_reason is not None:
                    break
        except KeyboardInterrupt:
            self.stopped_in = stage
        finally:
            state.shard = None
            sync_bn.close()
            bar.close()  # also on errors: the bar stays where training stopped, and the terminal line ends


def clamp_batch_size(batch_size: int, n_samples: int) -> int:
    """The batch size a stage really uses: at most ``n_samples`` (and at least 1).

    Parameters
    ----------
    batch_size : int
        Requested batch size.
    n_samples : int
        Training samples.

    Returns
    -------
    int
    """
    return max(1, min(int(batch_size), int(n_samples)))


@torch.no_grad()
def embed_batches(fn: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, modules: Sequence[nn.Module] = (),
                  batch_size: int = EMBED_BATCH) -> torch.Tensor:
    """Apply ``fn`` to ``X`` in batches, in eval mode and without gradients; concatenate the float32 results.

    For the passes over all training rows that a method needs during ``fit`` (pseudo-labels, final
    clustering, checkpoint scores). ``modules`` are put in eval mode for the pass and given back the
    train/eval mode each of their submodules had.

    Parameters
    ----------
    fn : callable
        ``fn(x) -> tensor`` with one output row per input row.
    X : torch.Tensor of shape (n_samples, ...)
        Rows to embed.
    modules : sequence of torch.nn.Module, default=()
        Modules that ``fn`` runs, switched to eval mode for the pass and restored afterwards.
    batch_size : int, default=EMBED_BATCH
        Rows per call of ``fn``.

    Returns
    -------
    torch.Tensor of shape (n_samples, ...)
    """
    modes = [(m, m.training) for module in modules for m in module.modules()]
    for module in modules:
        module.eval()
    try:
        return torch.cat([fn(X[i : i + batch_size]).float() for i in range(0, X.shape[0], batch_size)])
    finally:
        for m, training in modes:
            m.training = training
