"""The one file service: separate one recording, name and write its outputs.

``sksep separate`` on one file and :func:`sksep.batch.separate_files` (and
so ``sksep separate`` on many) both call :func:`separate_file`, so an option
means the same in both: the method chosen, the rate a model runs at, the
part of a room recording IVA learns from, the chunks, the seed, the outputs'
names and sample format, and every refusal, in the same words.

Errors a user can act on are raised as ``ValueError`` (``FileExistsError``
for outputs in the way) with one line in the library's terms: parameter
names (``n_sources``, ``fit_seconds``), ``method='ica'``, "the model
argument". The command line says the same line in its own terms
(``sksep.cli._common._in_cli_terms``).

The outputs' names, the overwrite checks and the writing are in
:mod:`sksep._outputs`; ``sksep stream`` and ``sksep demo`` share them, and
this module's model loading and room estimator, with the commands above.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._defaults import (
    CHUNK_SECONDS,
    DEFAULT_MODEL,
    FIT_SECONDS,
    MIN_VOICE_CHUNK_SECONDS,
    MODEL_SAMPLE_RATE,
    RANDOM_STATE,
)
from ._outputs import (
    check_output_dir,
    check_outputs,
    fixed_classes,
    kept_outputs,
    output_names,
    output_paths,
    output_subtype,
    plan_outputs,
    write_sources,
)

# the service, as the commands, sksep.batch and the tests import it; the
# outputs' half is sksep._outputs'
__all__ = ["DEFAULT_MODEL", "METHODS", "Separation", "check_options",
           "check_output_dir", "check_outputs", "default_model", "estimator_name",
           "fixed_classes", "kept_outputs",
           "load_model",
           "model_rate", "output_names", "output_paths", "output_subtype",
           "plan_outputs", "read_recording", "resample", "room_estimator",
           "room_stft", "separate_file", "separate_recording", "separate_room",
           "transform_chunked", "write_sources"]

METHODS = ("iva", "ica", "mask", "cnn")
_ROOM_METHODS = ("iva", "ica")
_MIN_FIT_WINDOWS = 4          # --fit-seconds: at least this many IVA windows


def room_stft(sr):
    """IVA's default STFT at ``sr`` (256 ms windows, a power of two, hop
    1/4), the same one ``IVASeparator(sample_rate=sr)`` uses."""
    from .decomposition._iva import default_stft

    return default_stft(sr)


def room_estimator(method, sr, *, n_sources=None, random_state=None):
    """The unfitted room separator of ``method`` ('iva' or 'ica') that the
    service fits on a recording at ``sr``: IVA with :func:`room_stft`,
    sources at the first microphone's scale (``ref_channel=0``)."""
    from .decomposition import FastICASeparator, IVASeparator

    if method == "ica":
        return FastICASeparator(n_components=n_sources, ref_channel=0,
                                random_state=random_state)
    return IVASeparator(n_components=n_sources, stft=room_stft(sr), ref_channel=0,
                        random_state=random_state)


