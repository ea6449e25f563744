"""What the single-view methods (HaDis, SeCu, MTDC, SPC) share about their input.

Rows are either tabular features (standardised internally, feature-space augmentations, an MLP
backbone) or flattened images with ``image_shape=(C, H, W)`` and values in ``[0, 1]`` (image
augmentations, a small conv backbone). A user may pass their own backbone (``encoder``) and their own
augmentation (``augment``).
"""

from __future__ import annotations

import copy
from numbers import Integral

import numpy as np
import torch
from torch import nn

from ._utils import FitContext, build_module
from ._validation import PositiveInts
from .augment import ImageAugment, NeighborSwap, TabularAugment
from .multiview import scale_params
from .nn import make_encoder, output_dim
from .training import Callback, StopWhenStable

__all__ = ["NEIGHBOR_SWAP_NEIGHBORS", "NEIGHBOR_SWAP_PROB", "STABLE_CHECKS", "STABLE_ROWS", "AugmentedRows",
           "SingleViewMixin", "stable_rows", "stop_when_stable"]

#: default tabular view: probability that an entry comes from one of the row's nearest rows (:class:`NeighborSwap`)
NEIGHBOR_SWAP_PROB = 0.5
#: default tabular view: the nearest rows that neighbour is drawn from
NEIGHBOR_SWAP_NEIGHBORS = 10
#: rows of the fixed subsample whose clusters the ``tol`` rule follows
STABLE_ROWS = 2048
#: epochs in a row with fewer than ``tol`` of those rows changing cluster that end training
STABLE_CHECKS = 3


