"""Data-parallel training: two gloo processes give the model of one process on the same global batches.

The two processes are spawned once per module (a few seconds of start-up); each fits every case of
``_CASES`` and saves ``transform``/``labels_``, which are compared with one-process fits here. The
cases use tiny networks and a few optimizer steps, with batch sizes that do not split evenly (so the
shards have unequal lengths) and batch normalisation in the networks (1-d, and 2-d in the conv
backbone of ``secu_images``).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from sklearn.exceptions import ConvergenceWarning

import skdeepclust.distributed
from skdeepclust import MTDC, DistilMVC, HaDis, SeCu
from skdeepclust._utils import make_fit_context
from skdeepclust.distributed import BatchShard, is_distributed
from skdeepclust.training import Trainer

WORLD = 2
#: seconds after which the spawned processes count as hung (a normal run takes well under a minute)
_DEADLINE = 600
#: the tiny fits may use fewer clusters than asked for; that is not what is tested here
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

if not dist.is_available() or not dist.is_gloo_available():  # pragma: no cover - platform dependent
    pytest.skip("torch.distributed with the gloo backend is not available in this build of torch",
                allow_module_level=True)


# ---------------------------------------------------------------------------------------------- cases
def _blobs(n=61, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (k, d))
    return (centres[np.arange(n) % k] + rng.normal(size=(n, d))).astype(np.float32)


def _views(n=61, seed=1):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return [(rng.normal(size=(n, 5)) + 3 * y[:, None]).astype(np.float32),
            (rng.normal(size=(n, 4)) - 3 * y[:, None]).astype(np.float32)]


def _images(n=61, seed=2):
    return np.random.default_rng(seed).uniform(0, 1, (n, 36)).astype(np.float32)


def _secu(**kw):
    params = dict(n_clusters=3, n_heads=2, hidden_dims=(16,), projection_hidden_dim=16, feature_dim=8, n_epochs=10,
                  n_epochs_warmup=2, batch_size=20, device="cpu", random_state=0)
    return SeCu(**{**params, **kw})


class _KMeansDistilMVC(DistilMVC):
    """The reference's per-view k-means pseudo-labels (as in benchmarks/ablations.py), two restarts."""

    _pseudo_labels, _kmeans_n_init = "kmeans", 2


def _distilmvc(cls=DistilMVC, **kw):
    params = dict(n_clusters=3, hidden_dims=(16,), latent_dim=8, projection_hidden_dim=8, feature_dim=8,
                  n_epochs_pretrain=3, n_epochs_contrastive=5, n_epochs_distill=40, batch_size=20, n_pair_neighbors=5,
                  lr=3e-3, device="cpu", random_state=0)
    return cls(**{**params, **kw})


def _mtdc(**kw):
    params = dict(n_clusters=3, hidden_dims=(16,), feature_dim=8, n_epochs=4, n_epochs_warmup=2,
                  batch_size=20, lr=3e-3, device="cpu", random_state=0)
    return MTDC(**{**params, **kw})


#: name -> (estimator factory, data factory); every case is fitted in both processes and here
_CASES = {
    "secu": (_secu, _blobs),
    "secu_images": (lambda **kw: _secu(**{"image_shape": (1, 6, 6), "hidden_dims": (4, 8), "n_epochs": 4, **kw}),
                    _images),
    "secu_entropy": (lambda **kw: _secu(constraint="entropy", random_state=None, **kw), _blobs),
    "distilmvc": (_distilmvc, _views),
    "distilmvc_single_view": (lambda **kw: _distilmvc(_KMeansDistilMVC, **kw), _blobs),
    "mtdc": (_mtdc, _blobs),
}
#: bound on max |transform(1 process) - transform(2 processes)|. MTDC's is looser: its Linear layers before batch
#: norm have biases whose gradient is 0 in exact arithmetic, rounding noise (~1e-8) in practice, and Adam's first
#: steps turn that noise into steps of about +-lr, whichever its sign (SGD and layers without batch norm keep ~1e-7)
_TOLERANCE = {"secu": 1e-4, "secu_images": 1e-4, "distilmvc": 1e-4, "distilmvc_single_view": 1e-4, "mtdc": 1e-2}
#: fitted in the processes only: SeCu without the global batch-norm statistics (a wrong setup must differ)
_NO_SYNC_BN = "secu_local_batchnorm"


