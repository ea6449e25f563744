"""Small shared helpers: device resolution, per-fit random generators, seeded module init."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch
from torch import nn

from . import _config

__all__ = ["FitContext", "build_module", "init_module", "make_fit_context", "resolve_device", "random_seeds"]


@contextlib.contextmanager
def keep_torch_threads():
    """Give the caller's ``torch.get_num_threads()`` back after the block, also when it raises.

    numba's thread pool (UMAP, NN-descent) resets the OpenMP runtime that torch shares to all cores; code
    that calls into it restores the caller's count with this context manager.
    """
    n_threads = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(n_threads)


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn a user's ``device`` parameter into a usable :class:`torch.device`.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"} or str or torch.device
        ``"auto"`` picks CUDA when it is available and the CPU otherwise. ``"cuda"`` or ``"cuda:N"``
        without a usable GPU raises.

    Returns
    -------
    torch.device
        The resolved device.

    Raises
    ------
    ValueError
        If the string does not name a device, or names CUDA on a machine without CUDA.
    """
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        if device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            dev = torch.device(device)
        except RuntimeError as exc:
            raise ValueError(
                f"Unknown device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'."
            ) from exc
    else:
        raise TypeError(f"device must be a str or torch.device, got {type(device).__name__}.")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"Unsupported device {str(dev)!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'.")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={str(dev)!r} was requested but CUDA is not available on this machine; "
                "use device='cpu' or device='auto'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={str(dev)!r} does not exist: this machine has {torch.cuda.device_count()} GPU(s)."
            )
    return dev


@dataclass
class FitContext:
    """Everything random or device-specific that one ``fit`` call needs.

    One context is made per fit, from ``random_state``; all randomness of the fit (weight init,
    shuffling, augmentations, k-means) draws from these generators, so the user's global torch and
    NumPy random states are never read or changed.

    Attributes
    ----------
    device : torch.device
        Where training happens.
    generator : torch.Generator
        CPU generator (weight init, batch permutations).
    device_generator : torch.Generator
        Generator living on ``device`` (augmentations and other on-device sampling).
    rng : numpy.random.Generator
        NumPy generator (anything computed with NumPy/SciPy/scikit-learn).
    amp : bool
        Whether to run forward passes under bfloat16 autocast (CUDA only).
    """

    device: torch.device
    generator: torch.Generator
    device_generator: torch.Generator
    rng: np.random.Generator
    amp: bool = False

    def seed_for_sklearn(self) -> int:
        """Draw an integer seed for a scikit-learn object fitted inside this fit."""
        return int(self.rng.integers(0, 2**31 - 1))

    def autocast(self) -> contextlib.AbstractContextManager:
        """Autocast context for forward passes: bfloat16 on CUDA when ``amp``, a no-op otherwise."""
        if self.amp and self.device.type == "cuda":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()


def random_seeds(random_state, n: int = 1) -> list[int]:
    """The integer seeds of ``n`` fits from an estimator's ``random_state``: the one seeding function.

    One fit (``n=1``) gets ``random_state`` itself when it is an ``int``; several get ``n`` integers
    drawn from it (the same ones every time). A ``RandomState`` is consumed (``n`` draws); ``None``
    gives fresh entropy (results then differ between calls).

    Parameters
    ----------
    random_state : int, numpy.random.RandomState or None
        An estimator's ``random_state``.
    n : int, default=1
        Number of seeds.

    Returns
    -------
    list of int

    Raises
    ------
    TypeError
        For any other type.

    Examples
    --------
    >>> random_seeds(7)
    [7]
    >>> random_seeds(7, 3) == random_seeds(7, 3)
    True
    """
    if random_state is None:
        return [int(s) for s in np.random.SeedSequence().generate_state(n)]
    if isinstance(random_state, np.random.RandomState):
        return [int(v) for v in random_state.randint(0, 2**31 - 1, size=n)]
    if not isinstance(random_state, Integral) or isinstance(random_state, bool):
        raise TypeError(f"random_state must be None, an int or a numpy RandomState, got {random_state!r}.")
    if n == 1:
        return [int(random_state)]
    return [int(v) for v in np.random.SeedSequence(int(random_state)).generate_state(n) >> np.uint32(1)]


def make_fit_context(random_state, device: torch.device, amp: bool | None = None) -> FitContext:
    """Create the per-fit generators from ``random_state``.

    Parameters
    ----------
    random_state : int, numpy.random.RandomState or None
        The estimators' ``random_state`` (scikit-learn's convention). ``None`` draws fresh entropy
        (results then differ between fits). An ``int`` makes the fit reproducible. A ``RandomState``
        instance is consumed (one integer is drawn).
    device : torch.device
        The resolved training device.
    amp : bool or None, default=None
        Allow mixed precision (bfloat16 autocast) on CUDA; ``None`` reads ``SKDEEPCLUST_AUTOCAST``
        (on unless it is ``0``).

    Returns
    -------
    FitContext
    """
    if amp is None:
        amp = _config.autocast()
    seq = np.random.SeedSequence(random_seeds(random_state)[0])
    torch_seed, dev_seed = (int(s) for s in seq.generate_state(2, dtype=np.uint64) >> np.uint64(1))
    gen = torch.Generator(device="cpu").manual_seed(torch_seed)
    dev_gen = torch.Generator(device=device).manual_seed(dev_seed)
    return FitContext(
        device=device,
        generator=gen,
        device_generator=dev_gen,
        rng=np.random.default_rng(seq.spawn(1)[0]),
        amp=amp and device.type == "cuda",
    )


def init_module(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Initialise ``module``'s layers like PyTorch's defaults, but from ``generator``.

    PyTorch's own ``reset_parameters`` draws from the global random state; this function reproduces
    the default schemes (Kaiming-uniform weights, uniform biases for linear and convolution layers;
    ones and zeros for normalisation layers) with a private generator. Modules that define
    ``reset_parameters_from(generator)`` (e.g. ensemble layers) are then initialised by that method.

    Parameters
    ----------
    module : torch.nn.Module
        Module whose parameters are (re)initialised in place (on the CPU).
    generator : torch.Generator
        CPU generator to draw from.

    Returns
    -------
    torch.nn.Module
        The same module.
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear | nn.Conv1d | nn.Conv2d | nn.ConvTranspose2d):
                nn.init.kaiming_uniform_(m.weight, a=5**0.5, generator=generator)
                if m.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                    bound = 1.0 / fan_in**0.5 if fan_in > 0 else 0.0
                    nn.init.uniform_(m.bias, -bound, bound, generator=generator)
            elif isinstance(m, nn.modules.batchnorm._NormBase | nn.GroupNorm | nn.LayerNorm):
                if getattr(m, "weight", None) is not None:
                    nn.init.ones_(m.weight)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)
                if getattr(m, "running_mean", None) is not None:
                    m.reset_running_stats()
        for m in module.modules():  # modules with their own seeded scheme (applied after the defaults)
            if hasattr(m, "reset_parameters_from"):
                m.reset_parameters_from(generator)
    return module


def build_module(factory: Callable[[], nn.Module], generator: torch.Generator) -> nn.Module:
    """Build a module without touching the global RNG, then seed-initialise it.

    The module is constructed on the ``meta`` device (so PyTorch's default init, which uses the
    global generator, draws nothing), materialised on the CPU and initialised by :func:`init_module`.

    Parameters
    ----------
    factory : callable
        Zero-argument callable returning a fresh module.
    generator : torch.Generator
        CPU generator for the initial weights.

    Returns
    -------
    torch.nn.Module
        The module, on the CPU.
    """
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device="cpu")
    return init_module(module, generator)
