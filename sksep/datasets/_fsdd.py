"""Loader of a local copy of the Free Spoken Digit Dataset (never downloads)."""

import os
import re
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..io import read_audio
from ._local import local_folder

FSDD_SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.(wav|flac)$")
_DEMO = Path(__file__).parent / "data" / "fsdd_demo"
_HOW_TO_GET = (
    "Get the recordings from the public repository "
    "Jakobovski/free-spoken-digit-dataset (folder 'recordings', CC BY-SA 4.0) "
    "and pass their folder as data_home or set the SKSEP_DATA environment "
    "variable to it."
)


# what every loader takes: a folder and the dtype of its waveforms
_FOLDER = [str, os.PathLike, None]
_DTYPE = [StrOptions({"float32", "float64"})]


def _fsdd_folder(data_home):
    return local_folder(
        data_home, "SKSEP_DATA", "FSDD",
        lambda root: (root / "recordings", root / "fsdd" / "recordings", root),
        lambda folder: folder.is_dir() and any(folder.glob("*_*_*.wav")),
        "FSDD recordings ('{digit}_{speaker}_{index}.wav')", _HOW_TO_GET)


def _as_filter(values):
    if values is None:
        return None
    if isinstance(values, (str, int, np.integer)):
        values = [values]
    return set(values)


@validate_params({"data_home": _FOLDER, "dtype": _DTYPE},
                 prefer_skip_nested_validation=True)
def load_fsdd(data_home=None, *, speakers=None, digits=None, indices=None,
              dtype="float32"):
    """Load recordings of the Free Spoken Digit Dataset from a local folder.

    3,000 recordings of 6 English speakers saying the digits 0-9, 50 times
    each, mono at 8 kHz (CC BY-SA 4.0, Jakobovski et al.). Nothing is
    downloaded: the folder must exist locally.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the ``{digit}_{speaker}_{index}.wav`` files (or a
        parent with a ``recordings`` or ``fsdd/recordings`` subfolder). None
        reads the ``SKSEP_DATA`` environment variable.
    speakers : str or list of str, default=None
        Speakers to keep (for example ``["george", "jackson"]``); None keeps
        all.
    digits : int or list of int, default=None
        Digits to keep; None keeps all.
    indices : int or list of int, default=None
        Recording indices (0-49) to keep; the dataset uses 0-4 as its test
        set. None keeps all.
    dtype : {'float32', 'float64'}, default='float32'
        dtype of the waveforms.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``waveforms`` (list of 1-D arrays of varying length, in [-1, 1]),
        ``speaker``, ``digit`` and ``index`` (arrays, one entry per
        waveform), ``filenames`` and ``sr`` (8000), sorted by speaker, digit
        and index.

    Raises
    ------
    FileNotFoundError
        When the folder is missing or holds no FSDD file; the message says
        how to obtain the data.

    See Also
    --------
    load_demo : The 120 recordings shipped with sksep.
    load_fsdd_sources : One long source per speaker.

    Examples
    --------
    >>> from sksep.datasets import load_fsdd
    >>> fsdd = load_fsdd("../shared/data/fsdd", speakers="theo",
    ...                  digits=3)  # doctest: +SKIP
    >>> len(fsdd.waveforms), fsdd.sr  # doctest: +SKIP
    (50, 8000)
    """
    return _load_folder(_fsdd_folder(data_home), speakers, digits, indices, dtype)