def transform_chunked(estimator, X, chunk, overlap=None):
    """``estimator.transform(X)`` of a fixed (fitted) multichannel filter in
    overlapping chunks, cross-faded: bounded memory on long recordings."""
    from .neural._inference import chunk_bounds, join_chunks

    n = X.shape[0]
    if n <= chunk:
        return estimator.transform(X)
    step = chunk - (overlap or max(chunk // 8, 1))
    # time on the rows here, on the last axis for join_chunks
    return join_chunks(lambda start, stop: estimator.transform(X[start:stop]).T,
                       chunk_bounds(n, chunk, step, equal=False)).T


def resample(x, orig_sr, target_sr, size=None):
    """``x`` (time on the last axis) at ``target_sr`` (librosa), cut or padded
    to ``size`` samples when given; unchanged when the rates agree."""
    if orig_sr == target_sr:
        return x
    import librosa

    y = librosa.resample(x, orig_sr=orig_sr, target_sr=target_sr)
    return y if size is None else librosa.util.fix_length(y, size=size, axis=-1)


def separate_room(estimator, data, sr, *, fit_seconds, chunk_seconds):
    """Fit a multichannel separator on at most ``fit_seconds`` of ``data``
    (its middle), then separate all of it, ``(n_samples, n_sources)``: an
    STFT-domain separator (IVA) in cross-faded chunks, with fixed filters, so
    memory stays bounded and the chunks cannot swap sources."""
    n = data.shape[0]
    fit_len = min(n, max(int(fit_seconds * sr), 1))
    start = (n - fit_len) // 2
    estimator.fit(data[start:start + fit_len])
    if hasattr(estimator, "stft_"):
        chunk = max(int(chunk_seconds * sr), 4 * estimator.stft_.n_fft)
        return transform_chunked(estimator, data, chunk)
    return estimator.transform(data)


# -- the options and the model -----------------------------------------------------

def check_options(*, method=None, model=None, n_sources=None, fit_seconds=FIT_SECONDS,
                  chunk_seconds=CHUNK_SECONDS, model_sr=None, keep=None):
    """Refuse options that no recording could take, before any is read."""
    if method is not None and method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} or None, got "
                         f"{method!r}.")
    if n_sources is not None and n_sources < 1:
        raise ValueError(f"n_sources must be at least 1, got {n_sources}.")
    if not fit_seconds > 0:
        raise ValueError(f"fit_seconds must be positive, got {float(fit_seconds)}.")
    if not chunk_seconds > 0:
        raise ValueError(f"chunk_seconds must be positive, got {float(chunk_seconds)}.")
    if model_sr is not None and not model_sr > 0:
        raise ValueError(f"model_sr must be positive, got {model_sr}.")
    if method in _ROOM_METHODS and model is not None and not _is_room_estimator(model):
        raise _model_not_for(method)
    if model_sr is not None and method not in _ROOM_METHODS:
        # a shipped model records its rate: a contradicting one is refused
        # here, before any file is read, as model_rate would for each file
        name, entry = _shipped_entry(method, model)
        known = (entry or {}).get("sample_rate")
        if known is not None and int(model_sr) != int(known):
            raise _rate_refused(model_sr, known, f"the default model, {name},"
                                if model is None else name)
    if keep is not None:
        _check_keep(keep, method, model)


def _shipped_entry(method, model):
    """``(name, registry entry)`` of the model a single-microphone method
    would load (the default for ``method`` when ``model`` is None); the
    entry is None for a model that is no shipped name."""
    name = default_model(method) if model is None else model
    if not isinstance(name, str):
        return name, None
    from .pretrained import list_models

    return name, list_models().get(name)


def _check_keep(keep, method, model):
    """Refuse a ``keep`` that no recording could honour: with IVA or ICA,
    or naming no class of a shipped model (known without loading it)."""
    if method in _ROOM_METHODS or _is_room_estimator(model):
        kept_outputs(None, keep, what=(method or "iva").upper() if model is None
                     else estimator_name(model))
    name, entry = _shipped_entry(method, model)
    if entry is not None:        # the registry records a model's classes
        what = name
        if model is None:
            what = (f"the default separators ({name} for a mono file, IVA for a "
                    "multichannel one)" if method is None
                    else f"the default model, {name},")
        kept_outputs(entry.get("classes"), keep, what=what)


def _model_not_for(method):
    return ValueError(
        "the model argument applies to the single-microphone methods (mask, cnn), "
        f"not to method='{method}'; pass method='mask' to use the model on the "
        "channels mixed down to one.")


def _is_room_estimator(model):
    if model is None or isinstance(model, (str, os.PathLike)):
        return False     # a name or file is a deep separator's (and imports nothing)
    from .decomposition import FastICASeparator, IVASeparator

    return isinstance(model, (FastICASeparator, IVASeparator))


