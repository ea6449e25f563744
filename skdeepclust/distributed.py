"""Data-parallel training across the processes of a ``torch.distributed`` process group.

When ``fit`` runs in an initialised default process group of more than one process (for instance in
a script started by ``torchrun``), every process calls ``fit`` with the same data and the training is
spread over them: each global mini-batch is drawn identically in every process (the batch order and
the augmentations come from the same seeded generators), each process forwards its own slice of it
(:meth:`BatchShard.local`), and the outputs are gathered back into the whole batch
(:meth:`BatchShard.gather`, differentiable) before the loss. Every process thus computes the same
loss over the global batch; its gradients are averaged over the processes
(:func:`average_gradients`), batch normalisation uses the statistics of the global batch
(:func:`global_batch_norm`), and every process applies the same update, so that all processes hold
the same model as a single process trained on the same global batches, up to floating-point
rounding.

The helpers here are what the :class:`~skdeepclust.training.Trainer` uses; a method's ``step`` only
calls ``state.local(x)`` on the inputs it forwards and ``state.gather(y)`` on the outputs, both of
which are the identity outside a process group.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ._utils import random_seeds

__all__ = [
    "BatchShard",
    "average_gradients",
    "broadcast_modules",
    "check_same_data",
    "global_batch_norm",
    "is_distributed",
    "shared_random_state",
    "synchronized_batch_norm",
]


def is_distributed() -> bool:
    """Whether ``fit`` runs data-parallel: a default process group of more than one process is initialised.

    Returns
    -------
    bool
        ``torch.distributed.is_available() and torch.distributed.is_initialized()`` and a world size
        above one.

    Examples
    --------
    >>> from skdeepclust.distributed import is_distributed
    >>> is_distributed()
    False
    """
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _comm_device() -> torch.device:
    """Where the tensors of a collective must live: the current GPU under NCCL, the CPU otherwise."""
    if dist.get_backend() == dist.Backend.NCCL:
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def shared_random_state(random_state) -> int | object:
    """One integer seed for every process: the one rank 0 draws from ``random_state``.

    ``None`` (fresh entropy) or a ``RandomState`` instance would otherwise give each process its own
    stream, hence its own weights, batches and augmentations. Types ``make_fit_context`` refuses are
    returned unchanged (so every process raises the same error).

    Parameters
    ----------
    random_state : int, numpy.random.RandomState or None
        The estimator's ``random_state``.

    Returns
    -------
    int
        Rank 0's seed, on every process.
    """
    try:
        seed = random_seeds(random_state)[0]
    except TypeError:
        return random_state
    t = torch.tensor([seed], dtype=torch.int64, device=_comm_device())
    dist.broadcast(t, src=0)
    return int(t.item())


def check_same_data(X: np.ndarray) -> None:
    """Raise on every process when the processes were not given the same training data.

    Compares the shape, the count of NaN (missing views) and two checksums (sum and sum of squares of the
    other values, in float64) over the processes.

    Parameters
    ----------
    X : numpy.ndarray
        This process's validated training array.

    Raises
    ------
    ValueError
        If any process's ``X`` differs from another's.
    """
    x = np.asarray(X, dtype=np.float64)
    stats = torch.tensor([x.shape[0], x.shape[1] if x.ndim > 1 else 1, np.isnan(x).sum(), np.nansum(x),
                          np.nansum(np.square(x))], dtype=torch.float64, device=_comm_device())
    high, low = stats.clone(), -stats
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    dist.all_reduce(low, op=dist.ReduceOp.MAX)
    if not torch.equal(high, -low):
        raise ValueError(
            "In data-parallel training every process must call fit with the same X (the whole data set; each "
            "process forwards its share of every batch), but the processes' X differ."
        )


class BatchShard:
    """How one global batch of ``n_rows`` rows is split over the processes.

    Process ``r`` takes the ``r``-th of ``world_size`` contiguous slices whose sizes differ by at most
    one (the first ``n_rows % world_size`` slices are one row longer); a slice may be empty when the
    batch has fewer rows than there are processes.

    Parameters
    ----------
    n_rows : int
        Rows of the global batch.
    rank : int
        This process's rank.
    world_size : int
        Number of processes.

    Attributes
    ----------
    sizes : list of int
        Rows of every process's slice.
    start, stop : int
        This process's rows of the batch, ``start:stop``.

    Examples
    --------
    >>> from skdeepclust.distributed import BatchShard
    >>> shard = BatchShard(7, rank=1, world_size=2)
    >>> shard.sizes, shard.start, shard.stop
    ([4, 3], 4, 7)
    """

    def __init__(self, n_rows: int, rank: int, world_size: int):
        base, extra = divmod(int(n_rows), int(world_size))
        self.n_rows, self.rank, self.world_size = int(n_rows), int(rank), int(world_size)
        self.sizes = [base + (r < extra) for r in range(world_size)]
        self.start = sum(self.sizes[:rank])
        self.stop = self.start + self.sizes[rank]

    def local(self, x: torch.Tensor) -> torch.Tensor:
        """Rows of a global-batch tensor that this process forwards.

        Parameters
        ----------
        x : torch.Tensor of shape (n_rows, ...)
            A tensor with one row per sample of the global batch.

        Returns
        -------
        torch.Tensor of shape (stop - start, ...)
        """
        if x.shape[0] != self.n_rows:
            raise ValueError(f"local() expects the global batch's {self.n_rows} rows, got {x.shape[0]}.")
        return x[self.start : self.stop]

    def gather(self, y: torch.Tensor) -> torch.Tensor:
        """The global batch's rows of a tensor computed on every process's slice (differentiable).

        Gradients flow back to each process's own rows: the gradient of the gathered tensor is summed
        over the processes and each keeps its rows (slices are padded to equal length for the collective
        and cut again).

        Parameters
        ----------
        y : torch.Tensor of shape (stop - start, ...)
            This process's rows.

        Returns
        -------
        torch.Tensor of shape (n_rows, ...)
            All processes' rows, in batch order.
        """
        if y.shape[0] != self.stop - self.start:
            raise ValueError(f"gather() expects this process's {self.stop - self.start} rows, got {y.shape[0]}.")
        longest = max(self.sizes)
        if y.shape[0] < longest:
            y = torch.cat([y, y.new_zeros((longest - y.shape[0], *y.shape[1:]))])
        parts = _AllGatherRows.apply(y).split(longest)
        return torch.cat([p[:s] for p, s in zip(parts, self.sizes, strict=True)])


class _AllGatherRows(torch.autograd.Function):
    """All processes' equal-length row blocks, concatenated in rank order.

    The adjoint of the gather: the gradient of every process's copy of the result is summed over the
    processes and each process keeps its own block.
    """

    @staticmethod
    def forward(ctx, y: torch.Tensor) -> torch.Tensor:  # noqa: D102
        y = y.contiguous()
        parts = [torch.empty_like(y) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, y)
        ctx.rows = y.shape[0]
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        grad = grad.contiguous()
        if dist.get_backend() == dist.Backend.NCCL:  # gloo has no reduce-scatter
            own = grad.new_empty((ctx.rows, *grad.shape[1:]))
            dist.reduce_scatter(own, list(grad.split(ctx.rows)))
            return own
        total = grad.clone()
        dist.all_reduce(total)
        rank = dist.get_rank()
        return total[rank * ctx.rows : (rank + 1) * ctx.rows]


class _AllReduceSum(torch.autograd.Function):
    """Sum over the processes; its adjoint is the same sum of the gradients."""

    @staticmethod
    def forward(ctx, t: torch.Tensor) -> torch.Tensor:  # noqa: D102
        t = t.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(t)
        return t

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        grad = grad.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(grad)
        return grad


def _all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Differentiable sum over the processes."""
    return _AllReduceSum.apply(t)


