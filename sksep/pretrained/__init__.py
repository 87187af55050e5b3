"""Pretrained separators and a portable file format for fitted ones.

Models ship with sksep (see ``sksep/pretrained/data/README.md`` for their
data and licenses), written by ``benchmarks/train_pretrained.py``:

``"speech8k-2voices"`` (the default of ``sksep separate``)
    :class:`~sksep.MaskEstimator` (TCN over a 32 ms STFT, PIT, SI-SDR loss)
    for single-microphone mixtures of any two voices at 8 kHz, trained on
    411 speakers of continuous read speech (speech8k, CC BY 4.0).
``"speech8k-2voices-cnn"``
    :class:`~sksep.CNNAutoencoderSeparator`, the same task.
``"speech8k-2voices-causal-8ms"``, ``-16ms``, ``-32ms``
    Causal TCN mask estimators (STFT windows of 8, 16 and 32 ms).
``"fsdd-2speakers"``, ``"fsdd-2speakers-cnn"``
    Two digits spoken at once by four FSDD speakers (CC BY-SA 4.0); kept
    for the FSDD examples, they do not generalise to other voices.

:func:`list_models` gives each one's measured SI-SDR improvement on the
held-out test speakers. A file is a :func:`torch.save` dictionary of plain
types and tensors, read with ``weights_only=True`` (no pickled code runs),
mapped to any device, and versioned: a file written by an incompatible
version raises a clear error rather than loading silently wrong. Pickles
(pickle, joblib) of every sksep estimator record the sksep version too, and
loading one written by another version emits :class:`SksepVersionWarning`.
"""

import json
from importlib import resources
from pathlib import Path

from .._persistence import SksepVersionWarning
from ._format import (
    FORMAT,
    FORMAT_VERSION,
    check_state,
    from_state,
    network_separator,
    to_state,
)

__all__ = ["ModelRegistry", "SksepVersionWarning", "list_models", "load",
           "load_network", "save"]

_DATA = "data"


def _registry():
    with resources.files(__name__).joinpath(_DATA, "models.json").open() as fh:
        return json.load(fh)


class ModelRegistry(dict):
    """The shipped models: a plain ``dict`` (name -> entry) that prints as
    a table (name, what it separates, rate, latency, test figure, license).

    See Also
    --------
    list_models : Returns it.

    Examples
    --------
    >>> from sksep.pretrained import list_models
    >>> models = list_models()
    >>> isinstance(models, dict), models["speech8k-2voices"]["estimator"]
    (True, 'MaskEstimator')
    """

    def __repr__(self):
        from ._table import models_table

        return models_table(self)

    def _repr_pretty_(self, printer, cycle):  # IPython
        printer.text(repr(self))


def list_models():
    """Shipped pretrained models and their measured quality.

    Returns
    -------
    models : ModelRegistry
        A ``dict``: model name -> description, with ``"file"``,
        ``"estimator"``, ``"sample_rate"``, ``"n_sources"``, ``"headline"``
        and ``"metrics"`` (SI-SDR improvements in dB on test speakers,
        each corpus and condition on its own: for the speech8k models the
        LibriSpeech and the speechocean762 test readers, clean, in noise,
        in conversations and one voice alone). It prints as a table, as
        ``sksep models`` does.

    See Also
    --------
    load : Load one of them.

    Examples
    --------
    >>> from sksep.pretrained import list_models
    >>> sorted(list_models())  # doctest: +NORMALIZE_WHITESPACE
    ['fsdd-2speakers', 'fsdd-2speakers-cnn', 'speech8k-2voices',
     'speech8k-2voices-causal-16ms', 'speech8k-2voices-causal-32ms',
     'speech8k-2voices-causal-8ms', 'speech8k-2voices-cnn', 'speech8k-speech-noise',
     'speech8k-speech-noise-causal-16ms', 'speech8k-speech-noise-cnn']
    >>> list_models()["speech8k-2voices"]["sample_rate"]
    8000
    >>> print(repr(list_models()).splitlines()[0])  # doctest: +NORMALIZE_WHITESPACE
    name                               separates                          rate   latency  test SI-SDRi                              license
    """
    return ModelRegistry(_registry())