# ---------------------------------------------------------------------------------------------- the processes
def _worker(rank: int, world: int, init_file: str, out: str) -> None:
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", ConvergenceWarning)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=_DEADLINE))
    try:
        for name, (make, data) in _CASES.items():
            X = data()
            t0 = time.perf_counter()
            est = make().fit(X)
            np.save(f"{out}/{name}_{rank}_transform.npy", est.transform(X))
            np.save(f"{out}/{name}_{rank}_labels.npy", est.labels_)
            np.save(f"{out}/{name}_{rank}_seconds.npy", time.perf_counter() - t0)
        skdeepclust.distributed.synchronized_batch_norm = lambda modules: contextlib.nullcontext()
        est = _secu().fit(_blobs())
        np.save(f"{out}/{_NO_SYNC_BN}_{rank}_transform.npy", est.transform(_blobs()))
        try:  # an estimator without data-parallel support refuses, in every process
            HaDis(n_clusters=3, n_epochs=1, device="cpu").fit(_blobs())
        except RuntimeError as exc:
            Path(f"{out}/hadis_{rank}.txt").write_text(str(exc))
        with contextlib.suppress(ValueError):  # different data in the processes: refused everywhere
            _secu().fit(_blobs(seed=rank))
            Path(f"{out}/different_data_accepted_{rank}.txt").write_text("")
        dist.barrier()
    finally:
        dist.destroy_process_group()
    # skip the interpreter's finalisation: gloo's threads can abort the process there (SIGABRT after all the
    # work is done and saved), which would fail the spawn for no fault of the training
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@pytest.fixture(scope="module")
def two_processes():
    """Fit every case in two spawned gloo processes; the directory of their results and the seconds taken."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        procs = torch.multiprocessing.spawn(_worker, args=(WORLD, f"{tmp}/init", tmp), nprocs=WORLD, join=False)
        while not procs.join(timeout=max(1.0, t0 + _DEADLINE - time.perf_counter())):
            if time.perf_counter() > t0 + _DEADLINE:  # a hang must fail the test, not the CI job
                for p in procs.processes:
                    p.kill()
                pytest.fail(f"the {WORLD} processes did not finish within {_DEADLINE} s")
        seconds = time.perf_counter() - t0
        out = Path(tmp)
        results = {p.stem: np.load(p) for p in out.glob("*.npy")}
        texts = {p.stem: p.read_text() for p in out.glob("*.txt")}
        yield results, texts, seconds


def _single(name, **kw):
    make, data = _CASES[name]
    X = data()
    t0 = time.perf_counter()
    est = (make(**kw) if kw else make()).fit(X)
    return est.transform(X), est.labels_, time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", ["secu", "secu_images", "distilmvc", "distilmvc_single_view", "mtdc"])
def test_two_processes_give_the_one_process_model(name, two_processes):
    results, _, seconds = two_processes
    emb, labels, one_seconds = _single(name)
    for rank in range(WORLD):  # every process holds the same fitted model
        np.testing.assert_array_equal(results[f"{name}_{rank}_transform"], results[f"{name}_0_transform"])
        np.testing.assert_array_equal(results[f"{name}_{rank}_labels"], results[f"{name}_0_labels"])
    diff = float(np.abs(results[f"{name}_0_transform"] - emb).max())
    agreement = float(np.mean(results[f"{name}_0_labels"] == labels))
    sys.stderr.write(f"\n{name}: 1 vs {WORLD} processes: max |d transform| = {diff:.3g}, label agreement = "
                     f"{agreement:.3f}; fit {one_seconds:.2f} s in one process, "
                     f"{float(results[f'{name}_0_seconds']):.2f} s in {WORLD} (spawn total {seconds:.1f} s)\n")
    assert diff < _TOLERANCE[name]
    assert agreement == 1.0
    # a different global batch (what each process forwards) gives a visibly different model
    half, _, _ = _single(name, batch_size=10)
    half_diff = float(np.abs(half - emb).max())
    sys.stderr.write(f"{name}: one process with half the batch: max |d transform| = {half_diff:.3g}\n")
    assert half_diff > 10 * _TOLERANCE[name]


def test_random_state_none_is_shared_by_the_processes(two_processes):
    results, _, _ = two_processes
    np.testing.assert_array_equal(results["secu_entropy_1_transform"], results["secu_entropy_0_transform"])
    np.testing.assert_array_equal(results["secu_entropy_1_labels"], results["secu_entropy_0_labels"])


def test_local_batch_norm_statistics_would_differ(two_processes):
    results, _, _ = two_processes
    emb, _, _ = _single("secu")
    diff = float(np.abs(results[f"{_NO_SYNC_BN}_0_transform"] - emb).max())
    synced = float(np.abs(results["secu_0_transform"] - emb).max())
    sys.stderr.write(f"\nsecu, {WORLD} processes, per-process batch-norm statistics: max |d transform| = {diff:.3g}\n")
    assert diff > 10 * _TOLERANCE["secu"] and diff > 100 * synced


def test_unsupported_estimator_and_different_data_are_refused(two_processes):
    _, texts, _ = two_processes
    for rank in range(WORLD):
        assert "HaDis cannot train data-parallel" in texts[f"hadis_{rank}"]
        assert "DistilMVC" in texts[f"hadis_{rank}"] and "SeCu" in texts[f"hadis_{rank}"]
        assert f"different_data_accepted_{rank}" not in texts


def test_outside_a_process_group_nothing_changes():
    assert not is_distributed()
    shard = BatchShard(5, rank=0, world_size=1)
    x = torch.arange(5.0)
    assert torch.equal(shard.local(x), x)
    assert [BatchShard(7, r, 3).sizes for r in range(3)] == [[3, 2, 2]] * 3
    assert [(s.start, s.stop) for s in (BatchShard(7, r, 3) for r in range(3))] == [(0, 3), (3, 5), (5, 7)]
    assert BatchShard(1, 1, 2).sizes == [1, 0] and BatchShard(1, 1, 2).start == 1 == BatchShard(1, 1, 2).stop
    with pytest.raises(ValueError, match="global batch's 5 rows"):
        shard.local(torch.zeros(4))
    with pytest.raises(RuntimeError, match="needs an initialised process group"):
        Trainer(make_fit_context(0, torch.device("cpu")), [], data_parallel=True)