def default_model(method=None):
    """The shipped model a single-microphone ``method`` uses by default."""
    return f"{DEFAULT_MODEL}-cnn" if method == "cnn" else DEFAULT_MODEL


# per process (one per batch worker): (model name or path, network only) -> model
_MODELS = {}


def load_model(model, method=None, *, network_only=False):
    """The deep separator ``model`` names (a shipped name or a model file,
    loaded once per process), or ``model`` itself when it is an estimator.

    With ``network_only`` a name or file gives its network alone
    (:func:`sksep.pretrained.load_network`: the same ``separate``, without
    importing scikit-learn or skorch), which is all separating a file needs.
    """
    if model is None:
        model = default_model(method)
    if not isinstance(model, (str, os.PathLike)):
        return model
    key = (str(model), network_only)
    if key not in _MODELS:
        from .pretrained import load, load_network

        try:
            _MODELS[key] = (load_network if network_only else load)(str(model))
        except ValueError as exc:
            if exc.__cause__ is None:   # an sksep file of another version, ...
                raise
            raise ValueError(
                f"Cannot load a model from '{model}': it is not an sksep model file "
                "(one written by 'sksep train'), or it is truncated.") from exc
    return _MODELS[key]


def model_rate(model, model_sr=None):
    """The rate ``model`` runs at: its ``sample_rate_``, else ``model_sr``
    (None: 8000). A ``model_sr`` that contradicts the rate the model
    records is refused, not ignored."""
    known = getattr(model, "sample_rate_", None)
    if known is None:
        return int(model_sr or MODEL_SAMPLE_RATE)
    if model_sr is not None and int(model_sr) != int(known):
        raise _rate_refused(model_sr, known, "the model")
    return int(known)


def _rate_refused(model_sr, known, which):
    """The refusal of a ``model_sr`` that contradicts the rate ``which``
    records (``known``)."""
    return ValueError(
        f"model_sr {model_sr} was given, but {which} records the rate it was trained "
        f"at, {int(known)} Hz: model_sr is only for a model file that does not; "
        "leave it out.")


def estimator_name(model):
    """The class name of the estimator ``model`` is or was loaded from (a
    NetworkSeparator names the estimator its file holds)."""
    held = getattr(model, "estimator", None)
    return held if isinstance(held, str) else type(model).__name__


def _check_kind(model, loaded, method):
    """A model asked for by name with an explicit method must be of its kind."""
    expected = {"mask": "MaskEstimator", "cnn": "CNNAutoencoderSeparator"}[method]
    held = estimator_name(loaded)
    if held != expected:
        raise ValueError(f"method='{method}' expects a {expected}, but "
                         f"'{model}' holds a {held}.")


# -- one recording ------------------------------------------------------------------

@dataclass
class Separation:
    """What :func:`separate_file` made of one recording."""

    sources: np.ndarray       # (n_outputs, n_samples) at the input's rate: one
                              # per source, or per class kept (keep)
    sr: int                   # the input's rate, and the outputs'
    subtype: str              # the outputs' WAV sample format: the input's
    targets: list             # the output paths, one per row of sources
    method: str               # 'iva', 'ica', 'mask', 'cnn' or an estimator's name
    model_sr: int = None      # the rate a single-microphone model ran at
    notes: list = field(default_factory=list)   # what a user should be told

    @property
    def lost_band(self):
        """'the model works at 8 kHz: content above 4 kHz is not kept', or ''."""
        if self.model_sr is None or self.sr <= self.model_sr:
            return ""
        return (f"the model works at {self.model_sr / 1000:g} kHz: content above "
                f"{self.model_sr / 2000:g} kHz is not kept")

    @property
    def duration_s(self):
        return self.sources.shape[-1] / self.sr


