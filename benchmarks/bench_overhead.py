"""Training-loop overhead: DistilMVC's stage-2 epoch through the package vs. a bare PyTorch loop.

Both train the same networks (DistilMVC's default widths: per-view autoencoders, student and teacher
projection heads and a cluster head, built here from ``skdeepclust.nn``) with the same losses, Adam and
EMA on two 784-d views of 5000 samples (MNIST-USPS-sized random data), batch 256, on the CPU. The package
run is a full ``DistilMVC.fit`` with only the contrastive stage; its per-epoch seconds come from
``history_``. Usage::

    python benchmarks/bench_overhead.py [--epochs 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from skdeepclust import DistilMVC
from skdeepclust.losses import cluster_contrastive_loss, cross_view_mutual_information, nt_xent
from skdeepclust.nn import ClusterHead, ProjectionHead, make_autoencoder
from skdeepclust.training import cosine_momentum

N, D, K, B = 5000, 784, 10, 256


class BareNet(nn.Module):
    """DistilMVC's networks at the estimator's default widths, from the package's public building blocks."""

    def __init__(self, est: DistilMVC):
        super().__init__()
        dims = tuple(est.hidden_dims)
        self.autoencoders = nn.ModuleList(make_autoencoder(D, dims, est.latent_dim) for _ in range(2))
        self.student = ProjectionHead(est.latent_dim, (est.head_hidden_dim,), est.feature_dim)
        self.teacher = ProjectionHead(est.latent_dim, (est.head_hidden_dim,), est.feature_dim, normalize=True)
        self.cluster = ClusterHead(est.feature_dim, K)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.cluster(self.student(z))


def bare_epochs(views, epochs: int) -> list[float]:
    est = DistilMVC(n_clusters=K)  # defaults, for the widths
    torch.manual_seed(0)
    net = BareNet(est)
    net.teacher.load_state_dict(net.student.state_dict())
    opt = torch.optim.Adam(net.parameters(), lr=est.lr)
    times = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(N)
        for b in range(N // B):
            idx = perm[b * B : (b + 1) * B]
            xs = [v[idx] for v in views]
            opt.zero_grad()
            z0, r0 = net.autoencoders[0](xs[0])
            z1, r1 = net.autoencoders[1](xs[1])
            y0 = torch.softmax(net.logits(z0), 1)
            y1 = torch.softmax(net.logits(z1), 1)
            loss = (
                nt_xent(net.teacher(z0), net.teacher(z1), 0.5)
                + cluster_contrastive_loss(y0, y1, 1.0)
                + 5e-4 * cross_view_mutual_information(z0, z1, 9.0)
                + F.mse_loss(r0, xs[0])
                + F.mse_loss(r1, xs[1])
            )
            loss.backward()
            opt.step()
            tau = cosine_momentum(epoch + b + 1, epochs + 1, 0.4)
            with torch.no_grad():
                for pt, ps in zip(net.teacher.parameters(), net.student.parameters(), strict=True):
                    pt.mul_(tau).add_(ps, alpha=1 - tau)
        times.append(time.perf_counter() - t0)
    return times


def package_epochs(views, epochs: int) -> list[float]:
    X = torch.cat(views, 1).numpy()
    est = DistilMVC(n_clusters=K, view_sizes=(D, D), n_epochs_pretrain=0, n_epochs_contrastive=epochs,
                    n_epochs_distill=0, scaling="none", device="cpu", random_state=0).fit(X)
    return [r["seconds"] for r in est.history_ if r["stage"] == "contrastive"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    g = torch.Generator().manual_seed(0)
    views = [torch.rand(N, D, generator=g), torch.rand(N, D, generator=g)]
    samples = (N // B) * B
    bare, pkg = [], []
    for _ in range(args.repeats):  # interleave to share machine-load drift
        bare += bare_epochs(views, args.epochs)[1:]  # first epoch = warm-up
        pkg += package_epochs(views, args.epochs)[1:]
    b, p = samples / np.median(bare), samples / np.median(pkg)
    timed = f"{args.repeats}x{args.epochs - 1}"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {timed} epochs timed")
    print(f"bare PyTorch loop : {b:8.0f} samples/s (median epoch {np.median(bare):.3f}s)")
    print(f"skdeepclust fit   : {p:8.0f} samples/s (median epoch {np.median(pkg):.3f}s)")
    print(f"package overhead  : {100 * (b / p - 1):+.1f}%")


if __name__ == "__main__":
    main()
