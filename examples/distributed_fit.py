"""
=======================================================
Data-parallel training with ``torchrun`` (not run here)
=======================================================

Start this script with ``torchrun`` to train one :class:`~skdeepclust.SeCu` model in several
processes, each forwarding its share of every batch::

    torchrun --standalone --nproc_per_node 2 distributed_fit.py

Every process loads the same data and calls ``fit`` on all of it; the estimator notices the process
group and spreads each global batch of ``batch_size`` rows over the processes. All processes end
with the same fitted model, which rank 0 saves here. Started with plain ``python``, the script fits
the same model in one process. On CPUs the processes talk through the ``gloo`` backend; with one
GPU per process, through ``nccl``. The User Guide's page on data-parallel training says what is
shared and what is split.

This script is shown, not run, when the documentation is built (it needs ``torchrun``).
"""

import os
import pickle

import numpy as np
import torch
import torch.distributed as dist
from sklearn.datasets import load_digits
from sklearn.metrics import adjusted_rand_score

from skdeepclust import SeCu

# %%
# Join the process group that ``torchrun`` describes in the environment
# ---------------------------------------------------------------------
parallel = "RANK" in os.environ  # set by torchrun
if parallel:
    if torch.cuda.is_available():  # one GPU per process
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        dist.init_process_group("nccl")
    else:  # CPU processes: share the cores between them
        dist.init_process_group("gloo")
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // dist.get_world_size()))
rank = dist.get_rank() if parallel else 0

# %%
# Fit: the same call, with the same data, in every process
# --------------------------------------------------------
# ``batch_size`` is the global batch: with 2 processes each forwards 128 of the 256 rows of every batch. The
# ``random_state`` of rank 0 is used by all processes.
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
model = SeCu(n_clusters=10, image_shape=(1, 8, 8), batch_size=256, random_state=0, verbose=1)
model.fit(X)

# %%
# Every process holds the fitted model; one of them reports and saves it
# ----------------------------------------------------------------------
if rank == 0:
    print(f"ARI on the digits: {adjusted_rand_score(y, model.labels_):.3f}")
    with open("secu_digits.pkl", "wb") as f:
        pickle.dump(model, f)  # loads on a machine without GPUs or torch.distributed, like any fitted model
if parallel:
    dist.destroy_process_group()
