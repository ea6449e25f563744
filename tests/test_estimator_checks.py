"""The full scikit-learn estimator check suite, on small fast instances of every estimator.

The API contract does not depend on how well a model is trained, so most checks run on instances trained for a
few epochs per stage (every stage still runs). ``check_clustering`` is the exception: it needs a real clustering
(ARI > 0.4 on 50 blob points), so it runs on the longer-trained instances of ``_instances.SMALL_ESTIMATORS``.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from ._instances import SMALL_ESTIMATORS, small_distilmvc, small_hadis, small_mtdc, small_secu, small_spc

#: every stage of each method runs (warm-ups, EMA teachers, the last SPC round), for two or three epochs
CONTRACT_ESTIMATORS = [
    small_distilmvc(n_epochs_pretrain=2, n_epochs_contrastive=3, n_epochs_distill=3),
    small_hadis(n_epochs=3, n_epochs_warmup=1),
    small_mtdc(n_epochs=3),
    small_secu(n_epochs=3, n_epochs_warmup=1),
    small_spc(n_epochs_pretrain=2, n_epochs_round=1),
]

#: checks that need a trained model rather than the API contract alone
NEEDS_TRAINING = {"check_clustering"}


def _check_name(case):
    _, check = case.values if hasattr(case, "values") else case
    return getattr(check, "func", check).__name__


def _select(estimators, keep):
    """``parametrize_with_checks(estimators)``, restricted to the checks whose name satisfies ``keep``."""
    mark = parametrize_with_checks(estimators)
    names, cases = mark.args
    return pytest.mark.parametrize(names, [c for c in cases if keep(_check_name(c))], **mark.kwargs)


@_select(CONTRACT_ESTIMATORS, lambda name: name not in NEEDS_TRAINING)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@_select(SMALL_ESTIMATORS, lambda name: name in NEEDS_TRAINING)
def test_sklearn_clustering_checks(estimator, check):
    check(estimator)


def test_every_check_runs_once_per_estimator():
    """The two selections above add up to the full suite."""
    full = [_check_name(c) for c in parametrize_with_checks(SMALL_ESTIMATORS).args[1]]
    split = [_check_name(c) for c in parametrize_with_checks(CONTRACT_ESTIMATORS).args[1]]
    assert sorted(full) == sorted(split)
    assert sum(name in NEEDS_TRAINING for name in full) == 2 * len(SMALL_ESTIMATORS)  # plain and read-only memmap
