"""K-means in PyTorch.

:func:`kmeans`: k-means++ seeding and Lloyd iterations, computed on the data's device, the best of ``n_init``
restarts kept; past :data:`~skdeepclust.cluster.KMEANS_RESTART_MAX_ROWS` rows the restarts run on a subsample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import cluster  # its size threshold is read from the package at each call: users set it there


@dataclass
class KMeansResult:
    """Output of :func:`kmeans`.

    Attributes
    ----------
    centers : torch.Tensor of shape (K, d)
    labels : torch.Tensor of shape (n,)
    inertia : float
        Sum of squared distances of samples to their center.
    n_iter : int
        Lloyd iterations of the best run.
    """

    centers: torch.Tensor
    labels: torch.Tensor
    inertia: float
    n_iter: int


def _sq_dists(x: torch.Tensor, c: torch.Tensor, x_sq: torch.Tensor) -> torch.Tensor:
    return (x_sq[:, None] - 2.0 * (x @ c.T) + (c * c).sum(1)[None, :]).clamp_min_(0.0)


def _kmeans_plusplus(x: torch.Tensor, k: int, x_sq: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Greedy k-means++ seeding (2 + log k candidates per step, as scikit-learn)."""
    n = x.shape[0]
    n_trials = 2 + int(np.log(k))
    first = torch.randint(n, (1,), generator=gen, device=gen.device).to(x.device)
    centers = [x[first]]
    closest = _sq_dists(x, centers[0], x_sq)[:, 0]
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than clusters: pick uniformly
            probs = torch.full_like(closest, 1.0 / n)
        else:
            probs = closest / total
        cand = torch.multinomial(probs.to(gen.device), n_trials, replacement=True, generator=gen).to(x.device)
        d_cand = torch.minimum(closest[None, :], _sq_dists(x, x[cand], x_sq).T)
        best = int(torch.argmin(d_cand.sum(1)))
        closest = d_cand[best]
        centers.append(x[cand[best]][None])
    return torch.cat(centers, dim=0)


def kmeans(
    x: torch.Tensor,
    n_clusters: int,
    *,
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
    generator: torch.Generator | None = None,
) -> KMeansResult:
    """Lloyd's k-means with k-means++ seeding, computed in torch on ``x``'s device.

    Parameters
    ----------
    x : torch.Tensor of shape (n, d)
        Data (any float dtype; computed in float32, or float64 if ``x`` is float64).
    n_clusters : int
        Number of clusters ``K`` (``1 <= K <= n``).
    n_init : int, default=10
        Independent seedings; the run with the lowest inertia is kept.
    max_iter : int, default=300
        Maximum Lloyd iterations per run.
    tol : float, default=1e-4
        Convergence threshold on the total squared center shift, relative to the mean per-feature
        variance of ``x`` (scikit-learn's convention).
    generator : torch.Generator, optional
        Source of randomness (on the CPU or on ``x``'s device). ``None`` uses a fresh unseeded one.

    Returns
    -------
    KMeansResult
        Best centers, labels, inertia and iteration count. Empty clusters are re-seeded with the
        point farthest from its center, so every cluster has at least one member when ``n >= K``.

    Notes
    -----
    With ``n_init > 1`` and more than :data:`KMEANS_RESTART_MAX_ROWS` rows, the restarts (seeding and
    Lloyd iterations) run on a random subsample of :data:`KMEANS_RESTART_MAX_ROWS` rows drawn from
    ``generator``, and the centers of the restart with the lowest subsample inertia start one Lloyd run on
    all rows: the cost is that of one full run plus ``n_init`` runs on the subsample, bounded in ``n``.
    """
    if x.ndim != 2:
        raise ValueError(f"kmeans expects a 2-D tensor, got shape {tuple(x.shape)}.")
    n = x.shape[0]
    if not 1 <= n_clusters <= n:
        raise ValueError(f"n_clusters={n_clusters} must be between 1 and n_samples={n}.")
    if generator is None:
        generator = torch.Generator(device="cpu")
        generator.seed()
    if x.dtype not in (torch.float32, torch.float64):
        x = x.float()
    x_sq = (x * x).sum(1)
    tol_abs = tol * float(x.var(dim=0).mean()) if n > 1 else 0.0
    if n_init > 1 and n > cluster.KMEANS_RESTART_MAX_ROWS:
        pick = torch.randperm(n, generator=generator, device=generator.device)[: cluster.KMEANS_RESTART_MAX_ROWS]
        sub = x[pick.to(x.device)]
        start = kmeans(sub, n_clusters, n_init=n_init, max_iter=max_iter, tol=tol, generator=generator).centers
        return _lloyd_runs(x, n_clusters, 1, max_iter, tol_abs, x_sq, generator, start)
    return _lloyd_runs(x, n_clusters, n_init, max_iter, tol_abs, x_sq, generator, None)


def _lloyd_runs(x: torch.Tensor, n_clusters: int, n_init: int, max_iter: int, tol_abs: float, x_sq: torch.Tensor,
                generator: torch.Generator, start: torch.Tensor | None) -> KMeansResult:
    """``n_init`` Lloyd runs from k-means++ seeds (or one from ``start``); the lowest inertia wins."""
    best: KMeansResult | None = None
    for _ in range(n_init):
        centers = _kmeans_plusplus(x, n_clusters, x_sq, generator) if start is None else start.to(x.dtype)
        n_iter = 0
        for n_iter in range(1, max_iter + 1):  # noqa: B007
            d = _sq_dists(x, centers, x_sq)
            labels = d.argmin(1)
            counts = torch.bincount(labels, minlength=n_clusters)
            new = torch.zeros_like(centers).index_add_(0, labels, x)
            empty = counts == 0
            if bool(empty.any()):
                far = d.gather(1, labels[:, None])[:, 0].topk(int(empty.sum())).indices
                new[empty] = x[far]
                counts = counts.clone()
                counts[empty] = 1
            new = new / counts[:, None].to(x.dtype)
            shift = float(((new - centers) ** 2).sum())
            centers = new
            if shift <= tol_abs:
                break
        d = _sq_dists(x, centers, x_sq)
        mind, labels = d.min(1)
        inertia = float(mind.sum())
        if best is None or inertia < best.inertia:
            best = KMeansResult(centers=centers, labels=labels, inertia=inertia, n_iter=n_iter)
    assert best is not None
    return best
