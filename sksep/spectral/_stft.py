"""STFTTransformer: the time-frequency front end as a scikit-learn transformer."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

from .. import _dsp
from .._audio_checks import looks_like_channels
from .._persistence import VersionedPickleMixin
from .._validation import validate_audio

_AMIN = 1e-10  # power floor of output='db'


class STFTTransformer(VersionedPickleMixin, ClassNamePrefixFeaturesOutMixin,
                      TransformerMixin, BaseEstimator):
    """Short-time Fourier transform of a batch of mono clips, and back.

    Each row of ``X`` is one clip; ``transform`` returns its spectrogram
    flattened into one feature row, so the result feeds any scikit-learn
    estimator, and ``inverse_transform`` turns feature rows back into clips
    of the original length. The forward transform is :func:`torch.stft`;
    the inverse is an inverse real FFT with a least-squares overlap-add
    (exact for ``output='complex'``) or Griffin-Lim phase reconstruction
    for the magnitude outputs.

    Parameters
    ----------
    n_fft : int, default=512
        FFT size in samples; the spectrogram has ``n_fft // 2 + 1`` bins.
    hop_length : int, default=None
        Samples between frames; None uses ``win_length // 4``.
    win_length : int, default=None
        Window length in samples, at most ``n_fft`` (the window is centred
        in the frame); None uses ``n_fft``.
    window : str, tuple or array-like, default='hann'
        A periodic window name for :func:`scipy.signal.get_window`, or
        ``win_length`` window values.
    center : bool, default=True
        Pad ``n_fft // 2`` samples on both sides so that frame ``t`` is
        centred on sample ``t * hop_length``.
    pad_mode : {'reflect', 'constant', 'replicate', 'circular'}, \
