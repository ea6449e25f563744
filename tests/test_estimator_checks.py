"""The full scikit-learn estimator check suite, on small fast instances of every estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from ._instances import SMALL_ESTIMATORS


@parametrize_with_checks(SMALL_ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
