"""Batched, on-device, seeded data augmentations.

Every function takes a whole batch and a ``torch.Generator`` on the batch's device, draws one set of
random parameters per sample, and never touches the global random state. Tabular augmentations work
on ``(n, d)`` rows; image augmentations on ``(n, C, H, W)`` tensors with values in ``[0, 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .cluster._neighbors import nearest_neighbors

__all__ = [
    "ImageAugment",
    "NeighborSwap",
    "TabularAugment",
    "color_jitter",
    "feature_mask",
    "gaussian_noise",
    "random_affine",
    "random_grayscale",
    "random_hflip",
    "random_resized_crop",
]


def _uniform(n: int, low: float, high: float, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=gen, device=x.device, dtype=torch.float32) * (high - low) + low


def gaussian_noise(x: torch.Tensor, scale: torch.Tensor | float, gen: torch.Generator) -> torch.Tensor:
    """Add ``N(0, scale^2)`` noise (``scale`` may be a per-feature vector).

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Rows.
    scale : float or torch.Tensor of shape (d,)
        Noise standard deviation, e.g. a fraction of each feature's standard deviation.
    gen : torch.Generator
        Generator on ``x``'s device.

    Returns
    -------
    torch.Tensor
        Noisy copy of ``x``.
    """
    return x + torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype) * scale


def feature_mask(x: torch.Tensor, p: float, gen: torch.Generator, fill: torch.Tensor | float = 0.0) -> torch.Tensor:
    """Replace each entry with ``fill`` independently with probability ``p``.

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Rows.
    p : float
        Masking probability.
    gen : torch.Generator
        Generator on ``x``'s device.
    fill : float or torch.Tensor of shape (d,), default=0.0
        Replacement value(s), e.g. the feature means.

    Returns
    -------
    torch.Tensor
        Masked copy of ``x``.
    """
    mask = torch.rand(x.shape, generator=gen, device=x.device) < p
    return torch.where(mask, torch.as_tensor(fill, dtype=x.dtype, device=x.device).expand_as(x), x)


@dataclass
class TabularAugment:
    """Feature-space augmentation for tabular rows: per-feature Gaussian noise plus random masking.

    Parameters
    ----------
    noise : float, default=0.1
        Noise standard deviation as a fraction of each feature's standard deviation.
    mask_prob : float, default=0.2
        Probability of replacing an entry by its feature mean.

    Notes
    -----
    Call :meth:`fit` with the training rows first to record feature means and standard deviations.
    """

    noise: float = 0.1
    mask_prob: float = 0.2

    def fit(self, x: torch.Tensor) -> TabularAugment:
        """Record per-feature statistics of ``x`` (shape ``(n, d)``)."""
        self.mean_ = x.mean(dim=0)
        self.std_ = x.std(dim=0) if x.shape[0] > 1 else torch.zeros_like(self.mean_)
        return self

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Return one augmented copy of the batch ``x``."""
        out = x
        if self.mask_prob > 0:
            out = feature_mask(out, self.mask_prob, gen, fill=self.mean_)
        if self.noise > 0:
            out = gaussian_noise(out, self.noise * self.std_, gen)
        return out