def global_batch_norm(bn: nn.modules.batchnorm._BatchNorm, x: torch.Tensor) -> torch.Tensor:
    """Batch normalisation with the statistics of the global batch (every process's slice together).

    The forward of a ``BatchNorm1d/2d/3d`` layer as on one process given the whole batch: the mean and
    (biased) variance of every channel are summed over the processes with differentiable
    all-reduces (two passes, mean then squared deviations), the running statistics are updated with
    the global mean and the unbiased global variance, and gradients flow through the statistics to
    every process's rows, as ``torch.nn.SyncBatchNorm`` does (which PyTorch runs on GPUs only). In
    evaluation mode with running statistics it is the layer's own forward.

    Parameters
    ----------
    bn : torch.nn.modules.batchnorm._BatchNorm
        The layer.
    x : torch.Tensor of shape (n, C, ...)
        This process's slice of the batch.

    Returns
    -------
    torch.Tensor
        The normalised slice, in ``x``'s dtype.
    """
    if not (bn.training or bn.running_mean is None):
        return type(bn).forward(bn, x)
    bn._check_input_dim(x)
    c = x.shape[1]
    dims = [0, *range(2, x.dim())]
    shape = [1, c] + [1] * (x.dim() - 2)
    xf = x.float()
    local_count = torch.full((1,), x.numel() // max(c, 1), dtype=torch.float32, device=x.device)
    sums = _all_reduce_sum(torch.cat([xf.sum(dims), local_count]))
    count = sums[c].detach()
    if float(count) <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(x.shape)}")
    mean = sums[:c] / count
    centred = xf - mean.reshape(shape)
    var = _all_reduce_sum(centred.pow(2).sum(dims)) / count
    out = centred * torch.rsqrt(var + bn.eps).reshape(shape)
    if bn.weight is not None:
        out = out * bn.weight.reshape(shape) + bn.bias.reshape(shape)
    if bn.training and bn.track_running_stats and bn.running_mean is not None:
        with torch.no_grad():
            factor = 0.0 if bn.momentum is None else bn.momentum
            if bn.num_batches_tracked is not None:
                bn.num_batches_tracked.add_(1)
                if bn.momentum is None:
                    factor = 1.0 / float(bn.num_batches_tracked)
            bn.running_mean.lerp_(mean.detach().to(bn.running_mean.dtype), factor)
            unbiased = var.detach() * (count / (count - 1))
            bn.running_var.lerp_(unbiased.to(bn.running_var.dtype), factor)
    return out.to(x.dtype)