def stable_rows(n_samples: int, ctx: FitContext) -> torch.Tensor:
    """The fixed subsample of the ``tol`` rule.

    Every row up to :data:`STABLE_ROWS` rows, else that many rows evenly spaced over the data. Nothing is drawn
    from the fit's generators, so a fit with ``tol > 0`` trains exactly as one with ``tol=0`` until it stops.
    """
    if n_samples <= STABLE_ROWS:
        return torch.arange(n_samples, device=ctx.device)
    return (torch.arange(STABLE_ROWS) * n_samples // STABLE_ROWS).to(ctx.device)  # strictly increasing


def stop_when_stable(tol: float, assign) -> list[Callback]:
    """The callbacks of the ``tol`` rule: none for ``tol=0``.

    Else :class:`~skdeepclust.training.StopWhenStable` checks ``assign()`` after every epoch and ends the stage at
    :data:`STABLE_CHECKS` checks in a row below ``tol``.
    """
    return [StopWhenStable(assign, tol, patience=STABLE_CHECKS)] if tol > 0 else []


class AugmentedRows:
    """``view(idx, generator)``: one augmented copy of the training rows ``idx``, what a training step feeds.

    ``augment(rows, generator)`` of the rows themselves, or, with ``swap`` (the default tabular view), of the
    rows with entries swapped with their nearest rows (:class:`~skdeepclust.augment.NeighborSwap`).

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
        The training rows, as the network sees them.
    augment : callable
        ``augment(x, generator) -> x'`` on a batch of rows.
    swap : NeighborSwap, optional
        Fitted on ``X``; ``None``: the rows are augmented as they are.
    """

    def __init__(self, X: torch.Tensor, augment, swap: NeighborSwap | None = None):
        self.X, self.augment, self.swap = X, augment, swap

    def __call__(self, idx: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The augmented rows ``idx``, drawn from ``generator``."""
        rows = self.X[idx] if self.swap is None else self.swap(self.X, idx, generator)
        return self.augment(rows, generator)


class SingleViewMixin:
    """Input handling for single-view estimators (mixed into a :class:`BaseDeepClusterer` subclass).

    Expects the parameters ``image_shape``, ``encoder``, ``hidden_dims`` and ``augment``.
    """

    _single_view_constraints: dict = {
        "image_shape": [None, PositiveInts(3, "(C, H, W)")],
        "encoder": [None, nn.Module],
        "hidden_dims": [None, PositiveInts()],
        "augment": [None, callable],
    }

    def _checked_image_shape(self, n_features: int):
        if self.image_shape is None:
            return None
        shape = tuple(self.image_shape)
        if len(shape) != 3 or not all(isinstance(s, Integral) and s > 0 for s in shape):
            raise ValueError(f"image_shape must be (C, H, W) with positive integers, got {self.image_shape!r}.")
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"image_shape {shape} has {int(np.prod(shape))} pixels per image but X has {n_features} features."
            )
        return shape

    def _n_clusters_input(self, X: np.ndarray) -> np.ndarray:
        """Images as they are, tabular rows standardised (as :meth:`_prepare_input` gives them to the network)."""
        X = np.asarray(X, dtype=np.float64)
        if self._checked_image_shape(X.shape[1]) is not None:
            return X
        offset, scale = scale_params(X, None, "standard")
        return (X - offset) / scale

    def _prepare_input(self, X: torch.Tensor) -> torch.Tensor:
        """Validate image rows or learn the tabular standardisation; return the model's input."""
        shape = self._checked_image_shape(X.shape[1])
        if shape is not None:
            lo, hi = float(X.min()), float(X.max())
            if lo < 0 or hi > 1:
                raise ValueError(
                    f"With image_shape, pixel values must lie in [0, 1] (got [{lo:.4g}, {hi:.4g}]); "
                    "divide 8-bit images by 255."
                )
            return self._fit_scaling(X, "none")
        return self._fit_scaling(X, "standard")

    def _make_views(self, X: torch.Tensor, ctx: FitContext) -> AugmentedRows:
        """The fit's views of the training input ``X``: the user's ``augment`` (dry-run first), or the defaults.

        Default images: crops, small rotations and intensity jitter. Default tabular rows: entries swapped with
        their nearest rows (:data:`NEIGHBOR_SWAP_PROB`, :data:`NEIGHBOR_SWAP_NEIGHBORS`), then feature noise.
        """
        if self.augment is not None:
            _check_user_augment(self.augment, X[:2])
            return AugmentedRows(X, self.augment)
        shape = self._checked_image_shape(X.shape[1])
        if shape is not None:
            return AugmentedRows(X, ImageAugment(
                image_shape=shape,
                crop_scale=(0.5, 1.0),
                flip=shape[0] == 3,
                jitter=0.4,
                affine_degrees=10.0,
                affine_translate=0.0,
            ))
        swap = NeighborSwap(NEIGHBOR_SWAP_PROB, NEIGHBOR_SWAP_NEIGHBORS).fit(X, random_state=ctx.rng)
        return AugmentedRows(X, TabularAugment(noise=0.1, mask_prob=0.0).fit(X), swap)

    #: default backbone widths: MLP widths for rows, conv block channels for images
    _default_hidden_dims = {"tabular": (256, 256), "image": (32, 64, 128)}

    def _make_backbone(self, in_dim: int, ctx: FitContext) -> nn.Module:
        if self.encoder is not None:
            return copy.deepcopy(self.encoder).cpu()
        shape = self._checked_image_shape(in_dim)
        dims = self.hidden_dims
        if dims is None:
            dims = self._default_hidden_dims["image" if shape is not None else "tabular"]
        dims = tuple(int(d) for d in dims)
        return build_module(lambda: make_encoder(in_dim, dims, image_shape=shape), ctx.generator)

    def _prepare_training(self, X: torch.Tensor, ctx: FitContext):
        """Model input, augmented views (:meth:`_make_views`), backbone and backbone width for one fit.

        Returns
        -------
        X : torch.Tensor
            The (standardised, for rows) training input.
        view : AugmentedRows
            ``view(idx, generator)``: one augmented copy of the rows ``idx`` of ``X``.
        backbone : torch.nn.Module
            The user's encoder (copied) or the default one, on the CPU.
        width : int
            The backbone's output width.
        """
        X = self._prepare_input(X)
        backbone = self._make_backbone(X.shape[1], ctx)
        view = self._make_views(X, ctx)
        sample = X[:2].cpu() if self.encoder is not None else None  # a user's encoder is always dry-run
        return X, view, backbone, output_dim(backbone, X.shape[1], sample=sample)


def _check_user_augment(augment, x: torch.Tensor) -> None:
    """Dry-run a user's augmentation on two rows (own generator: the fit's random stream is untouched)."""
    gen = torch.Generator(device=x.device).manual_seed(0)
    try:
        out = augment(x.clone(), gen)
    except Exception as exc:
        raise ValueError(
            f"augment(x, generator) failed on a batch of shape {tuple(x.shape)}: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(out, torch.Tensor) or out.shape != x.shape or not out.is_floating_point():
        got = f"{tuple(out.shape)} {out.dtype}" if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"augment(x, generator) must return a float tensor of the shape of x, {tuple(x.shape)}; "
                         f"got {got}.")
