"""Every estimator works with all its defaults after a plain install (``pip install -e .``, no extras)."""

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import skdeepclust
from skdeepclust.base import BaseDeepClusterer

from ._declared_deps import EXTRA_PROBES, declared_dependencies
from ._defaults import ESTIMATORS, N_CLUSTERS, NAMES, REDUCED_COUNTS, default_estimator, tiny_data

REPO = Path(__file__).resolve().parents[1]
#: one thread in the child, as in this process (see conftest.py)
CHILD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def test_defaults_cover_every_estimator():
    exported = {name for name in skdeepclust.__all__
                if isinstance(getattr(skdeepclust, name), type) and issubclass(getattr(skdeepclust, name),
                                                                                BaseDeepClusterer)}
    assert exported == set(ESTIMATORS) == set(REDUCED_COUNTS)


@pytest.mark.parametrize("name", NAMES)
def test_default_estimator_fits(name):
    est = default_estimator(name)
    defaults = ESTIMATORS[name]().get_params()
    changed = {key for key, value in est.get_params().items() if value != defaults[key]}
    # nothing but the fit's length differs from what a user gets (n_clusters and device aside)
    assert changed <= {"n_clusters", "random_state", "device", *REDUCED_COUNTS[name]}
    assert all(re.search("epoch|round", key) for key in REDUCED_COUNTS[name])
    X = tiny_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X)
    # it trained: every epoch's record has a finite loss
    losses = [r["loss"] for r in est.history_ if "loss" in r]
    assert losses and np.isfinite(losses).all(), est.history_
    # the model labels the training rows as the fit did (SeCu, MTDC, DistilMVC label them with the model itself;
    # HaDis' k-NN vote and SPC's heads agree with their training labels on these three blobs), whatever the batch
    pred = est.predict(X)
    np.testing.assert_array_equal(pred, est.labels_)
    np.testing.assert_array_equal(est.predict(X[:5]), pred[:5])
    # fewer clusters than asked for is reported, and only then
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert warned == (np.unique(est.labels_).size < N_CLUSTERS), [str(w.message) for w in caught]


def _declared_only(*args):
    """Run ``tests/_declared_deps.py`` in a fresh interpreter and return its report."""
    proc = subprocess.run([sys.executable, "-m", "tests._declared_deps", *args], cwd=REPO, env=CHILD_ENV,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_declared_dependencies_are_enough():
    """With every module outside the declared dependencies refused, each default estimator still fits."""
    report = _declared_only()
    assert report["declared"] == declared_dependencies()
    assert report["fits"] == {name: "ok" for name in NAMES}
    # the refusal works: the extras' packages cannot be imported, and pytest (installed: it runs this test) is
    # refused rather than missing
    assert set(report["probes"]) == set(EXTRA_PROBES)
    assert all(state in ("refused", "not installed") for state in report["probes"].values())
    assert report["probes"]["pytest"] == "refused" and "pytest" in report["refused"]
    assert report["loaded_not_permitted"] == []


def test_declared_dependency_check_finds_a_missing_declaration():
    """Without umap-learn declared, SPC's default embedding cannot be imported: the check must see that."""
    assert "umap-learn" in declared_dependencies()
    report = _declared_only("--drop", "umap-learn", "--only", "SPC")
    assert "umap" in report["refused"]
    assert report["fits"]["SPC"].startswith("ImportError") and "umap-learn" in report["fits"]["SPC"]
