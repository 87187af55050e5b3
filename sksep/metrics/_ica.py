"""Quality measures specific to instantaneous ICA."""

import numpy as np
from sklearn.utils._param_validation import validate_params


@validate_params({"W": ["array-like"], "A": ["array-like"]},
                 prefer_skip_nested_validation=True)
def amari_distance(W, A):
    """Amari distance between an unmixing matrix and the true mixing matrix.

    Measures how far ``P = W @ A`` is from a scaled permutation matrix (a
    perfect separation up to order and scale), with the normalisation of
    python-picard's ``amari_distance``::

        d = (sum_i (sum_j P_ij^2 / max_j P_ij^2 - 1)
             + sum_j (sum_i P_ij^2 / max_i P_ij^2 - 1)) / (2 n)

    Parameters
    ----------
    W : array-like of shape (n_sources, n_channels)
        Estimated unmixing matrix (``FastICASeparator.components_``).
    A : array-like of shape (n_channels, n_sources)
        True mixing matrix: the recording is ``S @ A.T``.

    Returns
    -------
    distance : float
        0 for a perfect separation; grows with the cross-talk between
        sources (at most ``n_sources - 1``).

    See Also
    --------
    sksep.decomposition.FastICASeparator : Its ``components_`` is the ``W`` to score.

    References
    ----------
    - S. Amari, A. Cichocki and H. H. Yang, "A new learning algorithm
      for blind signal separation", NIPS 1996.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.metrics import amari_distance
    >>> A = np.array([[1.0, 0.5], [0.3, 1.0]])
    >>> W = np.linalg.inv(A)[::-1] * 3.0      # permuted and scaled: perfect
    >>> round(amari_distance(W, A), 12)
    0.0
    """
    W = np.asarray(W, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    if W.ndim != 2 or A.ndim != 2 or W.shape[1] != A.shape[0]:
        raise ValueError(
            f"W (n_sources, n_channels) and A (n_channels, n_sources) do not "
            f"chain: got shapes {W.shape} and {A.shape}."
        )
    P = (W @ A) ** 2
    if P.shape[0] != P.shape[1]:
        raise ValueError(f"W @ A must be square, got shape {P.shape}.")
    if not np.all(np.isfinite(P)) or np.any(P.max(axis=0) == 0) or np.any(
        P.max(axis=1) == 0
    ):
        raise ValueError("W @ A has a zero or non-finite row or column.")
    rows = np.sum(P.sum(axis=1) / P.max(axis=1) - 1)
    cols = np.sum(P.sum(axis=0) / P.max(axis=0) - 1)
    return float((rows + cols) / (2 * P.shape[0]))
