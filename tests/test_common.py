"""scikit-learn's estimator checks over every estimator sksep exports.

Estimators are discovered from ``sksep.__all__``, so a new estimator is
checked without anyone adding it here. Expected failures, if an estimator
ever needs one, live next to the estimator as ``_EXPECTED_FAILED_CHECKS``
(check name -> one-sentence reason); no estimator has any today.
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


# Training in tests must take seconds: every neural estimator is checked
# with a tiny network and one epoch, set by parameter name so that new
# estimators get it too.
TINY = {"max_epochs": 1, "hidden_size": 8, "num_layers": 1, "bottleneck": 8,
        "freq_filters": 4, "time_filters": 4, "segment_frames": 8,
        "batch_size": 8}


def _tiny(estimator):
    params = estimator.get_params()
    estimator.set_params(**{k: v for k, v in TINY.items() if k in params})
    if "stft" in params:
        from sksep import STFTTransformer

        estimator.set_params(stft=STFTTransformer(n_fft=2, hop_length=1))
    return estimator


def _expected_failed_checks(estimator):
    return dict(getattr(estimator, "_EXPECTED_FAILED_CHECKS", {}))


def test_discovery_finds_the_estimators():
    names = {cls.__name__ for cls in ESTIMATORS}
    assert {"FastICASeparator", "STFTTransformer", "MaskEstimator",
            "CNNAutoencoderSeparator"} <= names


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_no_expected_failures(cls):
    assert _expected_failed_checks(cls()) == {}


@parametrize_with_checks(
    [_tiny(cls()) for cls in ESTIMATORS],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
