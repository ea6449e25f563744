import numpy as np
import pytest
import torch
from torch import nn

from skdeepclust._utils import build_module, make_fit_context, resolve_device


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="Unknown device"):
        resolve_device("gpu0")
    with pytest.raises(ValueError, match="Unsupported device"):
        resolve_device("meta")
    with pytest.raises(TypeError):
        resolve_device(3)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised on a machine without CUDA")
def test_cuda_without_gpu_is_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")


def test_build_module_seeded_and_global_rng_untouched():
    torch_state = torch.random.get_rng_state().clone()
    np_state = np.random.get_state()[1].copy()
    ctx1 = make_fit_context(0, torch.device("cpu"))
    ctx2 = make_fit_context(0, torch.device("cpu"))
    m1 = build_module(lambda: nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Conv2d(1, 2, 3)), ctx1.generator)
    m2 = build_module(lambda: nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Conv2d(1, 2, 3)), ctx2.generator)
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(torch_state, torch.random.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])
    # PyTorch's default init range for a Linear layer: |w| <= 1/sqrt(fan_in)
    assert m1[0].weight.abs().max() <= 1 / 2
    assert torch.equal(m1[1].weight, torch.ones(3))


def test_fit_context_seeds_differ():
    a = make_fit_context(0, torch.device("cpu"))
    b = make_fit_context(1, torch.device("cpu"))
    assert not torch.equal(torch.rand(3, generator=a.generator), torch.rand(3, generator=b.generator))
    c = make_fit_context(np.random.RandomState(0), torch.device("cpu"))
    assert isinstance(c.seed_for_sklearn(), int)