def separate_file(path, output_dir, *, method=None, model=None, n_sources=None,
                  fit_seconds=FIT_SECONDS, chunk_seconds=CHUNK_SECONDS,
                  random_state=RANDOM_STATE, model_sr=None, keep=None,
                  room_method="iva", overwrite=False, progress=False, say=None):
    """Separate the recording at ``path``; the outputs are checked, not written.

    Parameters
    ----------
    path : str or path-like
        The recording, any format :func:`sksep.io.read_audio` reads.
    output_dir : str or path-like
        Where its outputs go (:func:`output_paths`): ``<stem>_source<k>.wav``,
        or ``<stem>_<class>.wav`` for a class-fixed model (one output per
        class in its ``classes_``, for example ``noisy_speech.wav`` and
        ``noisy_noise.wav``).
    method : {'iva', 'ica', 'mask', 'cnn'}, default=None
        None: ``room_method`` for a multichannel file, 'mask' for a mono one.
        'iva' and 'ica' need as many channels as sources; 'mask' and 'cnn'
        mix the channels down to one.
    model : str, path-like or estimator, default=None
        For 'mask' and 'cnn': a shipped model name, a model file or a fitted
        deep separator (None: :func:`default_model`). An
        :class:`~sksep.IVASeparator` or :class:`~sksep.FastICASeparator` is
        cloned and fitted on the recording (``method`` None).
    n_sources : int, default=None
        Sources to recover: for IVA and ICA at most the channels (None: as
        many as channels); a model's own number otherwise.
    fit_seconds : float, default=60.0
        IVA learns its filters from at most this much of the recording (its
        middle), then separates all of it with them.
    chunk_seconds : float, default=30.0
        Long recordings are separated in chunks of this length.
    random_state : int, default=0
        Seed of IVA and ICA.
    model_sr : int, default=None
        Rate of a model that does not record its own (``sample_rate_``;
        None: 8000). Refused for a model that records a different one.
    keep : str or list of str, default=None
        Only these outputs of a class-fixed model (class names, for example
        ``'speech'`` of ``speech8k-speech-noise``; case does not matter):
        the others are neither checked nor written. None: every output.
        Refused for a model whose outputs come in no fixed order (two
        voices), for IVA and ICA, and for a name that is no class of the
        model.
    room_method : {'iva', 'ica'}, default='iva'
        The method for a multichannel file when ``method`` is None.
    overwrite : bool, default=False
        Whether existing outputs may be replaced; without it they are
        refused before any work.
    progress : bool, default=False
        A progress bar over a model's chunks.
    say : callable, default=None
        Called with each note for the user as soon as it applies (a model's
        weak point, channels mixed down); the notes are also returned.

    Returns
    -------
    Separation
        The sources at the input's rate, the output paths and sample format,
        and the notes.
    """
    check_options(method=method, model=model, n_sources=n_sources,
                  fit_seconds=fit_seconds, chunk_seconds=chunk_seconds,
                  model_sr=model_sr, keep=keep)
    path = Path(path)
    data, sr = read_recording(path)                       # (n_samples, n_channels)
    notes = []

    def note(text):
        notes.append(text)
        if say is not None:
            say(text)

    plan = _plan(path, data, sr, method=method, model=model, n_sources=n_sources,
                 random_state=random_state, model_sr=model_sr, room_method=room_method)
    index = kept_outputs(fixed_classes(plan.get("model")), keep,
                         what=plan.get("name") or estimator_name(
                             plan.get("model") or plan["estimator"]))
    targets = plan_outputs(path, output_dir, plan["n_sources"], model=plan.get("model"),
                           overwrite=overwrite, only=index)
    sources = separate_recording(plan, data, sr, name=path, fit_seconds=fit_seconds,
                                 chunk_seconds=chunk_seconds, progress=progress,
                                 say=note)
    if index is not None:
        sources = sources[index]
    return Separation(sources=sources, sr=sr, subtype=output_subtype(path),
                      targets=targets, method=plan["method"],
                      model_sr=plan.get("model_sr"), notes=notes)


