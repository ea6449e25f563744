"""Shared test configuration: one torch thread and one BLAS/OpenMP thread (fast and deterministic on a loaded
2-core machine)."""

import os
from pathlib import Path

import pytest
import sklearn.cluster  # noqa: F401  (loads SciPy's OpenBLAS and scikit-learn's OpenMP, for the limit below)
import torch
from threadpoolctl import threadpool_limits

torch.set_num_threads(1)
#: BLAS and OpenMP too: with two OpenBLAS threads on a busy 2-core machine, the tiny solves of SPC's
#: Gaussian-mixture voters ran 10-40x slower (a 30-sample SPC fit: 4.6 s instead of 0.12 s). Process-wide.
_BLAS_LIMIT = threadpool_limits(1)

#: benchmark data beside a development clone; SKDEEPCLUST_SHARED_DATA overrides the location, and an empty
#: value hides it, so that a run behaves as on a user's clone without it (CI runs the tests both ways)
_override = os.environ.get("SKDEEPCLUST_SHARED_DATA")
SHARED_DATA = (Path(_override) if _override else None) if _override is not None else (
    Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


@pytest.fixture
def shared_data():
    """Path of ``../shared/data`` (benchmark data beside the clone), or skip when it is absent."""
    if SHARED_DATA is None:
        pytest.skip("benchmark data hidden (SKDEEPCLUST_SHARED_DATA is empty), as on a user's clone")
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data not found at {SHARED_DATA} (only present beside a CI/developer clone)")
    return SHARED_DATA
