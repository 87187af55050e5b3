"""Pickles that know which sksep wrote them."""

import warnings

import numpy as np

from ._version import __version__


class SksepVersionWarning(UserWarning):
    """A pickled estimator was written by another version of sksep.

    Emitted when a pickle (or joblib file) of a sksep estimator is loaded by a
    version of sksep other than the one that wrote it: the estimator may
    behave differently. Refit it, or exchange deep separators as
    :func:`sksep.pretrained.save` files, which are checked strictly.

    See Also
    --------
    sksep.pretrained.save : Portable, versioned files for deep separators.

    Examples
    --------
    >>> import pickle, warnings
    >>> from sksep import STFTTransformer
    >>> from sksep.pretrained import SksepVersionWarning
    >>> blob = pickle.dumps(STFTTransformer())
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", SksepVersionWarning)
    ...     _ = pickle.loads(blob)      # same version: no warning
    """


class VersionedPickleMixin:
    """Record the sksep version in pickles; warn when it differs on load.

    scikit-learn does the same for its own version (InconsistentVersionWarning);
    this covers sksep's code, whose fitted attributes or defaults may change
    between versions. For deep separators, sksep.pretrained.save writes a
    file checked strictly on load instead.
    """

    def __getstate__(self):
        state = super().__getstate__()
        state["_sksep_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_sksep_version", "unknown (before 0.1)")
        if version != __version__:
            warnings.warn(
                f"Loading a {type(self).__name__} pickled by sksep {version} with "
                f"sksep {__version__}: its results may differ or it may fail. "
                "Refit it, or for deep separators exchange models with "
                "sksep.pretrained.save / load, which checks compatibility.",
                SksepVersionWarning, stacklevel=2,
            )
        super().__setstate__(state)


def _plain(value):
    """Parameters as plain, weights_only-loadable values (numpy scalars as
    Python numbers, tuples as lists): shared by the estimators' portable
    state and :mod:`sksep.pretrained`, below both."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return value
