"""Loader of a local copy of the speech8k corpus (never downloads)."""

from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ..io import read_audio
from ._fsdd import _DTYPE, _FOLDER
from ._local import as_set, indexed_folder, load_indexed, read_index

SPEECH8K_SPLITS = ("train", "valid", "test")
_HOW_TO_GET = (
    "speech8k is the 8 kHz corpus of read speech by 501 speakers described in "
    "its README (speechocean762 and LibriSpeech excerpts, split by speaker); "
    "pass its folder (the one holding files.csv) as data_home or set the "
    "SKSEP_SPEECH8K environment variable to it. Nothing is downloaded."
)


@validate_params(
    {"data_home": _FOLDER,
     "max_files_per_speaker": [Interval(Integral, 1, None, closed="left"), None],
     "dtype": _DTYPE},
    prefer_skip_nested_validation=True)
def load_speech8k(data_home=None, *, split=None, speakers=None, sex=None,
                  max_files_per_speaker=None, dtype="float32"):
    """Load read speech of 501 speakers at 8 kHz from a local folder.

    The speech8k corpus: 3,251 mono 8 kHz recordings (4.2 hours) of read
    English by 501 speakers, about half women and half men, adults and
    children, native (LibriSpeech, CC BY 4.0) and non-native
    (speechocean762) speakers, split by speaker into ``train`` (411
    speakers), ``valid`` (20) and ``test`` (70): no speaker is in two
    splits. Fit on ``train``, select models on ``valid``, report on
    ``test`` only. Nothing is downloaded: the folder must exist locally.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``files.csv`` and the FLAC files (or its parent).
        None reads the ``SKSEP_SPEECH8K`` environment variable.
    split : {'train', 'valid', 'test'} or list of them, default=None
        Splits to keep; None keeps all.
    speakers : str or list of str, default=None
        Speaker ids to keep (``so####`` or ``ls####``); None keeps all.
    sex : {'F', 'M'}, default=None
        Keep one sex only; None keeps both.
    max_files_per_speaker : int, default=None
        Keep at most this many recordings per speaker (the first ones in
        the index), for quick experiments.
    dtype : {'float32', 'float64'}, default='float32'
        dtype of the waveforms.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``waveforms`` (list of 1-D arrays of varying length, in [-1, 1]),
        ``speaker``, ``sex``, ``split`` and ``corpus`` (arrays, one entry
        per waveform), ``filenames``, ``sr`` (8000) and ``DESCR`` (the
        corpus README, with its sources and licenses), in index order.

    Raises
    ------
    FileNotFoundError
        When the folder or its index is missing, or a listed file is
        absent; the message says what the folder must hold.
    ValueError
        For an unknown split or sex, or filters that keep no file.

    See Also
    --------
    load_fsdd : Spoken digits of 6 speakers.
    sksep.MaskEstimator : Trains on clips of different lengths with
        ``segment_length``.

    Examples
    --------
    >>> from sksep.datasets import load_speech8k
    >>> test = load_speech8k("../shared/data/speech8k",
    ...                      split="test")  # doctest: +SKIP
    >>> len(set(test.speaker)), test.sr  # doctest: +SKIP
    (70, 8000)
    """
    keep_split = as_set(split, "split", SPEECH8K_SPLITS)
    keep_sex = as_set(sex, "sex", ("F", "M"))
    keep_speakers = as_set(speakers, "speakers")
    folder = indexed_folder(data_home, "SKSEP_SPEECH8K", "speech8k", _HOW_TO_GET)
    rows = read_index(folder)
    kept, per_speaker = [], {}
    for row in rows:
        if keep_split is not None and row["split"] not in keep_split:
            continue
        if keep_sex is not None and row["sex"] not in keep_sex:
            continue
        if keep_speakers is not None and row["speaker"] not in keep_speakers:
            continue
        count = per_speaker.get(row["speaker"], 0)
        if max_files_per_speaker is not None and count >= max_files_per_speaker:
            continue
        per_speaker[row["speaker"]] = count + 1
        kept.append(row)
    if not kept:
        raise ValueError(
            f"No speech8k recording matches split={split!r}, speakers={speakers!r}, "
            f"sex={sex!r}."
        )
    return load_indexed(folder, kept, "speech8k",
                        ("speaker", "sex", "split", "corpus"), dtype)


_SPEECH_DEMO = Path(__file__).parent / "data" / "speech_demo"
_SPEECH_DEMO_SPEAKERS = (("1069", "F"), ("1970", "F"), ("1040", "M"), ("1334", "M"))


@validate_params({"dtype": _DTYPE}, prefer_skip_nested_validation=True)
def load_speech_demo(*, dtype="float32"):
    """Load four passages of read speech shipped with sksep (unseen voices).

    Four LibriSpeech readers (two women, two men), one passage of about
    15 s each, 8 kHz mono, about 0.6 MB of FLAC inside the package. They
    are speech8k **test** speakers: the shipped speech8k models never
    heard them, so they show how those models do on new voices. LibriSpeech
    is licensed CC BY 4.0; the attribution is in ``DESCR``.

    Parameters
    ----------
    dtype : {'float32', 'float64'}, default='float32'

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``waveforms`` (list of 1-D arrays), ``speaker`` (LibriSpeech reader
        ids), ``sex``, ``filenames``, ``sr`` (8000) and ``DESCR``.

    See Also
    --------
    load_speech8k : The whole corpus, from a local folder.
    make_conversation : Mix them into a long conversation.

    Examples
    --------
    >>> from sksep.datasets import load_speech_demo
    >>> demo = load_speech_demo()
    >>> demo.speaker.tolist(), demo.sex.tolist(), demo.sr
    (['1069', '1970', '1040', '1334'], ['F', 'F', 'M', 'M'], 8000)
    """
    waveforms, files, sr = [], [], None
    for reader, _ in _SPEECH_DEMO_SPEAKERS:
        path = next(_SPEECH_DEMO.glob(f"{reader}-*.flac"))
        data, sr = read_audio(path, mono=True, dtype=dtype)
        waveforms.append(data[:, 0])
        files.append(str(path))
    return Bunch(
        waveforms=waveforms,
        speaker=np.array([r for r, _ in _SPEECH_DEMO_SPEAKERS]),
        sex=np.array([s for _, s in _SPEECH_DEMO_SPEAKERS]),
        filenames=np.array(files), sr=sr,
        DESCR=(_SPEECH_DEMO / "README.md").read_text(),
    )