def _resolve(name_or_path):
    registry = _registry()
    if str(name_or_path) in registry:
        entry = registry[str(name_or_path)]
        return resources.files(__name__).joinpath(_DATA, entry["file"]), entry
    path = Path(name_or_path)
    if not path.exists():
        raise FileNotFoundError(
            f"{str(name_or_path)!r} is neither a shipped model "
            f"({', '.join(sorted(registry))}) nor an existing file."
        )
    if path.is_dir():
        raise IsADirectoryError(f"'{path}' is a directory, not a model file.")
    return path, None


def load(name_or_path, *, device="cpu"):
    """Load a fitted separator: a shipped model by name, or a saved file.

    Parameters
    ----------
    name_or_path : str or path-like
        A name from :func:`list_models` or a file written by :func:`save`.
    device : str, default='cpu'
        Torch device for the network; tensors saved on a GPU are mapped
        here, so a model trained on a GPU loads on a CPU-only machine.
        'auto' uses a CUDA GPU when torch sees one; a GPU this machine does
        not have is refused.

    Returns
    -------
    estimator : MaskEstimator or CNNAutoencoderSeparator
        Fitted: ``transform``, ``separate``, ``score`` and ``partial_fit``
        work, in a :class:`~sklearn.pipeline.Pipeline` too. ``sample_rate_``
        holds the sample rate (Hz) it was trained at, when it is known.
        Only the network is built (``net_.module_``): separating imports no
        skorch and creates no optimizer; ``partial_fit`` builds the skorch
        net around that network, its weights kept, when training is asked
        for.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        For a missing path or a directory.
    ValueError
        For a file that is not an sksep model, is corrupted, or was written
        in an incompatible format version.

    See Also
    --------
    save : Write a fitted separator to a file.
    list_models : The shipped models and their scores.

    Examples
    --------
    >>> from sksep.pretrained import load
    >>> from sksep.datasets import load_demo, fix_length
    >>> sep = load("fsdd-2speakers")
    >>> demo = load_demo(speakers=["lucas", "theo"])
    >>> clips = fix_length(demo.waveforms, 4000)
    >>> mix = clips[0] + clips[20]       # lucas says "0" while theo says "0"
    >>> sep.separate(mix).shape
    (2, 4000)
    """
    state, sample_rate, _ = _read(name_or_path, device)
    est = from_state(state, device=device)
    if sample_rate is not None:
        est.sample_rate_ = int(sample_rate)
    return est


def _read(name_or_path, device):
    """A model file's checked dictionary, tensors on ``device``, the rate
    its model runs at (None when not known) and the torch device the
    tensors are on (:func:`_map_location`)."""
    import torch

    path, entry = _resolve(name_or_path)
    where = _map_location(device)
    try:
        with path.open("rb") as fh:
            state = torch.load(fh, map_location=where, weights_only=True)
    except Exception as exc:  # torch raises many types for bad files
        raise ValueError(
            f"Cannot load a model from '{path}': {exc.__class__.__name__}: {exc}. "
            "It is not a file written by sksep.pretrained.save, or it is "
            "truncated or corrupted."
        ) from exc
    check_state(state, path)
    rate = state["metadata"].get("sample_rate") or (entry or {}).get("sample_rate")
    return state, rate, where


