"""``inference_dtype``: the precision of ``predict``/``transform``/``score``."""

import numpy as np
import pytest
from sklearn.base import clone

from ._defaults import NAMES, default_estimator, tiny_data
from ._instances import SPCRawCodes


@pytest.fixture(scope="module", params=NAMES)
def fitted(request):
    est = default_estimator(request.param)
    if request.param == "SPC":  # the default UMAP compiles numba code, not needed here: the raw-code variant
        est = SPCRawCodes(**est.get_params())
    X = tiny_data()
    return est.fit(X), X


def test_float32_close_to_float64_and_output_dtype(fitted):
    est, X = fitted
    assert est.inference_dtype == "auto"
    auto = est.transform(X)
    est64 = clone(est).set_params(inference_dtype="float64")
    est64.__dict__.update({k: v for k, v in est.__dict__.items() if k.endswith("_")})  # same fitted model
    np.testing.assert_array_equal(est64.transform(X), auto)  # "auto" on the CPU is float64
    est32 = clone(est).set_params(inference_dtype="float32")
    est32.__dict__.update({k: v for k, v in est.__dict__.items() if k.endswith("_")})
    emb32 = est32.transform(X)
    np.testing.assert_allclose(emb32, auto, rtol=1e-3, atol=1e-4)
    assert (est32.predict(X) == est.predict(X)).mean() >= 0.95
    # the output keeps the input's float dtype, whatever the precision of the computation
    for e in (est, est32):
        assert e.transform(X.astype(np.float32)).dtype == np.float32
        assert e.transform(X.astype(np.float64)).dtype == np.float64
        assert e.predict(X.astype(np.float32)).dtype == np.int64


def test_inference_dtype_is_validated():
    est = default_estimator("SeCu").set_params(inference_dtype="float16")
    with pytest.raises(ValueError, match="inference_dtype"):
        est.fit(tiny_data())
