"""SKDEEPCLUST_AUTOCAST turns the bfloat16 autocast of training on CUDA off (0) or keeps it on (1, unset)."""

import contextlib

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from skdeepclust._config import AUTOCAST_ENV
from skdeepclust._config import autocast as autocast_from_env
from skdeepclust._utils import FitContext, make_fit_context

from ._instances import small_secu


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("", True), (" 1 ", True), ("1", True), ("0", False)])
def test_variable_values(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(AUTOCAST_ENV, raising=False)
    else:
        monkeypatch.setenv(AUTOCAST_ENV, value)
    assert autocast_from_env() is expected


@pytest.mark.parametrize("value", ["yes", "true", "2", "off"])
def test_bad_value_is_a_clear_error_at_fit(monkeypatch, value):
    monkeypatch.setenv(AUTOCAST_ENV, value)
    X = make_blobs(n_samples=40, centers=2, n_features=3, random_state=0)[0]
    est = small_secu(n_clusters=2, n_epochs=1, n_epochs_warmup=0)
    with pytest.raises(ValueError, match=f"{AUTOCAST_ENV}.*must be 0"):
        est.fit(X)
    assert not hasattr(est, "labels_")


def test_context_follows_the_variable_on_cuda_only(monkeypatch):
    monkeypatch.setenv(AUTOCAST_ENV, "1")
    assert make_fit_context(0, torch.device("cpu")).amp is False  # never on the CPU
    gen, rng = torch.Generator(), np.random.default_rng(0)
    off = FitContext(torch.device("cuda"), gen, gen, rng, amp=False)
    assert isinstance(off.autocast(), contextlib.nullcontext)
    on = FitContext(torch.device("cuda"), gen, gen, rng, amp=True)
    if torch.cuda.is_available():
        assert isinstance(on.autocast(), torch.autocast)
    else:
        with pytest.warns(UserWarning, match="CUDA is not available"):
            assert isinstance(on.autocast(), torch.autocast)