@dataclass
class NeighborSwap:
    """Training rows with entries taken from one of their nearest rows: a tabular view that stays on the data.

    Noise and masking leave an augmented row next to the row it came from, so an instance contrast on them
    pushes a row away from its nearest neighbours as hard as from any other row. Each copy made here takes
    every entry, with probability ``p``, from one of the row's ``n_neighbors`` nearest training rows (one
    neighbour per copy, drawn uniformly), so two copies of a row meet between the row and its neighbours.
    The single-view estimators apply it before :class:`TabularAugment` when they augment tabular rows
    themselves (see :ref:`images`).

    Parameters
    ----------
    p : float, default=0.5
        Probability that an entry is taken from the neighbour.
    n_neighbors : int, default=10
        Nearest rows (Euclidean, the row itself excluded) the neighbour is drawn from; at most the number of
        other rows.

    Notes
    -----
    Call :meth:`fit` with the training rows first; copies are then made by row index.
    """

    p: float = 0.5
    n_neighbors: int = 10

    def fit(self, x: torch.Tensor, random_state=None) -> NeighborSwap:
        """Find every row's nearest rows in ``x`` (shape ``(n, d)``), the rows :meth:`__call__` copies.

        ``random_state`` seeds the approximate search of :func:`~skdeepclust.cluster.nearest_neighbors`
        (large ``n`` only).
        """
        k = min(int(self.n_neighbors), x.shape[0] - 1)
        self.neighbors_ = (nearest_neighbors(x, k + 1, random_state=random_state)[1][:, 1:].to(x.device)
                           if k > 0 else None)
        return self

    def __call__(self, x: torch.Tensor, idx: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """One copy of the rows ``x[idx]`` (``x``: the rows given to :meth:`fit`) with swapped entries."""
        rows = x[idx]
        if self.neighbors_ is None or self.p <= 0:
            return rows
        pick = torch.randint(0, self.neighbors_.shape[1], (rows.shape[0],), generator=gen, device=x.device)
        other = x[self.neighbors_[idx, pick]]
        swap = torch.rand(rows.shape, generator=gen, device=x.device) < self.p
        return torch.where(swap, other, rows)


def random_resized_crop(
    x: torch.Tensor,
    gen: torch.Generator,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> torch.Tensor:
    """Crop a random area/aspect box from each image and resize it back to the input size.

    Box area is ``U(scale) * H * W`` and log-aspect ``U(log ratio)``; boxes larger than the image are
    clipped to it (torchvision retries instead; the distributions are close). Resampling is bilinear
    via ``grid_sample``, batched.

    Parameters
    ----------
    x : torch.Tensor of shape (n, C, H, W)
        Images.
    gen : torch.Generator
        Generator on ``x``'s device.
    scale : tuple of float, default=(0.08, 1.0)
        Range of the crop area as a fraction of the image.
    ratio : tuple of float, default=(3/4, 4/3)
        Range of the crop aspect ratio (width / height).

    Returns
    -------
    torch.Tensor of shape (n, C, H, W)
    """
    n, _, h, w = x.shape
    area = _uniform(n, *scale, x, gen)
    log_r = _uniform(n, float(torch.log(torch.tensor(ratio[0]))), float(torch.log(torch.tensor(ratio[1]))), x, gen)
    r = torch.exp(log_r)
    # crop width / height as fractions of the image side
    cw = torch.sqrt(area * r).clamp(max=1.0)
    ch = torch.sqrt(area / r).clamp(max=1.0)
    cx = (torch.rand(n, generator=gen, device=x.device) * (1 - cw) + cw / 2) * 2 - 1
    cy = (torch.rand(n, generator=gen, device=x.device) * (1 - ch) + ch / 2) * 2 - 1
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=torch.float32)
    theta[:, 0, 0], theta[:, 0, 2] = cw, cx
    theta[:, 1, 1], theta[:, 1, 2] = ch, cy
    grid = F.affine_grid(theta, (n, x.shape[1], h, w), align_corners=False)
    return F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="border", align_corners=False).to(x.dtype)


def random_affine(
    x: torch.Tensor,
    gen: torch.Generator,
    degrees: float = 10.0,
    translate: float = 0.1,
    scale: tuple[float, float] = (0.9, 1.1),
) -> torch.Tensor:
    """Random rotation, translation and isotropic scaling per image (bilinear, zero padding).

    Parameters
    ----------
    x : torch.Tensor of shape (n, C, H, W)
        Images.
    gen : torch.Generator
        Generator on ``x``'s device.
    degrees : float, default=10.0
        Rotation angle drawn from ``U(-degrees, degrees)``.
    translate : float, default=0.1
        Shift drawn from ``U(-translate, translate)`` times the image side, per axis.
    scale : tuple of float, default=(0.9, 1.1)
        Zoom factor range (> 1 enlarges the content).

    Returns
    -------
    torch.Tensor of shape (n, C, H, W)
    """
    n = x.shape[0]
    angle = _uniform(n, -degrees, degrees, x, gen) * (torch.pi / 180.0)
    zoom = _uniform(n, *scale, x, gen)
    tx = _uniform(n, -translate, translate, x, gen) * 2
    ty = _uniform(n, -translate, translate, x, gen) * 2
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, tuple(x.shape), align_corners=False)
    return F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False).to(x.dtype)


