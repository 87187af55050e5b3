"""Inference: a separator's network on mixtures, and long signals in chunks.

:func:`join_chunks` is the one chunked path: the deep separators'
``separate(chunk_size=...)`` and the file service's
:func:`sksep._separate.transform_chunked` (a fitted multichannel filter on
a long room recording) both run a fixed separator on overlapping chunks
and cross-fade them, so memory stays bounded on long recordings.
"""

import warnings
from numbers import Real

import numpy as np

from .._audio_checks import (
    check_finite,
    check_signal,
    looks_like_channels,
    pcm_to_float,
)

_AUTO_CHUNK = 1 << 18  # samples per chunk of separate(chunk_size="auto")


class LoadedNet:
    """The network of a separator loaded from a file, without skorch.

    ``module_`` is the :class:`sksep.nn.SpectralSeparator` that
    ``separate`` runs (and that :func:`sksep.pretrained.save` writes); it
    may be trained or replaced in place. The estimator's ``fit`` with
    ``warm_start=True`` and ``partial_fit`` swap this for a skorch
    :class:`~skorch.NeuralNet` around the same module (its weights kept)
    before they train.
    """

    def __init__(self, module):
        self.module_ = module

    def __repr__(self):
        return f"{type(self).__name__}(module_={type(self.module_).__name__})"


def check_mixtures(X):
    """Mixtures to separate: the checked input (integer PCM scaled to
    floats; one column ``(n_times, 1)`` is one mixture) and its 2-D
    float32 or float64 batch view."""
    X = pcm_to_float(check_signal(
        X, "Mixtures", "waveform (n_times,) or batch (n_clips, n_times)"))
    if X.ndim == 2 and X.shape[1] == 1 and X.shape[0] > 1:
        X = X[:, 0]  # one mono recording as read_audio returns it
    dtype = np.float64 if X.dtype == np.float64 else np.float32
    Xb = np.atleast_2d(X).astype(dtype, copy=False)
    check_finite(Xb)
    return X, Xb


def _refuse_channel_columns(X, n_fft):
    """A batch whose clips are shorter than one STFT window and fewer than
    its rows is a multichannel recording ``(n_samples, n_channels)``, as
    ``soundfile.read`` returns it, taken for clips: refused, with the fix."""
    if X.ndim == 2 and X.shape[1] < n_fft and looks_like_channels(*X.shape):
        n, c = X.shape
        raise ValueError(
            f"Mixtures of shape {X.shape} would be {n} clips of {c} samples each, "
            f"shorter than the model's STFT window ({n_fft} samples). Is it one "
            f"recording of {c} channels, (n_samples, n_channels) as soundfile.read "
            "returns it? This model separates one microphone: pass X.mean(axis=1) "
            "(the channels mixed down) or one channel, X[:, 0]; a batch of clips "
            "is (n_clips, n_times).")


def check_rate(est, sr):
    """The rate of ``est`` when ``separate(sr=sr)`` is to resample (else
    None); warns once per estimator when the rate is assumed."""
    model_sr = getattr(est, "sample_rate_", None)
    if sr is None:
        if model_sr is not None and not getattr(est, "_rate_assumed", False):
            est._rate_assumed = True
            warnings.warn(
                f"separate() assumes the mixtures are sampled at {model_sr} "
                "Hz, the rate this model was trained at; pass sr= (the "
                "recording's rate) to resample them to it and back.",
                UserWarning, stacklevel=4)
        return None
    if (isinstance(sr, bool) or not isinstance(sr, Real)
            or not np.isfinite(sr) or sr <= 0):
        raise ValueError(f"sr must be a positive sample rate in Hz, got {sr!r}.")
    if model_sr is None:
        raise ValueError(
            f"sr={sr!r} was given, but the rate this separator was trained at "
            "is unknown, so it cannot resample: set its sample_rate_ "
            "attribute to the rate of the clips it was fitted on.")
    return int(model_sr)


