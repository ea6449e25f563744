"""MLP and small convolutional encoders, and an MLP autoencoder.

Images are given to the estimators as flattened rows plus ``image_shape=(C, H, W)``; the conv modules
here take and return flattened rows too, so every encoder has the same ``(n, d) -> (n, latent)``
interface and a method never needs to know which kind it has.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLP", "Autoencoder", "ConvEncoder", "make_autoencoder", "make_encoder", "output_dim"]

_ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


def _activation(name: str) -> nn.Module:
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"Unknown activation {name!r}; choose from {sorted(_ACTIVATIONS)}.") from None


class MLP(nn.Sequential):
    """Fully connected network through the widths ``dims`` (input first).

    Every layer but the last is followed by (optional batch norm and) the activation; the output is
    linear unless ``activate_output``.

    Parameters
    ----------
    dims : sequence of int
        Layer widths, input first, at least two.
    activation : str, default="relu"
        One of ``"relu"``, ``"leaky_relu"``, ``"gelu"``, ``"tanh"``.
    batchnorm : bool, default=False
        Insert ``BatchNorm1d`` before each hidden activation.
    activate_output : bool, default=False
        Follow the last layer too by (batch norm and) the activation, as in a backbone whose output
        feeds further heads.
    """

    def __init__(self, dims, activation: str = "relu", batchnorm: bool = False, activate_output: bool = False):
        dims = [int(d) for d in dims]
        if len(dims) < 2:
            raise ValueError(f"An MLP needs at least an input and an output width, got {dims}.")
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(dims) - 2 or activate_output:
                if batchnorm:
                    layers.append(nn.BatchNorm1d(b))
                layers.append(_activation(activation))
        super().__init__(*layers)
        self.in_dim, self.out_dim = dims[0], dims[-1]


class ConvEncoder(nn.Module):
    """Small convolutional encoder for flattened images.

    One block per entry of ``channels``: ``Conv3x3 (stride 2) -> BatchNorm -> ReLU``, then global
    average pooling and a linear layer to ``latent_dim``.

    Parameters
    ----------
    image_shape : tuple of int
        ``(C, H, W)`` of the flattened rows.
    latent_dim : int
        Output width.
    channels : tuple of int, default=(32, 64, 128)
        Output channels of the stride-2 blocks.
    """

    def __init__(self, image_shape, latent_dim: int, channels=(32, 64, 128)):
        super().__init__()
        c, h, w = (int(s) for s in image_shape)
        self.image_shape = (c, h, w)
        layers: list[nn.Module] = []
        ch_in = c
        for ch_out in channels:
            layers += [nn.Conv2d(ch_in, int(ch_out), 3, stride=2, padding=1), nn.BatchNorm2d(int(ch_out)), nn.ReLU()]
            ch_in = int(ch_out)
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(ch_in, latent_dim)
        self.in_dim, self.out_dim = c * h * w, latent_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        x = x.reshape(x.shape[0], *self.image_shape)
        return self.fc(self.features(x).mean(dim=(2, 3)))


class Autoencoder(nn.Module):
    """An encoder/decoder pair; ``forward`` returns ``(latent, reconstruction)``.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps ``(n, d)`` to ``(n, latent)``.
    decoder : torch.nn.Module
        Maps ``(n, latent)`` back to ``(n, d)``.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # noqa: D102
        z = self.encoder(x)
        return z, self.decoder(z)


def make_autoencoder(
    in_dim: int,
    hidden_dims: tuple[int, ...],
    latent_dim: int,
    *,
    activation: str = "relu",
    batchnorm: bool = False,
) -> Autoencoder:
    """Build an MLP autoencoder with mirrored widths.

    Parameters
    ----------
    in_dim : int
        Input width.
    hidden_dims : tuple of int
        Hidden widths of the encoder (the decoder mirrors them).
    latent_dim : int
        Latent width.
    activation : str, default="relu"
        MLP activation.
    batchnorm : bool, default=False
        MLP batch normalisation.

    Returns
    -------
    Autoencoder
    """
    enc = MLP((in_dim, *hidden_dims, latent_dim), activation=activation, batchnorm=batchnorm)
    dec = MLP((latent_dim, *reversed(hidden_dims), in_dim), activation=activation, batchnorm=batchnorm)
    return Autoencoder(enc, dec)


def make_encoder(
    in_dim: int,
    hidden_dims: tuple[int, ...],
    *,
    image_shape: tuple[int, int, int] | None = None,
    out_dim: int | None = None,
) -> nn.Module:
    """Default backbone of the single-view methods: a conv net for images, an MLP for rows.

    The MLP is ``in_dim -> hidden_dims[0] -> ... -> hidden_dims[-1]`` with batch norm and ReLU after
    every layer (its output is ``hidden_dims[-1]``-wide). For images, ``hidden_dims`` are the channels
    of the stride-2 blocks of a :class:`ConvEncoder` whose output width is ``out_dim`` (default: the
    last channel count).

    Parameters
    ----------
    in_dim : int
        Input width.
    hidden_dims : tuple of int
        See above.
    image_shape : tuple of int, optional
        ``(C, H, W)`` of flattened image rows.
    out_dim : int, optional
        Output width of the conv encoder.

    Returns
    -------
    torch.nn.Module
        Maps ``(n, in_dim)`` to ``(n, width)``; the width is available as ``module.out_dim``.
    """
    if image_shape is not None:
        return ConvEncoder(image_shape, out_dim or int(hidden_dims[-1]), hidden_dims)
    return MLP((in_dim, *hidden_dims), batchnorm=True, activate_output=True)


def output_dim(module: nn.Module, in_dim: int, *, sample: torch.Tensor | None = None) -> int:
    """Width of ``module``'s output for ``(n, in_dim)`` inputs (read from ``out_dim`` or a dry run).

    Parameters
    ----------
    module : torch.nn.Module
        An encoder.
    in_dim : int
        Input width.
    sample : torch.Tensor of shape (n, in_dim), optional
        Rows to dry-run the module on (in eval mode, without gradients). Given, the module is always
        run and a declared ``out_dim`` must match what it returns, so that a user's encoder is checked;
        otherwise a declared ``out_dim`` is trusted and two zero rows are used.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the module fails on the rows, does not return a 2-D tensor with one row per input row, or
        returns another width than its ``out_dim``.
    """
    declared = getattr(module, "out_dim", None)
    if sample is None and isinstance(declared, int):
        return declared
    if sample is None:
        p = next(module.parameters(), None)
        sample = torch.zeros(2, in_dim, device=p.device if p is not None else "cpu")
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(sample)
    except Exception as exc:
        raise ValueError(
            f"encoder failed on a batch of shape {tuple(sample.shape)}: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        module.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != sample.shape[0]:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"encoder must map a batch of shape (n, {in_dim}) to a tensor (n, k); got {got}.")
    if isinstance(declared, int) and declared != out.shape[1]:
        raise ValueError(f"encoder.out_dim is {declared} but the encoder returns {out.shape[1]} features.")
    return int(out.shape[1])