def read_recording(path):
    """``(data, sr)`` of the recording at ``path``, ``data`` float32 of shape
    ``(n_samples, n_channels)``; an empty file is refused in plain words
    (libsndfile would say 'Format not recognised')."""
    from ._audiofile import read_audio_file

    path = Path(path)
    if path.is_file() and os.path.getsize(path) == 0:
        raise ValueError(f"'{path}' is empty (0 bytes): there is no audio in it.")
    return read_audio_file(path, dtype="float32")


def _plan(path, data, sr, *, method, model, n_sources, random_state, model_sr,
          room_method):
    """Choose the method and its estimator; refuse what cannot apply."""
    n_channels = data.shape[1]
    if _is_room_estimator(model):
        from sklearn.base import clone

        est = clone(model)
        if n_sources is not None:
            est.set_params(n_components=n_sources)
        method = "ica" if type(est).__name__ == "FastICASeparator" else "iva"
        if method == "iva" and est.stft is None and est.sample_rate is None:
            est.set_params(sample_rate=sr)   # its default window, at the file's rate
        return _room_plan(path, data, sr, method, est, n_channels)
    given = method
    method = method or ((room_method if model is None else "iva") if n_channels > 1
                        else "mask")
    if method in _ROOM_METHODS:
        if model is not None:
            raise _model_not_for(method)
        est = room_estimator(method, sr, n_sources=n_sources or n_channels,
                             random_state=random_state)
        return _room_plan(path, data, sr, method, est, n_channels)
    loaded = load_model(model, method, network_only=True)
    if given is not None and isinstance(model, (str, os.PathLike)):
        _check_kind(model, loaded, given)
    if n_sources is not None and n_sources != loaded.n_sources_:
        hint = ("; keep writes only some of its outputs" if fixed_classes(loaded)
                else "")
        raise ValueError(f"the model separates {loaded.n_sources_} sources, n_sources "
                         f"asked for {n_sources} (n_sources sets how many IVA or ICA "
                         f"recovers from a multichannel file{hint}).")
    name = str(model) if isinstance(model, (str, os.PathLike)) else (
        default_model(method) if model is None else None)
    return {"method": method, "model": loaded, "name": name,
            "n_sources": loaded.n_sources_,
            "model_sr": model_rate(loaded, model_sr)}


def _room_plan(path, data, sr, method, est, n_channels):
    n_sources = est.n_components or n_channels
    name = method.upper()
    if n_channels < 2:
        raise ValueError(
            f"'{path}' has 1 channel; {name} needs at least as many channels as "
            "sources (use method='mask' for a single microphone).")
    if n_sources > n_channels:
        raise ValueError(
            f"{name} cannot separate {n_sources} sources from {n_channels} channels of "
            f"'{path}': it needs at least as many channels as sources.")
    if method == "ica" and data.shape[0] < 2 * n_channels:
        raise ValueError(f"'{path}' is too short for ICA ({data.shape[0]} samples).")
    return {"method": method, "estimator": est, "n_sources": n_sources}


def separate_recording(plan, data, sr, *, name, fit_seconds, chunk_seconds,
                       progress=False, say=None):
    """The ``(n_sources, n_samples)`` sources of ``data`` at ``sr``, by the
    method and estimator :func:`_plan` chose."""
    say = say or (lambda text: None)
    if "estimator" not in plan:
        return _separate_mono(plan, data, sr, chunk_seconds=chunk_seconds,
                              progress=progress, say=say)
    est = plan["estimator"]
    if plan["method"] == "ica":
        return est.fit_transform(data).T
    _check_room_lengths(name, data, sr, est, fit_seconds)
    try:
        return separate_room(est, data, sr, fit_seconds=fit_seconds,
                             chunk_seconds=chunk_seconds).T
    except ValueError as exc:
        raise ValueError(f"IVA cannot separate '{name}': {exc}") from exc