@validate_params({"dtype": _DTYPE}, prefer_skip_nested_validation=True)
def load_demo(*, speakers=None, digits=None, indices=None, dtype="float32"):
    """Load the FSDD recordings shipped with sksep (no data folder needed).

    120 recordings: the 6 FSDD speakers saying the digits 0-9, indices 0
    and 1, 8 kHz mono, about 0.5 MB of lossless FLAC inside the package.
    They are part of the Free Spoken Digit Dataset (Jakobovski et al.),
    licensed CC BY-SA 4.0; the attribution is in the ``DESCR`` field and in
    ``sksep/datasets/data/fsdd_demo/README.md``.

    Parameters
    ----------
    speakers, digits, indices, dtype
        Filters and dtype as in :func:`load_fsdd` (indices are 0 or 1).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As :func:`load_fsdd`, plus ``DESCR`` (origin and license).

    See Also
    --------
    load_fsdd : The full dataset from a local copy.
    sksep.pretrained.load : Models trained on the same voices.

    Examples
    --------
    >>> from sksep.datasets import load_demo
    >>> demo = load_demo(speakers=["george", "jackson"])
    >>> len(demo.waveforms), demo.sr, sorted(set(demo.speaker.tolist()))
    (40, 8000, ['george', 'jackson'])
    """
    data = _load_folder(_DEMO, speakers, digits, indices, dtype)
    data.DESCR = (_DEMO / "README.md").read_text()
    return data


def _load_folder(folder, speakers, digits, indices, dtype):
    unknown = (_as_filter(speakers) or set()) - set(FSDD_SPEAKERS)
    if unknown:
        raise ValueError(
            f"Unknown FSDD speaker(s) {sorted(unknown)}; the speakers are "
            f"{list(FSDD_SPEAKERS)}."
        )
    keep = {
        "speaker": _as_filter(speakers),
        "digit": _as_filter(digits),
        "index": _as_filter(indices),
    }
    rows = []
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if m is None:
            continue
        row = {"digit": int(m[1]), "speaker": m[2], "index": int(m[3]), "path": path}
        if all(v is None or row[k] in v for k, v in keep.items()):
            rows.append(row)
    if not rows:
        raise ValueError(
            f"No FSDD recording in '{folder}' matches speakers={speakers}, "
            f"digits={digits}, indices={indices}."
        )
    rows.sort(key=lambda r: (r["speaker"], r["digit"], r["index"]))
    waveforms, sr = [], None
    for row in rows:
        data, sr = read_audio(row["path"], mono=True, dtype=dtype)
        waveforms.append(data[:, 0])
    return Bunch(
        waveforms=waveforms,
        speaker=np.array([r["speaker"] for r in rows]),
        digit=np.array([r["digit"] for r in rows]),
        index=np.array([r["index"] for r in rows]),
        filenames=np.array([str(r["path"]) for r in rows]),
        sr=sr,
    )


@validate_params(
    {"data_home": _FOLDER,
     "n_samples": [Interval(Integral, 1, None, closed="left")], "dtype": _DTYPE},
    prefer_skip_nested_validation=True)
def load_fsdd_sources(data_home=None, *, speakers, n_samples, indices=None,
                      dtype="float32"):
    """One long source per speaker: their FSDD recordings end to end.

    A convenient set of independent real-speech sources for multichannel
    (ICA) experiments: column ``j`` is speaker ``j``'s recordings
    concatenated in digit and index order, repeated if needed, and cut to
    ``n_samples``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        See :func:`load_fsdd`.
    speakers : list of str
        Speakers, one source each.
    n_samples : int
        Length of every source in samples (8 kHz).
    indices : int or list of int, default=None
        Recording indices to use; see :func:`load_fsdd`.
    dtype : {'float32', 'float64'}, default='float32'

    Returns
    -------
    sources : ndarray of shape (n_samples, n_speakers)

    See Also
    --------
    load_fsdd : The recordings one by one.
    make_instantaneous_mixture : Mix the sources into microphones.

    Examples
    --------
    >>> from sksep.datasets import load_fsdd_sources
    >>> S = load_fsdd_sources("../shared/data/fsdd", speakers=["theo", "lucas"],
    ...                       n_samples=80_000)  # doctest: +SKIP
    >>> S.shape  # doctest: +SKIP
    (80000, 2)
    """
    if isinstance(speakers, str):
        speakers = [speakers]
    columns = []
    for speaker in speakers:
        data = load_fsdd(data_home, speakers=speaker, indices=indices, dtype=dtype)
        stream = np.concatenate(data.waveforms)
        reps = -(-n_samples // stream.size)
        columns.append(np.tile(stream, reps)[:n_samples])
    return np.stack(columns, axis=1)
