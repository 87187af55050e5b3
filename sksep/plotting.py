"""Figures of signals, spectrograms, masks and separation results.

matplotlib is imported inside the functions, so ``import sksep`` does not
load it. Every function
draws on the axes it is given, or on new ones, and returns what it drew (the
:class:`~matplotlib.axes.Axes` or the :class:`~matplotlib.figure.Figure`),
so titles, limits and styles can be changed afterwards.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from ._validation import SampleRate, check_audio

__all__ = ["plot_mask", "plot_separation", "plot_spectrogram", "plot_waveform"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "sksep.plotting needs matplotlib: pip install matplotlib"
        ) from exc
    return plt


def _axes(ax):
    if ax is not None:
        return ax
    return _pyplot().subplots(figsize=(6, 2.5), layout="constrained")[1]


# the constraints the plotting functions share
_RATE = {"sr": [SampleRate(integer=False)]}
_STFT = {"n_fft": [Interval(Integral, 2, None, closed="left")],
         "hop_length": [Interval(Integral, 1, None, closed="left")]}
_WAVEFORM = "waveform (n_times,)"


def _time_frequency_image(ax, values, hop_length, sr, cmap, limits, label, title):
    """Draw (n_freqs, n_frames) ``values`` on ``ax`` with axes and a colour bar.

    Frame ``t`` is drawn centred on ``t * hop_length / sr`` seconds (the
    centred STFT's frame times), so spectrograms and masks of one signal
    line up with each other and with its waveform."""
    half = 0.5 * hop_length / sr
    image = ax.imshow(values, origin="lower", aspect="auto", cmap=cmap,
                      extent=(-half, values.shape[1] * hop_length / sr - half, 0, sr / 2),
                      vmin=limits[0], vmax=limits[1])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.figure.colorbar(image, ax=ax, label=label, pad=0.01)
    if title is not None:
        ax.set_title(title)
    return ax


@validate_params({"x": ["array-like"], **_RATE}, prefer_skip_nested_validation=True)
def plot_waveform(x, sr, *, ax=None, label=None, color=None, title=None):
    """Plot a waveform against time in seconds.

    Parameters
    ----------
    x : array-like of shape (n_times,)
        The signal.
    sr : float
        Sample rate in Hz.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None makes a new figure.
    label, color : str, default=None
        Legend label and line colour.
    title : str, default=None

    Returns
    -------
    ax : matplotlib.axes.Axes

    See Also
    --------
    plot_spectrogram : The same signal in time and frequency.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.plotting import plot_waveform
    >>> ax = plot_waveform(np.sin(np.arange(800) / 10), sr=8000, title="tone")
    >>> ax.get_title()
    'tone'
    """
    x = check_audio(x, "x", ndims=(1,), shapes=_WAVEFORM)
    sr = float(sr)
    ax = _axes(ax)
    ax.plot(np.arange(x.size) / sr, x, lw=0.6, label=label, color=color)
    ax.set_xlim(0, max(x.size - 1, 1) / sr)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if title is not None:
        ax.set_title(title)
    if label is not None:
        ax.legend(loc="upper right", fontsize="small")
    return ax


@validate_params(
    {"x": ["array-like"], **_RATE, "n_fft": _STFT["n_fft"],
     "hop_length": [*_STFT["hop_length"], None],
     "top_db": [Interval(Real, 0, None, closed="neither")]},
    prefer_skip_nested_validation=True)
def plot_spectrogram(x, sr, *, n_fft=256, hop_length=None, top_db=80.0, ax=None,
                     title=None, cmap="magma"):
    """Plot a log-power spectrogram (dB relative to its peak).

    Parameters
    ----------
    x : array-like of shape (n_times,)
        The signal.
    sr : float
        Sample rate in Hz.
    n_fft : int, default=256
    hop_length : int, default=None
        Defaults to ``n_fft // 4``.
    top_db : float, default=80.0
        Dynamic range shown below the peak.
    ax : matplotlib.axes.Axes, default=None
    title : str, default=None
    cmap : str, default='magma'

    Returns
    -------
    ax : matplotlib.axes.Axes
        Its first image (``ax.images[0]``) holds the dB values.

    See Also
    --------
    sksep.spectral.STFTTransformer : The STFT it draws.
    plot_mask : A mask on the same axes layout.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.plotting import plot_spectrogram
    >>> ax = plot_spectrogram(np.random.default_rng(0).normal(size=8000), sr=8000)
    >>> ax.images[0].get_array().shape
    (129, 126)
    """
    x = check_audio(x, "x", ndims=(1,), shapes=_WAVEFORM)
    sr = float(sr)
    from .spectral import STFTTransformer

    stft = STFTTransformer(n_fft=n_fft, hop_length=hop_length, output="magnitude")
    mag = stft.to_spectrogram(stft.fit_transform(x[None].astype(np.float64)))[0]
    power = mag**2
    db = 10 * np.log10(np.maximum(power, 1e-20) / max(power.max(), 1e-20))
    db = np.maximum(db, -float(top_db))
    ax = _axes(ax)
    ax = _time_frequency_image(ax, db, stft.hop_length_, sr, cmap, (-float(top_db), 0),
                               "dB", title)
    ax.set_xlim(0, x.size / sr)
    return ax


@validate_params(
    {"mask": ["array-like"], **_RATE,
     "hop_length": [Interval(Real, 0, None, closed="neither")]},
    prefer_skip_nested_validation=True)
def plot_mask(mask, sr, hop_length, *, ax=None, title=None, cmap="viridis"):
    """Plot a time-frequency mask (values in [0, 1]).

    Parameters
    ----------
    mask : array-like of shape (n_freqs, n_frames)
        For example one source of :meth:`MaskEstimator.predict_masks`.
    sr : float
        Sample rate in Hz.
    hop_length : int
        Hop of the STFT the mask belongs to, in samples.
    ax : matplotlib.axes.Axes, default=None
    title : str, default=None
    cmap : str, default='viridis'

    Returns
    -------
    ax : matplotlib.axes.Axes

    See Also
    --------
    sksep.neural.MaskEstimator.predict_masks : Masks to draw.
    plot_separation : Masks next to waveforms and spectrograms.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.plotting import plot_mask
    >>> ax = plot_mask(np.full((129, 50), 0.5), sr=8000, hop_length=64)
    >>> ax.get_ylabel()
    'frequency (Hz)'
    """
    mask = np.asarray(mask, dtype=np.float64)   # a boolean mask is 0 and 1
    if mask.ndim != 2 or mask.size == 0:
        raise ValueError(
            f"mask must be a non-empty (n_freqs, n_frames) array, got shape {mask.shape}."
        )
    sr = float(sr)
    ax = _axes(ax)
    return _time_frequency_image(ax, mask, hop_length, sr, cmap, (0, 1), "mask", title)


@validate_params(
    {"mixture": ["array-like"], "estimates": ["array-like"], **_RATE,
     "references": ["array-like", None], "masks": ["array-like", None], **_STFT,
     "labels": [list, tuple, None], "scores": ["array-like", None],
     "reference_spectrograms": ["boolean"], "reference_titles": [list, tuple, None]},
    prefer_skip_nested_validation=True)
def plot_separation(mixture, estimates, sr, *, references=None, masks=None,
                    hop_length=64, n_fft=256, labels=None, scores=None, title=None,
                    fig=None, reference_spectrograms=False, reference_titles=None):
    """Overview of a separation: one row per signal, waveform and spectrogram.

    The first row is the mixture (its first channel when it has several),
    then one row per estimated source, its reference (when given) drawn
    under its waveform in grey. With ``reference_spectrograms`` a column
    shows each reference's spectrogram beside its estimate's, and with
    ``masks`` a last column shows the mask of each source.

    Every spectrogram is titled with what it shows: the mixture (``"mixture"``
    or ``"mixture, microphone 1 of 3"``), ``"estimate: <label>"`` or
    ``"reference: <label>"``; waveform titles carry the SI-SDR.

    Parameters
    ----------
    mixture : array-like of shape (n_times,) or (n_channels, n_times)
    estimates : array-like of shape (n_sources, n_times)
    sr : float
        Sample rate in Hz.
    references : array-like of shape (n_sources, n_times), default=None
        True sources, in the order of ``estimates``.
    masks : array-like of shape (n_sources, n_freqs, n_frames), default=None
    hop_length, n_fft : int, default=64, 256
        STFT of the spectrograms (and the hop of ``masks``).
    labels : list of str, default=None
        Name of each source.
    scores : array-like of shape (n_sources,), default=None
        SI-SDR (dB) of each estimate, shown in its row title.
    title : str, default=None
        Figure title.
    fig : matplotlib.figure.Figure or SubFigure, default=None
        Where to draw (for example one of ``Figure.subfigures``); None makes
        a new figure.
    reference_spectrograms : bool, default=False
        Add a column with the spectrogram of each reference (needs
        ``references``), to compare with its estimate's.
    reference_titles : list of str, default=None
        Titles of those reference spectrograms, one per source; None titles
        them ``"reference: <label>"``.

    Returns
    -------
    fig : matplotlib.figure.Figure or SubFigure

    See Also
    --------
    plot_waveform : One waveform.
    plot_spectrogram : One spectrogram.
    plot_mask : One mask.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.plotting import plot_separation
    >>> rng = np.random.default_rng(0)
    >>> s = rng.laplace(size=(2, 4000))
    >>> fig = plot_separation(s.sum(0), s, 8000, references=s, scores=[30.0, 31.0])
    >>> len(fig.axes) >= 6
    True
    >>> [ax.get_title() for ax in fig.axes if ax.get_title().startswith("estimate")]
    ['estimate: source 1', 'estimate: source 2']
    """
    plt = _pyplot()
    sr = float(sr)
    mixture = check_audio(mixture, "mixture", shapes="waveform (n_times,) or "
                          "(n_channels, n_times)", time_axis=1)
    mix_name = ("mixture" if mixture.ndim == 1
                else f"mixture, microphone 1 of {mixture.shape[0]}")
    mixture = mixture if mixture.ndim == 1 else mixture[0]
    estimates = check_audio(estimates, "estimates", ndims=(2,),
                            shapes="(n_sources, n_times) array", time_axis=1)
    n_src = estimates.shape[0]
    for name, value, shape in (("references", references, estimates.shape),
                               ("scores", scores, (n_src,))):
        if value is not None and np.shape(value) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {np.shape(value)}.")
    if masks is not None and (np.ndim(masks) != 3 or np.shape(masks)[0] != n_src):
        raise ValueError(
            f"masks must have shape ({n_src}, n_freqs, n_frames), got {np.shape(masks)}."
        )
    if labels is not None and len(labels) != n_src:
        raise ValueError(f"labels must name {n_src} sources, got {len(labels)}.")
    labels = labels or [f"source {k + 1}" for k in range(n_src)]
    if reference_spectrograms and references is None:
        raise ValueError("reference_spectrograms=True needs references.")
    if reference_titles is not None and len(reference_titles) != n_src:
        raise ValueError(f"reference_titles must title {n_src} references, got "
                         f"{len(reference_titles)}.")
    reference_titles = reference_titles or [f"reference: {name}" for name in labels]
    ref_col = 2 if reference_spectrograms else None
    mask_col = 2 + bool(reference_spectrograms) if masks is not None else None
    n_cols = 2 + bool(reference_spectrograms) + (masks is not None)
    if fig is None:
        fig = plt.figure(figsize=(4.2 * n_cols, 2.0 * (n_src + 1)), layout="constrained")
    axes = fig.subplots(n_src + 1, n_cols, squeeze=False)
    silent = None
    if masks is not None:
        # a mask means nothing where the mixture is silent: leave those bins blank
        from .spectral import STFTTransformer

        stft = STFTTransformer(n_fft=n_fft, hop_length=hop_length, output="power")
        power = stft.to_spectrogram(stft.fit_transform(mixture[None].astype(np.float64)))[0]
        if power.shape == np.shape(masks)[1:]:
            silent = power < power.max() * 1e-6      # 60 dB below the loudest bin
    rows = [(mix_name, mixture, None, None)] + [
        (labels[k], estimates[k], None if references is None else references[k],
         None if scores is None else scores[k]) for k in range(n_src)]
    for r, (name, signal, ref, score) in enumerate(rows):
        head = name if score is None else f"{name}: SI-SDR {float(score):.1f} dB"
        if ref is not None:
            plot_waveform(np.asarray(ref, dtype=np.float64), sr, ax=axes[r, 0],
                          color="0.7", label="reference")
        plot_waveform(signal, sr, ax=axes[r, 0], title=head, color=f"C{r}",
                      label=None if ref is None else "estimate")
        plot_spectrogram(signal, sr, n_fft=n_fft, hop_length=hop_length, ax=axes[r, 1],
                         title=name if r == 0 else f"estimate: {name}")
        if ref_col is not None:
            if r == 0:
                axes[r, ref_col].axis("off")
            else:
                plot_spectrogram(np.asarray(ref, dtype=np.float64), sr, n_fft=n_fft,
                                 hop_length=hop_length, ax=axes[r, ref_col],
                                 title=reference_titles[r - 1])
        if mask_col is not None:
            if r == 0:
                axes[r, mask_col].axis("off")
            else:
                mask = np.asarray(masks[r - 1], dtype=np.float64)
                if silent is not None:
                    mask = np.where(silent, np.nan, mask)
                plot_mask(mask, sr, hop_length, ax=axes[r, mask_col],
                          title=f"{name}: estimated mask"
                          + (" (blank: mixture silent)" if silent is not None else ""))
        for ax in axes[r]:
            if ax.has_data():
                ax.set_xlim(0, mixture.size / sr)
    if title is not None:
        fig.suptitle(title)
    return fig