class SeparateMixin:
    """``separate`` (mixtures of any length, at any rate, in chunks) for
    anything holding a trained network as ``net_.module_``: the deep
    separators, and :class:`NetworkSeparator`, the network of a model file
    alone. Needs ``n_sources_``, ``permutation_invariant``, optionally
    ``sample_rate_``, and ``_check_fitted()``."""

    def separate(self, X, *, sr=None, chunk_size="auto", overlap=0.25,
                 progress=False):
        """Separate mixtures of any length, optionally in chunks.

        Parameters
        ----------
        X : array-like of shape (n_times,), (n_times, 1) or (n_clips, n_times)
            One mixture or a batch of equal-length mixtures. A single column
            ``(n_times, 1)``, which :func:`sksep.io.read_audio` returns for a
            mono file, is one mixture, as ``(n_times,)`` is. Integer arrays
            are PCM audio (int16 full scale is 1.0), as ``read_audio``
            would scale them; the sources come back as float32.
        sr : int, default=None
            Sample rate of ``X`` in Hz. When it differs from the rate the
            model was trained at (``sample_rate_``), the mixtures are
            resampled to the model's rate, separated, and the sources
            resampled back to ``sr`` with the input's length; content above
            half the model's rate is not kept. None assumes the model's
            rate; a model that knows its rate then warns once that it
            assumed it. A model whose rate is unknown (``sample_rate_`` not
            set) refuses ``sr``.
        chunk_size : int, 'auto' or None, default='auto'
            Process the signal in overlapping chunks of this many samples,
            so memory stays bounded on long recordings (see the user guide
            for figures). 'auto' uses chunks of 2**18 samples (33 s at
            8 kHz), or 20 s at the model's rate where that is longer, for
            longer signals. None processes the signal whole.
            With permutation-invariant training a chunk's outputs can come
            in any order; each chunk is reordered to match the previous one
            on their overlap (the order that maximises the
            correlation of the overlapping samples), then the chunks are
            cross-faded. A chunk under 20 s often holds one voice alone or
            turns, whose order the overlap cannot always restore, so such
            chunks are warned of (see the user guide, "Choosing").
        overlap : float, default=0.25
            Fraction of ``chunk_size`` shared by neighbouring chunks.
        progress : bool, default=False
            Show a progress bar over the chunks (tqdm).

        Returns
        -------
        S : ndarray of shape (n_sources, n_times) or (n_clips, n_sources, n_times)
        """
        return separate_mixtures(self, X, sr=sr, chunk_size=chunk_size, overlap=overlap,
                                 progress=progress)

    def _short_chunk_warning(self, chunk_size):
        """The warning for chunks too short for this model to keep the
        voices' order from one to the next (said, not refused: memory may
        call for them), or None."""
        from .._defaults import MIN_VOICE_CHUNK_SECONDS

        rate = getattr(self, "sample_rate_", None)
        if rate is None or not swaps_between_chunks(self, chunk_size / rate):
            return None
        seconds = chunk_size / rate
        return (f"chunk_size={int(chunk_size)} is {seconds:g} s at {rate} Hz: in "
                f"chunks shorter than {MIN_VOICE_CHUNK_SECONDS:g} s the outputs may "
                "swap voices from one chunk to the next (a chunk holding one voice "
                "or turns gets its order afresh); use chunk_size="
                f"{int(MIN_VOICE_CHUNK_SECONDS * rate)} or more, or None.")

    def _separate_chunked(self, X, size, overlap, progress, warn=True):
        min_size = self.net_.module_.n_fft
        if size < min_size:
            raise ValueError(
                f"chunk_size must be at least n_fft={min_size} samples, got {size}."
            )
        if not 0 <= overlap < 1:
            raise ValueError(f"overlap must be in [0, 1), got {overlap!r}.")
        message = self._short_chunk_warning(size) if warn else None
        if message:
            warnings.warn(message, UserWarning, stacklevel=4)
        step = max(size - int(round(overlap * size)), 1)
        return join_chunks(
            lambda start, stop: self._separate(X[:, start:stop]).astype(X.dtype,
                                                                      copy=False),
            chunk_bounds(X.shape[1], size, step),
            align=align_sources if self.permutation_invariant else None,
            progress=progress)

    def _separate(self, X, key="wave"):
        return run_module(self.net_.module_, X, key)


def swaps_between_chunks(est, seconds):
    """Whether chunks of ``seconds`` are too short for ``est`` to keep the
    voices' order from one to the next: a permutation-invariant model under
    ``MIN_VOICE_CHUNK_SECONDS``, which :meth:`SeparateMixin.separate` warns
    of and the file service says in its own words."""
    from .._defaults import MIN_VOICE_CHUNK_SECONDS

    return bool(getattr(est, "permutation_invariant", False)) and (
        seconds < MIN_VOICE_CHUNK_SECONDS)


