"""Shared test configuration: one torch thread (fast and deterministic on a loaded 2-core machine)."""

from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """Path of ``../shared/data`` (benchmark data beside the clone), or skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data not found at {SHARED_DATA} (only present beside a CI/developer clone)")
    return SHARED_DATA