def _map_location(device):
    """The torch device a model's tensors load onto: ``'auto'`` is a CUDA GPU
    when torch sees one, else the CPU; a device this machine does not have,
    or a name torch does not know, is refused in those words (not as a
    broken file)."""
    import torch

    from .._device import resolve_device

    if device == "auto":
        return resolve_device(device)
    try:
        where = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"device={device!r} is not a torch device ('cpu', 'cuda', "
                         "'cuda:1', 'auto', ...).") from exc
    if where.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}, but torch sees no CUDA GPU on this "
                         "machine (torch.cuda.is_available() is False); load on "
                         "'cpu', or with device='auto' to use a GPU where there is "
                         "one.")
    if where.type != "cpu":
        try:                  # 'cuda:5' with one GPU, 'mps' off a Mac, ...
            torch.empty(0, device=where)
        except (RuntimeError, AssertionError) as exc:
            why = str(exc).split("\n", 1)[0].split(". ", 1)[0][:160]
            raise ValueError(f"device={device!r} is not available on this machine "
                             f"({why}); load on 'cpu' or 'auto'.") from exc
    return where


def load_network(name_or_path, *, device="cpu"):
    """The network of a shipped model or model file, to separate with.

    What :func:`load` returns without the estimator around it: an object
    whose ``separate`` is the estimator's (the same sources, to the bit) and
    whose ``n_sources_``, ``classes_`` and ``sample_rate_`` are the
    estimator's; ``estimator`` names the estimator's class.
    Loading it imports neither scikit-learn nor skorch (for any file
    written by this version), so a program that only separates, such as
    ``sksep separate``, starts in about the time of ``import torch``.

    Parameters
    ----------
    name_or_path : str or path-like
        A name from :func:`list_models` or a file written by :func:`save`.
    device : str, default='cpu'
        Torch device for the network.

    Returns
    -------
    separator : NetworkSeparator
        ``separate(X, sr=..., chunk_size=..., overlap=..., progress=...)``
        as :meth:`sksep.MaskEstimator.separate`; no ``fit``, ``transform``
        or ``score`` (load the estimator for those).

    Raises
    ------
    FileNotFoundError, IsADirectoryError, ValueError
        As :func:`load`.

    See Also
    --------
    load : The fitted estimator, to train, score or use in a pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep.pretrained import load, load_network
    >>> mix = np.random.default_rng(0).normal(size=8000).astype("float32")
    >>> net = load_network("speech8k-2voices")
    >>> est = load("speech8k-2voices")
    >>> np.array_equal(net.separate(mix, sr=8000), est.separate(mix, sr=8000))
    True
    """
    state, sample_rate, where = _read(name_or_path, device)
    return network_separator(state, device=where, sample_rate=sample_rate)


def save(estimator, path, *, metadata=None, overwrite=False, half=False):
    """Write a fitted deep separator to a small, portable file.

    Parameters
    ----------
    estimator : MaskEstimator or CNNAutoencoderSeparator
        Fitted separator.
    path : str or path-like
        Destination (``.pt`` by convention). Written atomically.
    metadata : dict, default=None
        JSON-able facts to keep with the weights (data, license, scores).
    overwrite : bool, default=False
        Replace an existing file; otherwise it is left untouched and
        :class:`FileExistsError` is raised.
    half : bool, default=False
        Store floating-point weights as float16 (half the size; they are
        loaded back as float32).

    See Also
    --------
    load : Read the file back, on any device.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sksep.pretrained import load, save
    >>> sep = load("fsdd-2speakers")
    >>> path = os.path.join(tempfile.mkdtemp(), "model.pt")
    >>> save(sep, path)
    >>> mix = np.random.default_rng(0).normal(size=4000).astype("float32")
    >>> np.array_equal(load(path).separate(mix), sep.separate(mix))
    True
    """
    import torch

    from .._files import atomic_write
    from .._version import __version__

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"'{path}' is a directory; give a file name.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"'{path}' exists; pass overwrite=True to replace it.")
    state = to_state(estimator, half=half)
    metadata = dict(metadata or {})
    if getattr(estimator, "sample_rate_", None) is not None:
        metadata.setdefault("sample_rate", int(estimator.sample_rate_))
    state.update(format=FORMAT, format_version=FORMAT_VERSION,
                 sksep_version=__version__, metadata=metadata)
    atomic_write(path, lambda tmp: torch.save(state, tmp), overwrite=overwrite)
