"""Projection and cluster heads."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .encoders import MLP

__all__ = ["ClusterHead", "ProjectionHead"]


class ProjectionHead(MLP):
    """MLP projection head ``in -> hidden (ReLU) -> out``, optionally L2-normalising its output.

    Parameters
    ----------
    in_dim : int
        Input width.
    hidden_dims : tuple of int
        Hidden widths (each followed by the activation); ``()`` gives a linear head.
    out_dim : int
        Output width.
    normalize : bool, default=False
        L2-normalise the output rows.
    activation : str, default="relu"
        Hidden activation.
    batchnorm : bool, default=False
        Batch normalisation after each hidden linear layer.
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dims: tuple[int, ...],
        out_dim: int,
        *,
        normalize: bool = False,
        activation: str = "relu",
        batchnorm: bool = False,
    ):
        super().__init__((in_dim, *hidden_dims, out_dim), activation=activation, batchnorm=batchnorm)
        self.normalize = normalize

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        out = super().forward(x)
        return F.normalize(out, dim=1) if self.normalize else out


class ClusterHead(nn.Module):
    """Cluster head returning logits over ``n_clusters`` (softmax gives soft assignments).

    Parameters
    ----------
    in_dim : int
        Input width.
    n_clusters : int
        Number of clusters.
    hidden_dims : tuple of int, default=()
        Optional hidden layers before the final linear layer.
    """

    def __init__(self, in_dim: int, n_clusters: int, hidden_dims: tuple[int, ...] = ()):
        super().__init__()
        self.net = MLP((in_dim, *hidden_dims, n_clusters))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.net(x)