@contextlib.contextmanager
def synchronized_batch_norm(modules: Iterable[nn.Module]) -> Iterator[None]:
    """Make every batch-norm layer of ``modules`` use :func:`global_batch_norm` within the block.

    The layers keep their class and state (the forward is replaced on the instance and restored
    afterwards, also when the block raises).

    Parameters
    ----------
    modules : iterable of torch.nn.Module
        Modules whose batch-norm layers are synchronised.
    """
    patched = []
    for module in modules:
        for layer in module.modules():
            if isinstance(layer, nn.modules.batchnorm._BatchNorm) and "forward" not in layer.__dict__:
                layer.forward = types.MethodType(global_batch_norm, layer)
                patched.append(layer)
    try:
        yield
    finally:
        for layer in patched:
            del layer.forward


@torch.no_grad()
def broadcast_modules(modules: Iterable[nn.Module]) -> None:
    """Copy rank 0's parameters and buffers into every process's modules.

    Parameters
    ----------
    modules : iterable of torch.nn.Module
        Modules of identical structure on every process.
    """
    for module in modules:
        for t in [*module.parameters(), *module.buffers()]:
            dist.broadcast(t.data, src=0)


@torch.no_grad()
def average_gradients(params: Sequence[torch.Tensor]) -> None:
    """Average the gradients of ``params`` over the processes, in place.

    Every process computes the same loss over the global batch, and each one's gradient holds its
    own rows' share of every gathered path (times the number of processes, by the adjoint of the
    gather) plus the whole of every path that does not go through a gather; the mean over the
    processes is then the gradient of the loss on one process. A parameter keeps ``grad=None`` only
    if it has no gradient on any process.

    Parameters
    ----------
    params : sequence of torch.Tensor
        The trained parameters (e.g. all of an optimizer's groups).
    """
    world = dist.get_world_size()
    params = list(params)
    has = torch.tensor([p.grad is not None for p in params], dtype=torch.float32, device=_comm_device())
    dist.all_reduce(has)
    by_kind: dict[tuple, list[torch.Tensor]] = {}
    for p, h in zip(params, has.tolist(), strict=True):
        if h > 0:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            by_kind.setdefault((p.grad.device, p.grad.dtype), []).append(p)
    for group in by_kind.values():
        flat = torch.cat([p.grad.reshape(-1) for p in group])
        dist.all_reduce(flat)
        flat /= world
        offset = 0
        for p in group:
            p.grad.copy_(flat[offset : offset + p.numel()].view_as(p.grad))
            offset += p.numel()
