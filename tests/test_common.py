"""scikit-learn's estimator checks over every estimator sksep exports.

Estimators are discovered from ``sksep.__all__``, so a new estimator is
checked without anyone adding it here. Expected failures, if an estimator
ever needs one, live next to the estimator as ``_EXPECTED_FAILED_CHECKS``
(check name -> one-sentence reason); FastICASeparator and STFTTransformer
have none.
"""

import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import sksep


def _exported_estimators():
    found = []
    for name in sksep.__all__:
        obj = getattr(sksep, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found.append(obj)
    return found


ESTIMATORS = _exported_estimators()


def _expected_failed_checks(estimator):
    return dict(getattr(estimator, "_EXPECTED_FAILED_CHECKS", {}))


def test_discovery_finds_the_estimators():
    names = {cls.__name__ for cls in ESTIMATORS}
    assert {"FastICASeparator", "STFTTransformer"} <= names


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_no_expected_failures_for_foundation_estimators(cls):
    if cls.__name__ in {"FastICASeparator", "STFTTransformer"}:
        assert _expected_failed_checks(cls()) == {}


@parametrize_with_checks(
    [cls() for cls in ESTIMATORS],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