def separate_mixtures(est, X, *, sr=None, chunk_size="auto", overlap=0.25,
                      progress=False, warn_short_chunks=True):
    """:meth:`SeparateMixin.separate` of ``est``. The file service, which
    says a short chunk in its own words, passes ``warn_short_chunks=False``
    (rather than changing the warning filters, which a batch worker's
    threads share)."""
    est._check_fitted()
    X, Xb = check_mixtures(X)
    _refuse_channel_columns(X, est.net_.module_.n_fft)
    dtype = Xb.dtype
    n_times = Xb.shape[1]
    model_sr = check_rate(est, sr)
    if model_sr is not None and sr != model_sr:
        from .._separate import resample

        Xb = resample(Xb, sr, model_sr).astype(dtype, copy=False)
    if isinstance(chunk_size, str):
        if chunk_size != "auto":
            raise ValueError(
                f"chunk_size must be a positive int, 'auto' or None, got "
                f"{chunk_size!r}."
            )
        # 2**18 samples, and never chunks short enough to swap the voices
        from .._defaults import MIN_VOICE_CHUNK_SECONDS

        rate = getattr(est, "sample_rate_", None) or 0
        chunk_size = max(_AUTO_CHUNK, int(np.ceil(MIN_VOICE_CHUNK_SECONDS * rate)))
    if chunk_size is None or Xb.shape[1] <= chunk_size:
        S = est._separate(Xb).astype(dtype, copy=False)
    else:
        S = est._separate_chunked(Xb, int(chunk_size), overlap, progress,
                                  warn=warn_short_chunks)
    if model_sr is not None and sr != model_sr:
        S = resample(S, model_sr, sr, size=n_times).astype(dtype, copy=False)
    return S[0] if X.ndim == 1 else S


def network_streamer(module, window, n_sources, sample_rate=None):
    """The :class:`~sksep.streaming.BlockStreamer` of a causal mask network
    (``module``, a :class:`sksep.nn.SpectralSeparator` whose mask network
    steps frame by frame) over its STFT with ``window`` (the fitted front
    end's, float64): what :meth:`MaskEstimator.streamer` and
    :meth:`NetworkSeparator.streamer` return. The network's state lives in
    the stream."""
    from ..nn._modules import _LOG_EPS
    from ..streaming import BlockStreamer

    module.eval()
    masks_of = module.mask_net.stepper()                  # its own state

    def processor(spec):                                  # (T, F, 1) complex
        x = spec[:, :, 0]
        m = masks_of(np.log(x.real**2 + x.imag**2 + _LOG_EPS))     # (S, T, F)
        return np.moveaxis(m.astype(np.float64) * x[None], 0, -1)  # (T, F, S)

    return BlockStreamer(
        processor, n_fft=module.n_fft, hop_length=module.hop_length, window=window,
        pad_mode=module.pad_mode, n_channels=1, n_outputs=n_sources,
        sample_rate=sample_rate, layout="sources_first")


class NetworkSeparator(SeparateMixin):
    """A model file's network alone, ready to separate: what the file
    service (``sksep separate``, :func:`sksep.batch.separate_files`) loads.

    :meth:`separate` is the deep separators' own (:class:`SeparateMixin`),
    so it gives the same sources to the bit; building it imports neither
    scikit-learn nor skorch, which is most of a command's start-up. Load
    the estimator (:func:`sksep.pretrained.load`) to train, score or put
    the model in a pipeline.

    Parameters
    ----------
    module : sksep.nn.SpectralSeparator
        The trained network.
    n_sources : int
        Its outputs.
    permutation_invariant : bool, default=True
        False for a class-fixed model (one output per class, in the order
        of ``classes``).
    classes : array-like, default=None
        A class-fixed model's classes.
    sample_rate : int, default=None
        The rate it was trained at, in Hz.
    estimator : str, default='MaskEstimator'
        The class of the estimator the file holds.
    window : ndarray of shape (n_fft,), default=None
        The fitted front end's window (float64), for :meth:`streamer`.
    """

    def __init__(self, module, *, n_sources, permutation_invariant=True, classes=None,
                 sample_rate=None, estimator="MaskEstimator", window=None):
        module.eval()
        self.net_ = LoadedNet(module)
        self.window_ = window
        self.n_sources_ = int(n_sources)
        self.permutation_invariant = bool(permutation_invariant)
        if classes is not None:
            self.classes_ = np.asarray(classes)
        if sample_rate is not None:
            self.sample_rate_ = int(sample_rate)
        self.estimator = estimator

    def _check_fitted(self):
        """Built from a trained network: always fitted."""

    def streamer(self):
        """A block-by-block separator, as :meth:`MaskEstimator.streamer`
        (the same stream) for a causal network; a ValueError otherwise."""
        if not getattr(self.net_.module_.mask_net, "causal", False) or self.window_ is None:
            raise ValueError(
                f"This {self.estimator} looks at future frames and cannot stream; "
                "stream with a causal model ('speech8k-2voices-causal-8ms', "
                "'-16ms' or '-32ms').")
        return network_streamer(self.net_.module_, self.window_, self.n_sources_,
                                getattr(self, "sample_rate_", None))

    def __repr__(self):
        return (f"{type(self).__name__}({self.estimator}, "
                f"n_sources={self.n_sources_})")