def random_hflip(x: torch.Tensor, gen: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Flip each image horizontally with probability ``p``."""
    flip = (torch.rand(x.shape[0], generator=gen, device=x.device) < p)[:, None, None, None]
    return torch.where(flip, x.flip(-1), x)


def _gray(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 3:
        w = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype)[None, :, None, None]
        return (x * w).sum(1, keepdim=True)
    return x.mean(1, keepdim=True)


def random_grayscale(x: torch.Tensor, gen: torch.Generator, p: float = 0.2) -> torch.Tensor:
    """Convert each RGB image to grayscale (kept 3-channel) with probability ``p``; no-op for 1 channel."""
    if x.shape[1] == 1:
        return x
    pick = (torch.rand(x.shape[0], generator=gen, device=x.device) < p)[:, None, None, None]
    return torch.where(pick, _gray(x).expand_as(x), x)


def color_jitter(
    x: torch.Tensor,
    gen: torch.Generator,
    brightness: float = 0.4,
    contrast: float = 0.4,
    saturation: float = 0.4,
    p: float = 0.8,
) -> torch.Tensor:
    """Random brightness, contrast and saturation factors per image, applied with probability ``p``.

    Factors are drawn from ``U(1 - s, 1 + s)``; saturation is skipped for 1-channel images (hue
    jitter is not implemented). Results are clipped to ``[0, 1]``.

    Parameters
    ----------
    x : torch.Tensor of shape (n, C, H, W)
        Images in ``[0, 1]``.
    gen : torch.Generator
        Generator on ``x``'s device.
    brightness, contrast, saturation : float
        Jitter strengths.
    p : float, default=0.8
        Probability of jittering an image.

    Returns
    -------
    torch.Tensor of shape (n, C, H, W)
    """
    n = x.shape[0]
    shape = (n, 1, 1, 1)
    apply = (torch.rand(n, generator=gen, device=x.device) < p).view(shape)
    b = _uniform(n, 1 - brightness, 1 + brightness, x, gen).view(shape)
    c = _uniform(n, 1 - contrast, 1 + contrast, x, gen).view(shape)
    s = _uniform(n, 1 - saturation, 1 + saturation, x, gen).view(shape)
    out = (x * b).clamp(0, 1)
    mean = _gray(out).mean(dim=(1, 2, 3), keepdim=True)
    out = ((out - mean) * c + mean).clamp(0, 1)
    if x.shape[1] == 3:
        g = _gray(out)
        out = ((out - g) * s + g).clamp(0, 1)
    return torch.where(apply, out, x)


@dataclass
class ImageAugment:
    """SimCLR-style image pipeline on flattened rows: crop, affine, flip, jitter, grayscale, noise.

    Parameters
    ----------
    image_shape : tuple of int
        ``(C, H, W)`` of the flattened rows.
    crop_scale : tuple of float, default=(0.2, 1.0)
        Random-resized-crop area range.
    flip : bool, default=True
        Random horizontal flips (turn off for digits, where a flip changes the class).
    jitter : float, default=0.4
        Brightness/contrast/saturation strength.
    jitter_prob : float, default=0.8
        Probability of jittering.
    grayscale_prob : float, default=0.2
        Probability of grayscale (RGB only).
    affine_degrees : float, default=0.0
        Random rotation range (0 disables the random affine step).
    affine_translate : float, default=0.0
        Random shift range (fraction of the side) of the affine step.
    noise : float, default=0.0
        Standard deviation of additive Gaussian pixel noise.
    """

    image_shape: tuple[int, int, int]
    crop_scale: tuple[float, float] = (0.2, 1.0)
    flip: bool = True
    jitter: float = 0.4
    jitter_prob: float = 0.8
    grayscale_prob: float = 0.2
    affine_degrees: float = 0.0
    affine_translate: float = 0.0
    noise: float = 0.0

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Return one augmented copy of the flattened batch ``x``."""
        n = x.shape[0]
        img = x.reshape(n, *self.image_shape)
        img = random_resized_crop(img, gen, scale=self.crop_scale)
        if self.affine_degrees > 0 or self.affine_translate > 0:
            img = random_affine(img, gen, self.affine_degrees, self.affine_translate, scale=(1.0, 1.0))
        if self.flip:
            img = random_hflip(img, gen)
        if self.jitter > 0:
            img = color_jitter(img, gen, self.jitter, self.jitter, self.jitter, p=self.jitter_prob)
        img = random_grayscale(img, gen, p=self.grayscale_prob)
        if self.noise > 0:
            img = gaussian_noise(img, self.noise, gen)
        return img.reshape(n, -1)
