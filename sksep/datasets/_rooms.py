"""Simulated rooms: convolutive mixtures through pyroomacoustics."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from .._validation import SampleRate, check_audio


@validate_params(
    {"sources": ["array-like"], "sr": [SampleRate()],
     "n_mics": [Interval(Integral, 1, None, closed="left")],
     "mic_spacing": [Interval(Real, 0, None, closed="neither")],
     "rt60": [Interval(Real, 0, None, closed="left")],
     "room_dim": ["array-like"],
     "min_distance": [Interval(Real, 0, None, closed="left")],
     "random_state": ["random_state"]},
    prefer_skip_nested_validation=True)
def make_room_mixture(sources, sr, *, n_mics=2, mic_spacing=0.05, rt60=0.3,
                      room_dim=(6.0, 5.0, 3.0), min_distance=1.0,
                      random_state=None):
    """Record sources with a microphone array in a simulated shoebox room.

    The room's impulse responses come from the image source method of
    `pyroomacoustics <https://pyroomacoustics.readthedocs.io>`_, with wall
    absorption and reflection order chosen by Sabine's formula for the
    requested reverberation time. A linear array of ``n_mics`` microphones sits near
    the middle of the room at 1.5 m height; the sources stand at random
    positions at least ``min_distance`` from it, in random directions at
    least 20 degrees apart seen from the array.

    Parameters
    ----------
    sources : array-like of shape (n_samples, n_sources)
        Dry source signals, one per column.
    sr : int
        Sample rate in Hz.
    n_mics : int, default=2
        Microphones of the linear array.
    mic_spacing : float, default=0.05
        Distance between neighbouring microphones in metres.
    rt60 : float, default=0.3
        Reverberation time in seconds; 0 simulates an anechoic room (the
        direct paths only: delays and attenuation).
    room_dim : (float, float, float), default=(6.0, 5.0, 3.0)
        Room size in metres.
    min_distance : float, default=1.0
        Smallest distance in metres between a source and the array centre.
    random_state : int, RandomState instance or None, default=None
        Seeds the positions.

    Returns
    -------
    mixture : ndarray of shape (n_samples, n_mics)
        The microphone signals (the images summed).
    images : ndarray of shape (n_sources, n_samples, n_mics)
        Each source as every microphone records it: the references for
        scoring (see :func:`sksep.metrics.image_scores`).

    Raises
    ------
    ImportError
        When pyroomacoustics is not installed; the message says how to
        install it.

    See Also
    --------
    sksep.IVASeparator : Separates such recordings.
    make_instantaneous_mixture : Mixing without delays or echoes.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.datasets import make_room_mixture
    >>> S = np.random.default_rng(0).standard_normal((16000, 2))
    >>> mix, images = make_room_mixture(S, 16000, rt60=0.15, random_state=0)
    >>> mix.shape, images.shape, bool(np.allclose(mix, images.sum(0)))
    ((16000, 2), (2, 16000, 2), True)
    """
    try:
        import pyroomacoustics as pra
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "make_room_mixture needs pyroomacoustics, a dependency of sksep: "
            "pip install pyroomacoustics."
        ) from exc
    S = check_audio(sources, "sources", ndims=(2,),
                    shapes="array (n_samples, n_sources)", time_axis=0)
    S = S.astype(np.float64)
    sr = int(sr)
    room_dim = np.asarray(room_dim, dtype=float)
    n_samples, n_sources = S.shape
    rng = check_random_state(random_state)
    if rt60 > 0:
        absorption, max_order = pra.inverse_sabine(rt60, room_dim)
        room = pra.ShoeBox(room_dim, fs=sr, materials=pra.Material(absorption),
                           max_order=max_order)
    else:
        room = pra.ShoeBox(room_dim, fs=sr, max_order=0)
    centre = np.array([room_dim[0] / 2 + rng.uniform(-0.3, 0.3),
                       room_dim[1] / 2 + rng.uniform(-0.3, 0.3), 1.5])
    offsets = (np.arange(n_mics) - (n_mics - 1) / 2) * mic_spacing
    mics = np.stack([centre + np.array([d, 0.0, 0.0]) for d in offsets], axis=1)
    room.add_microphone_array(mics)
    angles = _spread_angles(rng, n_sources, min_gap=np.deg2rad(20))
    reach = min(room_dim[0], room_dim[1]) / 2 - 0.4
    for j, angle in enumerate(angles):
        dist = rng.uniform(min_distance, max(min_distance, reach))
        pos = centre + dist * np.array([np.cos(angle), np.sin(angle), 0.0])
        pos[2] = rng.uniform(1.2, 1.8)
        pos[:2] = np.clip(pos[:2], 0.3, room_dim[:2] - 0.3)
        room.add_source(pos, signal=S[:, j])
    premix = room.simulate(return_premix=True)        # (n_sources, n_mics, n_out)
    images = np.zeros((n_sources, n_samples, n_mics))
    n = min(n_samples, premix.shape[2])
    images[:, :n] = premix[:, :, :n].transpose(0, 2, 1)
    return images.sum(axis=0), images


def _spread_angles(rng, n, min_gap):
    """Directions in [0, pi] (in front of the array), pairwise ``min_gap`` apart."""
    for _ in range(1000):
        angles = rng.uniform(0.1, np.pi - 0.1, size=n)
        if n < 2 or np.min(np.diff(np.sort(angles))) >= min_gap:
            return angles
    return np.linspace(0.2, np.pi - 0.2, n)
