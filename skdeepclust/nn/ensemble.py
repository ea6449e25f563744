"""Ensembles of independent networks evaluated as one module.

``M`` members of identical architecture but independent weights are stored side by side and run in
one batched call: convolutions use ``groups=M`` (member ``m`` owns channel group ``m``), linear
layers are batched matrix products, and batch norms normalise each member's channels separately.
Member ``m``'s output depends only on member ``m``'s input and weights, so training the ensemble on
the sum of the members' losses is exactly training the members independently (Adam and SGD act per
parameter), while each optimizer step costs one kernel launch instead of ``M``.

Tensors are laid out ``(batch, member, ...)``: each member may see different samples in the same
batch position (its own data order).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["EnsembleConvAutoencoder", "EnsembleLinear", "EnsembleMLP", "EnsembleMLPAutoencoder"]

#: LeakyReLU slope of the SPC reference networks
_SLOPE = 0.3


class EnsembleLinear(nn.Module):
    """``M`` independent linear layers: ``(batch, M, in) -> (batch, M, out)``.

    Parameters
    ----------
    n_members : int
        Number of members ``M``.
    in_features, out_features : int
        Per-member input and output widths.
    bias : bool, default=True
        Add a per-member bias.
    """

    def __init__(self, n_members: int, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.n_members, self.in_features, self.out_features = n_members, in_features, out_features
        self.weight = nn.Parameter(torch.empty(n_members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n_members, out_features)) if bias else None

    def reset_parameters_from(self, generator: torch.Generator) -> None:
        """PyTorch's ``nn.Linear`` initialisation, per member, drawn from ``generator``."""
        bound = 1.0 / math.sqrt(self.in_features)  # kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), ...)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound, generator=generator)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        out = torch.einsum("bmi,mio->bmo", x, self.weight)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:  # noqa: D102
        return f"n_members={self.n_members}, in={self.in_features}, out={self.out_features}"


class _MemberBatchNorm1d(nn.BatchNorm1d):
    """Batch norm of ``(batch, M, d)`` with separate statistics per member and feature."""

    def __init__(self, n_members: int, d: int):
        super().__init__(n_members * d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        b, m, d = x.shape
        return super().forward(x.reshape(b, m * d)).reshape(b, m, d)


class EnsembleMLP(nn.Sequential):
    """``M`` independent MLPs: ``(batch, M, dims[0]) -> (batch, M, dims[-1])``.

    Hidden layers are Linear, LeakyReLU(0.3) and (optionally) BatchNorm, in that order; the last layer
    is linear.

    Parameters
    ----------
    n_members : int
        Number of members.
    dims : sequence of int
        Layer widths, input first.
    batchnorm : bool, default=True
        Batch norm after each hidden activation.
    activation : {"leaky_relu", "relu"}, default="leaky_relu"
        Hidden activation.
    """

    def __init__(self, n_members: int, dims, batchnorm: bool = True, activation: str = "leaky_relu"):
        layers: list[nn.Module] = []
        dims = [int(d) for d in dims]
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            layers.append(EnsembleLinear(n_members, a, b))
            if i < len(dims) - 2:
                layers.append(nn.LeakyReLU(_SLOPE) if activation == "leaky_relu" else nn.ReLU())
                if batchnorm:
                    layers.append(_MemberBatchNorm1d(n_members, b))
        super().__init__(*layers)


class EnsembleMLPAutoencoder(nn.Module):
    """``M`` independent MLP autoencoders ``d -> hidden -> latent -> reversed(hidden) -> d``.

    Parameters
    ----------
    n_members : int
        Number of members.
    in_dim : int
        Input width ``d``.
    hidden_dims : sequence of int
        Encoder hidden widths (the decoder mirrors them).
    latent_dim : int
        Latent width.
    """

    def __init__(self, n_members: int, in_dim: int, hidden_dims, latent_dim: int):
        super().__init__()
        dims = [in_dim, *hidden_dims, latent_dim]
        self.n_members, self.latent_dim = n_members, latent_dim
        self.encoder = EnsembleMLP(n_members, dims)
        self.decoder = EnsembleMLP(n_members, dims[::-1])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, M, d) -> (batch, M, latent)``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(batch, M, latent) -> (batch, M, d)``."""
        return self.decoder(z)


def _conv_unit(n_members: int, c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    """Conv3x3 (no bias), LeakyReLU(0.3), BatchNorm: the SPC reference's conv unit, per member."""
    return [
        nn.Conv2d(n_members * c_in, n_members * c_out, 3, stride, 1, bias=False, groups=n_members),
        nn.LeakyReLU(_SLOPE),
        nn.BatchNorm2d(n_members * c_out),
    ]