default='reflect'
        Padding used when ``center=True``.
    output : {'complex', 'magnitude', 'power', 'db'}, default='complex'
        'complex' stacks the real and imaginary parts (exactly invertible);
        'magnitude' is ``|S|``, 'power' ``|S|^2`` and 'db' is
        ``10 log10(max(|S|^2, 1e-10))``, inverted with Griffin-Lim.
    n_iter : int, default=32
        Griffin-Lim iterations of ``inverse_transform`` for the magnitude
        outputs.
    n_jobs : int, default=None
        Torch threads used inside ``transform`` and ``inverse_transform``;
        None means 1, -1 all cores. The default avoids the oversubscription
        that makes torch's STFT several times slower on small machines; the
        previous torch setting is restored after each call.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial phases of Griffin-Lim.

    Attributes
    ----------
    n_features_in_ : int
        Clip length in samples seen during ``fit``; ``transform`` and
        ``inverse_transform`` work on clips of this length.
    n_freqs_ : int
        Frequency bins, ``n_fft // 2 + 1``.
    n_frames_ : int
        Frames per clip.
    hop_length_, win_length_ : int
        The hop and window lengths in use (defaults resolved).
    window_ : ndarray of shape (n_fft,)
        The analysis window in use (float64, ``win_length_`` values centred
        in ``n_fft``), also the window of the least-squares inverse.

    See Also
    --------
    librosa.stft : The same transform on numpy arrays.

    Notes
    -----
    Feature order is frame-major: for a spectrogram ``S`` of shape
    ``(n_freqs, n_frames)`` the features are ``S.T.ravel()`` (one frame's
    spectrum after another, frequencies fastest); for 'complex' each value
    is followed by its imaginary part,
    ``np.stack([S.T.real, S.T.imag], axis=-1).ravel()``. This is the memory
    layout :func:`torch.stft` produces, so features come out without a copy
    (a frequency-major layout would cost a transposition, about three times
    the transform itself). :meth:`to_spectrogram` and
    :meth:`from_spectrogram` convert to and from ``(n_clips, n_freqs,
    n_frames)`` arrays; ``features.reshape(n_clips, n_frames_, -1)`` gives
    time-major frames directly.

    Frames: with ``center=True`` the first frames are exactly those of
    :func:`librosa.stft` and :func:`torch.stft`; frames are added at the end
    until one is centred at or after the last sample, so the end of a clip
    is reconstructed as precisely as its start. Clips of any length from 1
    sample work: a clip too short for the padding mode ('reflect' needs more
    than ``n_fft // 2`` samples) is zero-extended first, and
    ``inverse_transform`` cuts it back to its length.

    float32 input gives float32 output (complex64 inside), float64 gives
    float64. Round trip of ``output='complex'``: maximum absolute error
    below ``1e-5`` times the clip's peak in float32 and ``1e-10`` in
    float64. With ``center=False`` and a window that vanishes at its ends
    (such as 'hann'), the first samples are covered by almost no window
    energy and cannot be recovered exactly; ``inverse_transform`` warns.

    References
    ----------
    - D. Griffin and J. Lim, "Signal estimation from modified short-time
      Fourier transform", IEEE Trans. ASSP 32(2), 1984.
    - N. Perraudin, P. Balazs and P. L. Sondergaard, "A fast
      Griffin-Lim algorithm", WASPAA 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import STFTTransformer
    >>> X = np.random.default_rng(0).standard_normal((4, 8000)).astype("float32")
    >>> stft = STFTTransformer(n_fft=256, hop_length=64).fit(X)
    >>> Z = stft.transform(X)
    >>> Z.shape, stft.to_spectrogram(Z).shape
    ((4, 32508), (4, 129, 126))
    >>> bool(np.abs(stft.inverse_transform(Z) - X).max() < 1e-5 * np.abs(X).max())
    True
    """

    _parameter_constraints: dict = {
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left"), None],
        "win_length": [Interval(Integral, 1, None, closed="left"), None],
        "window": [str, tuple, "array-like"],
        "center": ["boolean"],
        "pad_mode": [StrOptions({"constant", "reflect", "replicate", "circular"})],
        "output": [StrOptions({"complex", "magnitude", "power", "db"})],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_fft=512,
        *,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
        pad_mode="reflect",
        output="complex",
        n_iter=32,
        n_jobs=None,
        random_state=None,
    ):
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.pad_mode = pad_mode
        self.output = output
        self.n_iter = n_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- fitting ----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the clip length and set up the frame geometry.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_times)
            Mono clips, one per row.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : STFTTransformer
            The fitted transformer.
        """
        _refuse_samples_as_clips(X)
        X = validate_audio(self, X)
        self.hop_length_, self.win_length_ = _dsp.resolve_lengths(
            self.n_fft, self.hop_length, self.win_length)
        self.window_ = _dsp.window_values(self.window, self.win_length_, self.n_fft)
        self._geometry = _dsp.geometry(
            self.n_fft, self.hop_length_, self.center, self.pad_mode, X.shape[1]
        )
        self._inv_envelope = _dsp.inverse_envelope(self._geometry, self.window_)
        self.n_freqs_ = self._geometry.n_freqs
        self.n_frames_ = self._geometry.n_frames
        return self

    @property
    def _window(self):
        """``window_`` as a float64 tensor (sharing its memory), for callers
        written before ``window_`` was public."""
        import torch

        return torch.from_numpy(self.window_)

    def __setstate__(self, state):
        if "_window" in state:          # pickled before window_ was public
            state["window_"] = state.pop("_window").numpy()
            state["_inv_envelope"] = np.asarray(state["_inv_envelope"])
        super().__setstate__(state)

    # -- transforming -----------------------------------------------------

    def transform(self, X):
        """Compute the flattened spectrogram of each clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_times)
            Mono clips of the fitted length ``n_features_in_``.

        Returns
        -------
        Z : ndarray of shape (n_clips, n_features)
            ``n_features = n_freqs_ * n_frames_`` (twice that for 'complex'),
            in the order described in Notes.
        """
        check_is_fitted(self)
        _refuse_samples_as_clips(X)
        X = validate_audio(self, X, reset=False)
        import torch

        from .._dsp import _torch as torch_dsp

        with torch_dsp.torch_threads(self.n_jobs), torch.no_grad():
            spec = torch_dsp.stft(torch_dsp.as_tensor(X), self._geometry,
                                 self.window_)
            spec = spec.transpose(1, 2)  # (n_clips, n_frames, n_freqs): no copy
            if self.output == "complex":
                Z = torch.view_as_real(spec)
            elif self.output == "magnitude":
                Z = spec.abs()
            else:
                Z = spec.real**2 + spec.imag**2
                if self.output == "db":
                    Z = 10.0 * torch.log10(torch.clamp(Z, min=_AMIN))
            return Z.reshape(X.shape[0], -1).numpy()

    def inverse_transform(self, X):
        """Turn feature rows back into clips.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            Features as returned by :meth:`transform` (possibly modified, for
            example masked).

        Returns
        -------
        X_original : ndarray of shape (n_clips, n_times)
            Clips of the fitted length: exact for 'complex' output,
            Griffin-Lim reconstructions (``n_iter`` iterations, random
            initial phase from ``random_state``) for the others.
        """
        check_is_fitted(self)
        frames = self._frame_major(X)
        import torch

        from .._dsp import _torch as torch_dsp

        with torch_dsp.torch_threads(self.n_jobs), torch.no_grad():
            S = torch_dsp.as_tensor(frames)
            if self.output == "complex":
                self._warn_poor_coverage()
                spec = torch.view_as_complex(S).transpose(1, 2)
                y = torch_dsp.istft(spec, self._geometry, self.window_,
                                    self._inv_envelope)
            else:
                magnitude = self._magnitude(S).transpose(1, 2)
                generator = torch.Generator().manual_seed(
                    int(check_random_state(self.random_state).randint(2**31 - 1))
                )
                y = torch_dsp.griffin_lim(
                    magnitude, self._geometry, self.window_, n_iter=self.n_iter,
                    momentum=0.99, generator=generator,
                )
            return y.numpy()

    def _warn_poor_coverage(self):
        geo = self._geometry
        envelope = _dsp.window_envelope(geo, self.window_)
        clip = envelope[geo.left:geo.left + geo.n_times]
        weak = np.flatnonzero(clip < 1e-3 * envelope.max())
        if weak.size:
            warnings.warn(
                f"{weak.size} sample(s) of each clip (first at index {weak[0]}) "
                "are barely covered by the analysis window (center=False with "
                "a window that vanishes at its ends), so inverse_transform "
                "recovers them imprecisely or as zeros. Use center=True or a "
                "window that does not vanish at its ends for an exact round "
                "trip.",
                UserWarning,
            )

    def _magnitude(self, S):
        """Magnitude from 'magnitude', 'power' or 'db' feature values."""
        import torch

        if self.output == "magnitude":
            return torch.clamp(S, min=0)
        if self.output == "power":
            return torch.sqrt(torch.clamp(S, min=0))
        return torch.sqrt(10.0 ** (S / 10.0))

    # -- layout helpers ---------------------------------------------------

    def _frame_major(self, X):
        """Features -> (n_clips, n_frames, n_freqs[, 2]) view, checked."""
        X = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        parts = 2 if self.output == "complex" else 1
        shape = (self.n_frames_, self.n_freqs_) + ((2,) if parts == 2 else ())
        expected = int(np.prod(shape))
        if X.shape[1] != expected:
            raise ValueError(
                f"X has {X.shape[1]} features, but this STFTTransformer "
                f"produces {expected} per clip ({self.n_frames_} frames x "
                f"{self.n_freqs_} frequencies" + (" x 2 parts)." if parts == 2
                                                  else ").")
            )
        return np.ascontiguousarray(X).reshape(X.shape[0], *shape)

    def to_spectrogram(self, X):
        """Reshape feature rows into spectrograms.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            Features from :meth:`transform`.

        Returns
        -------
        S : ndarray of shape (n_clips, n_freqs, n_frames)
            Complex (complex64 or complex128) for 'complex' output, real
            otherwise; a view of ``X`` (no copy) when ``X`` is a C-ordered
            float array.
        """
        check_is_fitted(self)
        frames = self._frame_major(X)
        if self.output == "complex":
            complex_dtype = np.complex64 if frames.dtype == np.float32 else (
                np.complex128)
            frames = frames.view(complex_dtype)[..., 0]
        return frames.transpose(0, 2, 1)

    def from_spectrogram(self, S):
        """Flatten spectrograms into feature rows (inverse of
        :meth:`to_spectrogram`).

        Parameters
        ----------
        S : array-like of shape (n_clips, n_freqs, n_frames)
            Complex for 'complex' output, real otherwise.

        Returns
        -------
        X : ndarray of shape (n_clips, n_features)
        """
        check_is_fitted(self)
        S = np.asarray(S)
        if S.ndim != 3 or S.shape[1:] != (self.n_freqs_, self.n_frames_):
            raise ValueError(
                f"S must have shape (n_clips, {self.n_freqs_}, "
                f"{self.n_frames_}), got {S.shape}."
            )
        frames = S.transpose(0, 2, 1)
        if self.output == "complex":
            frames = np.stack([frames.real, frames.imag], axis=-1)
        elif np.iscomplexobj(S):
            raise ValueError(f"output={self.output!r} spectrograms are real.")
        return np.ascontiguousarray(frames).reshape(S.shape[0], -1)

    @property
    def _n_features_out(self):
        parts = 2 if self.output == "complex" else 1
        return parts * self.n_freqs_ * self.n_frames_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _refuse_samples_as_clips(X):
    """A recording ``(n_samples, n_channels)``, as read_audio returns it,
    taken for thousands of clips of a few samples: refused, with the fix.
    (scikit-learn's estimator checks use a few dozen rows: never refused.)"""
    shape = getattr(X, "shape", None)
    if shape is None:
        try:
            shape = np.shape(X)
        except TypeError:       # an array-like that numpy cannot look into
            return
    if len(shape) != 2:
        return
    n_clips, n_times = shape
    if n_clips >= 1000 and looks_like_channels(n_clips, n_times):
        raise ValueError(
            f"X of shape {tuple(shape)} would be {n_clips} clips of {n_times} "
            f"sample{'s' if n_times > 1 else ''} each. Is it one recording of "
            f"{n_times} channel{'s' if n_times > 1 else ''}, (n_samples, n_channels) "
            "as read_audio returns it? STFTTransformer takes one clip per row, "
            "(n_clips, n_times): pass X.T (one row per channel).")