def _check_room_lengths(name, data, sr, est, fit_seconds):
    """IVA needs a whole STFT window of the recording; fit_seconds a few."""
    from .decomposition._iva import default_stft

    n_fft = (est.stft or default_stft(est.sample_rate)).n_fft
    window = n_fft / sr
    if data.shape[0] < n_fft:
        raise ValueError(
            f"'{name}' is {data.shape[0] / sr:.2f} s long, too short for IVA, which "
            f"needs at least {window:.3f} s (one {1000 * window:.0f} ms STFT window); "
            "give a longer recording, or method='ica' for a mixture recorded "
            "without echo.")
    least = _MIN_FIT_WINDOWS * window
    if fit_seconds < least and data.shape[0] / sr >= least:
        raise ValueError(
            f"fit_seconds must be at least {least:.3f} s ({_MIN_FIT_WINDOWS} of IVA's "
            f"{1000 * window:.0f} ms STFT windows), got {float(fit_seconds)}.")


def _separate_mono(plan, data, sr, *, chunk_seconds, progress, say):
    """A single-microphone model on the channels mixed down, at its rate."""
    model, model_sr = plan["model"], plan["model_sr"]
    if not np.any(data):
        say("note: the recording is silent (every sample is zero): its sources are "
            "silent too")
    mono = data.mean(axis=1)
    if data.shape[1] > 1:
        say(f"mixing {data.shape[1]} channels down to one for the mask estimator")
    x = resample(mono, sr, model_sr)
    n_fft = model.net_.module_.n_fft
    if x.size < n_fft:
        raise ValueError(f"the recording is too short: {x.size} samples at {model_sr} "
                         f"Hz, the model needs at least {n_fft}.")
    # the rate is passed when the model knows it, only to say it is x's rate
    known = getattr(model, "sample_rate_", None)
    chunk = int(chunk_seconds * model_sr)
    from .neural._inference import separate_mixtures, swaps_between_chunks

    if x.size > chunk >= n_fft and swaps_between_chunks(model, chunk_seconds):
        say(f"note: chunks of {chunk_seconds:g} s: in chunks shorter than "
            f"{MIN_VOICE_CHUNK_SECONDS:g} s a two-voice model may swap the voices "
            "from one chunk to the next; chunk_seconds of "
            f"{MIN_VOICE_CHUNK_SECONDS:g} or more keeps their order")
    try:
        # the short-chunk warning is said above, in the service's words
        sources = separate_mixtures(model, x, sr=model_sr if known else None,
                                    chunk_size=chunk, progress=progress,
                                    warn_short_chunks=False)
    except ValueError as exc:
        # the estimator checks the chunk (at least one STFT window); its
        # refusal of chunk_size is said here for chunk_seconds
        if "chunk_size" not in str(exc):
            raise
        raise ValueError(
            f"chunk_seconds must be at least {n_fft / model_sr:.3f} s (one STFT window "
            f"of the model, {n_fft} samples at {model_sr} Hz), got "
            f"{float(chunk_seconds)}.") from exc
    weak = _weak_point(plan["name"])
    if weak:
        say(weak)
    return resample(sources, model_sr, sr, size=mono.size)


def _weak_point(name):
    """A shipped model's weak point, when its scores by sex are known."""
    if name is None:
        return ""
    from .pretrained import list_models

    metrics = list_models().get(name, {}).get("metrics", {})
    scores = metrics.get("speech8k test LibriSpeech readers, 4 s")
    if scores is None:
        return ""
    return (f"note: {name} separates a woman and a man much better than two "
            f"voices\nof one sex ({scores['si_sdri_db_mixed_sex']:+.1f} dB against "
            f"{scores['si_sdri_db_same_sex']:+.1f} dB on LibriSpeech test mixtures; "
            "see 'sksep models')")
