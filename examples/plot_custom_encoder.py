"""
=======================================
Bring your own encoder (a torch module)
=======================================

The single-view estimators (:class:`~skdeepclust.HaDis`, :class:`~skdeepclust.SeCu`,
:class:`~skdeepclust.MTDC`) build a default backbone, but accept any PyTorch module as
``encoder=``. The contract is small:

- the module maps a batch of **flattened rows** ``(n, n_features)`` to ``(n, k)``; images arrive
  flattened (and augmented), so a convolutional encoder reshapes them itself;
- the width ``k`` is read from an ``out_dim`` attribute if the module has one, otherwise from a dry
  run on two zero rows;
- the module is deep-copied with its current weights (pre-trained weights are kept; your object is
  left untouched) and trained together with the method's heads.

Here we write a small residual CNN for the 8x8 digits and train :class:`~skdeepclust.MTDC` with it.
"""

# %%
# Define the encoder
# ------------------
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from torch import nn

from skdeepclust import MTDC
from skdeepclust.metrics import evaluate_clustering


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x):
        return torch.relu(x + self.body(x))


class SmallResNet(nn.Module):
    """Flattened 8x8 grey images -> ``out_dim`` features."""

    def __init__(self, image_shape=(1, 8, 8), width=32, out_dim=128):
        super().__init__()
        self.image_shape = image_shape
        self.out_dim = out_dim  # read by skdeepclust (otherwise it does a dry run)
        self.net = nn.Sequential(
            nn.Conv2d(image_shape[0], width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            ResidualBlock(width),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1, bias=False),  # 8x8 -> 4x4
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            ResidualBlock(2 * width),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(2 * width, out_dim),
        )

    def forward(self, x):
        # x: (n, C*H*W) flattened rows -> images -> features
        return self.net(x.reshape(-1, *self.image_shape))


# %%
# The estimators never touch the global random state, so the encoder's initial weights come from
# whatever the global torch generator holds when you build it: seed it for a reproducible run.
torch.manual_seed(0)
encoder = SmallResNet()
print(f"{sum(p.numel() for p in encoder.parameters()):,} parameters")
with torch.no_grad():  # check the contract: (n, 64) -> (n, 128)
    print(encoder.eval()(torch.zeros(2, 64)).shape)
initial = {k: v.clone() for k, v in encoder.state_dict().items()}  # to check it is left untouched

# %%
# Train MTDC with it
# ------------------
# ``image_shape`` still matters with a custom encoder: it tells the estimator the rows are images
# in [0, 1], so the image augmentations (crops, small rotations, intensity jitter) are used.
# ``hidden_dims`` (the default backbone's widths) is ignored when ``encoder`` is given.
X, y = load_digits(return_X_y=True)
X = X / 16.0

model = MTDC(
    n_clusters=10,
    image_shape=(1, 8, 8),
    encoder=encoder,
    n_epochs=30,
    batch_size=64,
    device="cpu",
    random_state=0,
)
t0 = time.perf_counter()
labels = model.fit_predict(X)
print(f"MTDC fitted in {time.perf_counter() - t0:.1f} s")
print({k: round(v, 3) for k, v in evaluate_clustering(y, labels).items()})

# %%
# The trained copy lives in the fitted network (``network_.backbone`` for MTDC); the module you
# passed keeps its initial weights, so it can seed another fit.
trained = model.network_.backbone
print("trained copy:", type(trained).__name__, "| same object as `encoder`:", trained is encoder)
unchanged = all(torch.equal(v, initial[k]) for k, v in encoder.state_dict().items())
print("`encoder` still has its initial weights:", unchanged)

# %%
# Look at what the encoder learned
# --------------------------------
# MTDC's ``transform`` returns cluster probabilities; the encoder's own features are one call
# away. We embed the digits with the trained backbone (in eval mode, without gradients) and project
# them on two principal components, coloured by cluster.
with torch.no_grad():
    trained.eval()
    features = trained(torch.as_tensor(X, dtype=torch.float32)).numpy()
xy = PCA(n_components=2).fit_transform(features)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
for ax, (title, colours) in zip(
    axes, [("coloured by MTDC cluster", labels), ("coloured by true digit", y)], strict=True
):
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=colours, s=6, cmap="tab10", vmin=-0.5, vmax=9.5)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(sc, ax=axes, ticks=np.arange(10))
fig.suptitle("Features of the trained custom encoder (first two principal components)")
plt.show()