def run_module(module, X, key="wave"):
    """``module(mixture)[key]`` for every mixture of ``X`` ``(n_clips,
    n_times)``, stacked, in eval mode and without gradients: float64 for a
    float64 ``X``, float32 otherwise."""
    import torch

    module.eval()
    device = next(module.parameters()).device
    out = []
    # one mixture at a time: an output never depends on which other
    # mixtures share its batch (float32 kernels differ by batch size)
    with torch.no_grad():
        for clip in X:
            xb = torch.as_tensor(np.asarray(clip, dtype=np.float32)[None],
                                 device=device)
            out.append(module(xb)[key].cpu().numpy())
    return np.concatenate(out).astype(np.float64 if X.dtype == np.float64
                                      else np.float32)


def chunk_bounds(n_times, size, step, *, equal=True):
    """``(start, stop)`` of overlapping chunks of ``size`` samples, ``step``
    apart, covering ``n_times`` samples.

    With ``equal=True`` every chunk is ``size`` long: the last one starts at
    ``n_times - size``. Otherwise the last one ends at ``n_times`` and may
    be shorter.
    """
    if n_times <= size:
        return [(0, n_times)]
    if equal:
        starts = sorted(set(range(0, n_times - size, step)) | {n_times - size})
        return [(start, start + size) for start in starts]
    bounds = []
    for start in range(0, n_times, step):
        bounds.append((start, min(n_times, start + size)))
        if start + size >= n_times:
            break
    return bounds


def join_chunks(run, bounds, *, align=None, progress=False):
    """The outputs of ``run(start, stop)`` over chunks, cross-faded.

    Parameters
    ----------
    run : callable
        ``run(start, stop)`` returns the output of the chunk of samples
        ``start:stop``, time on its last axis (``(..., stop - start)``),
        every chunk of one shape but the length and of one dtype.
    bounds : list of (int, int)
        The chunks, in order (:func:`chunk_bounds`); neighbours overlap.
    align : callable, default=None
        ``align(seen, part)`` returns ``part`` reordered to match ``seen``,
        the output already written on their overlap (the outputs of a
        permutation-invariant separator come in any order in each chunk).
    progress : bool, default=False
        Show a progress bar over the chunks (tqdm).

    Returns
    -------
    out : ndarray of shape (..., bounds[-1][1])
        On every overlap a linear ramp from the earlier chunk to the later.
    """
    n_times = bounds[-1][1]
    if progress:
        from tqdm.auto import tqdm

        bounds = tqdm(bounds, unit="chunk", desc="separating")
    out = None
    done = 0  # samples of ``out`` written so far
    for start, stop in bounds:
        part = run(start, stop)
        if out is None:
            out = np.zeros(part.shape[:-1] + (n_times,), dtype=part.dtype)
        n_over = done - start
        if n_over > 0:
            if align is not None:
                part = align(out[..., start:done], part)
            ramp = np.linspace(0.0, 1.0, n_over + 2, dtype=part.dtype)[1:-1]
            out[..., start:done] *= 1 - ramp
            out[..., start:done] += ramp * part[..., :n_over]
        out[..., max(done, start):stop] = part[..., max(n_over, 0):]
        done = stop
    return out


def align_sources(seen, part):
    """``part`` ``(n_clips, n_sources, n_times)`` with each clip's sources
    reordered to match ``seen`` on their overlap (``seen.shape[-1]``
    samples): the order that maximises the correlation of the overlapping
    samples."""
    from ..metrics import solve_permutation

    new = part[..., :seen.shape[-1]]
    for i in range(len(part)):
        a = seen[i] / (np.linalg.norm(seen[i], axis=1, keepdims=True) + 1e-12)
        b = new[i] / (np.linalg.norm(new[i], axis=1, keepdims=True) + 1e-12)
        part[i] = part[i, solve_permutation(a @ b.T)]
    return part
