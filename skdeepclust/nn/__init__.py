"""Reusable network modules: MLP and convolutional encoders/decoders, projection and cluster heads."""

from .encoders import MLP, Autoencoder, ConvEncoder, make_autoencoder, make_encoder, output_dim
from .ensemble import EnsembleConvAutoencoder, EnsembleLinear, EnsembleMLP, EnsembleMLPAutoencoder
from .heads import ClusterHead, ProjectionHead

__all__ = [
    "EnsembleConvAutoencoder",
    "EnsembleLinear",
    "EnsembleMLP",
    "EnsembleMLPAutoencoder",
    "MLP",
    "Autoencoder",
    "ClusterHead",
    "ConvEncoder",
    "ProjectionHead",
    "make_autoencoder",
    "make_encoder",
    "output_dim",
]
