"""Synthetic mixtures of real sources."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array


def random_mixing_matrix(n_channels, n_sources, *, max_condition=10.0,
                         random_state=None):
    """Draw a Gaussian mixing matrix whose condition number is bounded.

    Parameters
    ----------
    n_channels, n_sources : int
        Shape of the matrix, ``n_channels >= n_sources``.
    max_condition : float, default=10.0
        Largest accepted ratio of extreme singular values; matrices are
        redrawn until one qualifies.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    A : ndarray of shape (n_channels, n_sources)
    """
    if n_channels < n_sources:
        raise ValueError(
            f"n_channels={n_channels} < n_sources={n_sources}: an "
            "instantaneous mixture needs at least as many channels as sources."
        )
    if max_condition < 1:
        raise ValueError(f"max_condition must be >= 1, got {max_condition}.")
    rng = check_random_state(random_state)
    for _ in range(10_000):
        A = rng.standard_normal((n_channels, n_sources))
        if np.linalg.cond(A) <= max_condition:
            return A
    raise RuntimeError(
        f"No {n_channels}x{n_sources} Gaussian matrix with condition number "
        f"<= {max_condition} found in 10000 draws; raise max_condition."
    )


def make_instantaneous_mixture(sources, *, n_channels=None, mixing=None,
                               random_state=None):
    """Mix sources instantaneously into a multi-microphone recording.

    Parameters
    ----------
    sources : array-like of shape (n_samples, n_sources)
        Source signals, one per column.
    n_channels : int, default=None
        Number of microphones; None gives one per source. Ignored when
        ``mixing`` is given.
    mixing : array-like of shape (n_channels, n_sources), default=None
        Mixing matrix. None draws a Gaussian matrix with condition number at
        most 10 (:func:`random_mixing_matrix`).
    random_state : int, RandomState instance or None, default=None
        Seed of the drawn mixing matrix.

    Returns
    -------
    X : ndarray of shape (n_samples, n_channels)
        The recording ``sources @ mixing.T``, in the dtype of ``sources``.
    mixing : ndarray of shape (n_channels, n_sources)
        The mixing matrix used.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.datasets import make_instantaneous_mixture
    >>> S = np.random.default_rng(0).laplace(size=(1000, 3))
    >>> X, A = make_instantaneous_mixture(S, random_state=0)
    >>> X.shape, A.shape
    ((1000, 3), (3, 3))
    >>> bool(np.allclose(X, S @ A.T))
    True
    """
    S = check_array(sources, dtype=[np.float64, np.float32], input_name="sources")
    n_sources = S.shape[1]
    if mixing is None:
        A = random_mixing_matrix(
            n_sources if n_channels is None else n_channels, n_sources,
            random_state=random_state,
        )
    else:
        A = check_array(mixing, dtype=np.float64, input_name="mixing")
        if A.shape[1] != n_sources:
            raise ValueError(
                f"mixing has {A.shape[1]} columns but there are {n_sources} "
                "sources."
            )
    return (S @ A.T.astype(S.dtype)), A