def _upsampling_plan(start: int, target: int, n_layers: int) -> list[tuple[int, int, int]]:
    """Sizes, paddings and output paddings of ``n_layers`` stride-2 kernel-4 transposed convs."""
    sizes = [target]
    for _ in range(n_layers - 1):
        sizes.append(math.ceil(sizes[-1] / 2))
    sizes = sizes[::-1]
    plan, size = [], start
    for out in sizes:
        need = 2 * size + 2 - out  # out = 2 * size + 2 - 2p + output_padding
        pad = max(0, math.ceil(need / 2))
        out_pad = min(1, max(0, 2 * pad - need))
        size = 2 * size + 2 - 2 * pad + out_pad
        plan.append((size, pad, out_pad))
    return plan


class EnsembleConvAutoencoder(nn.Module):
    """``M`` independent convolutional autoencoders of the SPC reference architecture.

    Encoder: conv units ``C->4`` (stride 2), ``4->8->16->32->64``, adaptive max-pool to 8x8, conv units
    ``64->128`` (stride 2), ``128->256->latent``, global max-pool (the latent is a max-pool of
    batch-normed activations; no linear layer). Decoder (DCGAN-like, kernel 4): ``latent->256`` (1x1 to
    2x2), ``->128`` (4x4), ``->64`` (8x8), then stride-2 layers up to the image size (paddings chosen per
    size, so 16x16, 28x28, 32x32 and other sizes work), BN and LeakyReLU(0.3) between layers, ``tanh``
    output. Images of at most 8 pixels a side get a final 3x3 layer instead of upsampling; any size the
    transposed convolutions cannot reach exactly is resized bilinearly at the end.

    Parameters
    ----------
    n_members : int
        Number of members.
    image_shape : tuple of int
        ``(C, H, W)``.
    latent_dim : int
        Latent width (50 in the reference).
    """

    def __init__(self, n_members: int, image_shape, latent_dim: int):
        super().__init__()
        c, h, w = (int(s) for s in image_shape)
        self.n_members, self.image_shape, self.latent_dim = n_members, (c, h, w), latent_dim
        m = n_members
        enc: list[nn.Module] = []
        for a, b, s in [(c, 4, 2), (4, 8, 1), (8, 16, 1), (16, 32, 1), (32, 64, 1)]:
            enc += _conv_unit(m, a, b, s)
        enc.append(nn.AdaptiveMaxPool2d(8))
        for a, b, s in [(64, 128, 2), (128, 256, 1), (256, latent_dim, 1)]:
            enc += _conv_unit(m, a, b, s)
        enc.append(nn.AdaptiveMaxPool2d(1))
        self.encoder = nn.Sequential(*enc)

        def up(a: int, b: int, stride: int, pad, out_pad=0, last: bool = False) -> list[nn.Module]:
            layer = nn.ConvTranspose2d(m * a, m * b, 4, stride, pad, out_pad, groups=m, bias=last)
            return [layer] if last else [layer, nn.BatchNorm2d(m * b), nn.LeakyReLU(_SLOPE)]

        dec = up(latent_dim, 256, 1, 1) + up(256, 128, 2, 1) + up(128, 64, 2, 1)
        n_up = max(len(_chain(h)), len(_chain(w)))
        channels = 64
        if n_up == 0:
            dec.append(nn.Conv2d(m * channels, m * c, 3, 1, 1, groups=m))
        else:
            plan_h, plan_w = _upsampling_plan(8, h, n_up), _upsampling_plan(8, w, n_up)
            for i, ((_, ph, oh), (_, pw, ow)) in enumerate(zip(plan_h, plan_w, strict=True)):
                last = i == n_up - 1
                nxt = c if last else max(16, channels // 2)
                dec += up(channels, nxt, 2, (ph, pw), (oh, ow), last=last)
                channels = nxt
        self.decoder = nn.Sequential(*dec)

    def reset_parameters_from(self, generator: torch.Generator) -> None:
        """Kaiming-normal encoder convolutions (the reference's ``conv_layer`` initialisation)."""
        with torch.no_grad():
            for mod in self.encoder.modules():
                if isinstance(mod, nn.Conv2d):
                    nn.init.kaiming_normal_(mod.weight, generator=generator)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, M, C*H*W) -> (batch, M, latent)``."""
        b = x.shape[0]
        c, h, w = self.image_shape
        return self.encoder(x.reshape(b, self.n_members * c, h, w)).reshape(b, self.n_members, self.latent_dim)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(batch, M, latent) -> (batch, M, C*H*W)``, values in ``(-1, 1)``."""
        b = z.shape[0]
        c, h, w = self.image_shape
        out = self.decoder(z.reshape(b, -1, 1, 1))
        if out.shape[-2:] != (h, w):
            out = F.interpolate(out, size=(h, w), mode="bilinear", align_corners=False)
        return torch.tanh(out).reshape(b, self.n_members, c * h * w)


def _chain(size: int) -> list[int]:
    """Stride-2 upsampling steps needed from 8 pixels to ``size``."""
    steps = []
    while size > 8:
        steps.append(size)
        size = math.ceil(size / 2)
    return steps
