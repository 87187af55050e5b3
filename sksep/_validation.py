"""Input checks shared by sksep's estimators and functions.

Audio is checked in one place: :func:`check_audio` for the public functions
(dtype, shape, layout, finiteness) and :func:`validate_audio` for the
estimators (the same refusals around scikit-learn's ``validate_data``).
Parameters of public functions are checked by scikit-learn's
``validate_params`` decorator from declared constraints; :class:`SampleRate`
is the constraint of a sample rate.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import validate_data

from ._audio_checks import (  # noqa: F401  (re-exported: the checks' one home)
    AudioTypeError,
    check_audio,
    check_finite,
    check_signal,
    pcm_to_float,
    reject_bool,
)


class SampleRate(Interval):
    """A ``validate_params`` constraint: a positive sample rate in Hz.

    ``integer=True`` (the default) takes whole numbers only (``8000`` or
    ``8000.0``), as files and resamplers need; ``integer=False`` any
    positive finite number (a plot's time axis). Booleans are refused.
    """

    def __init__(self, integer=True):
        super().__init__(Real, 0, None, closed="neither")
        self.integer = integer

    def is_satisfied_by(self, val):
        if isinstance(val, (bool, np.bool_)) or not isinstance(val, Real):
            return False
        if not (np.isfinite(val) and val > 0):
            return False
        return not self.integer or isinstance(val, Integral) or float(val).is_integer()

    def __str__(self):
        return ("a positive integer sample rate in Hz" if self.integer
                else "a positive sample rate in Hz")


def validate_audio(estimator, X, *, reset=True, **kwargs):
    """An estimator's audio input, checked once: booleans refused in sksep's
    words, ``validate_data(estimator, X, ...)`` (float64 or float32;
    ``n_features_in_`` set or compared, as ``reset`` says; ``kwargs`` passed
    on) and NaN and infinity named apart by :func:`check_finite`."""
    reject_bool(X)
    kwargs.setdefault("dtype", [np.float64, np.float32])
    X = validate_data(estimator, X, reset=reset, ensure_all_finite=False, **kwargs)
    check_finite(X)
    return X


class DefaultSTFTParamsMixin:
    """``set_params(stft__n_fft=...)`` on an estimator whose ``stft`` is
    None (its default front end): the default is made explicit first, then
    tuned, so that ``GridSearchCV(est, {"stft__n_fft": [...]})`` works without
    passing ``stft=``; a default that hops a quarter window keeps doing so
    for the tuned ``n_fft``. The class gives ``_default_stft()``: the
    STFTTransformer that ``fit`` would use for None."""

    def set_params(self, **params):
        nested = {key[len("stft__"):]: value for key, value in params.items()
                  if key.startswith("stft__")}
        if getattr(self, "stft", None) is not None or "stft" in params or not nested:
            return super().set_params(**params)
        # the plain parameters first (a new sample_rate sets the default
        # window), then the default made explicit and tuned: nothing changes
        # when either step refuses a parameter
        super().set_params(**{key: value for key, value in params.items()
                              if not key.startswith("stft__")})
        stft = self._default_stft()
        if stft.win_length is None and stft.hop_length == stft.n_fft // 4:
            # the defaults hop a quarter window: so does a tuned n_fft
            stft.set_params(hop_length=None)
        self.stft = stft.set_params(**nested)
        return self
