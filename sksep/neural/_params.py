"""The parameters the deep separators share: constraints and docs, once.

scikit-learn reads an estimator's parameters from its explicit ``__init__``
signature, so each estimator keeps its own; the rules
(:data:`COMMON_CONSTRAINTS`) and the numpydoc entries
(:func:`shared_docs`) are written here once, and
``tests/test_neural_params.py`` keeps signatures, constraints and docs in
step.
"""

import re
from numbers import Integral, Real
from textwrap import dedent, indent

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD"}

COMMON_CONSTRAINTS = {
    "n_sources": [Interval(Integral, 1, None, closed="left")],
    "stft": [None, BaseEstimator],
    "loss": [StrOptions({"si_sdr", "magnitude", "psa"})],
    "permutation_invariant": ["boolean"],
    "snr_db": [tuple, list],
    "shift": [Interval(Real, 0, 1, closed="both")],
    "segment_length": [None, Interval(Integral, 1, None, closed="left")],
    "gradient_clip": [None, Interval(Real, 0, None, closed="neither")],
    "speed_perturb": [None, tuple, list],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [StrOptions(set(OPTIMIZERS)), type],
    "valid_fraction": [Interval(Real, 0, 1, closed="left")],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "device": [StrOptions({"cpu", "cuda", "auto"}), str],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
    "random_state": ["random_state"],
}

_DOCS = {
    "stft": """\
stft : STFTTransformer, default=None
    Time-frequency front end (its ``n_fft``, ``hop_length``, ``window``,
    ``center`` and ``pad_mode`` are used); None uses
    ``STFTTransformer(n_fft=256, hop_length=64)``. Tunable as
    ``stft__n_fft`` in a grid search.
""",
    "training_parameters": """\
snr_db : (float, float), default=(-5.0, 5.0)
    Range of levels (dB) of the first clip over each other clip in the
    training mixtures.
shift : float, default=0.25
    Largest random time shift of the other clips, as a fraction of the
    clip length.
segment_length : int, default=None
    Samples per training mixture. None uses the clips as they are (all
    of one length). An int draws, every epoch, a random segment of this
    length from each clip of a mixture (clips that are shorter sit at a
    random offset in silence), so ``fit`` accepts clips of different
    lengths, such as whole recordings of continuous speech; the
    permutation-invariant loss then holds each output on one voice over
    the whole segment. ``n_features_in_`` is then ``segment_length``.
gradient_clip : float, default=None
    Clip the gradient's norm to this value at every step (skorch's
    ``GradientNormClipping``); None does not clip.
speed_perturb : (float, float), default=None
    Range of random playback speeds of the training clips (for example
    ``(0.9, 1.1)``), resampled with librosa: pitch and tempo change
    together, which creates new voices and helps the separator
    generalise to unseen speakers. None trains on the clips as they are.
max_epochs : int, default=20
    Most epochs per call of ``fit`` or ``partial_fit`` (early stopping
    may end sooner).
batch_size : int, default=16
    Training mixtures per step.
lr : float, default=1e-3
    Learning rate.
optimizer : {'adam', 'adamw', 'sgd'} or torch optimizer class, default='adam'
    The torch optimizer (only a named one can be saved by
    :func:`sksep.pretrained.save`).
valid_fraction : float, default=0.1
    Fraction of clips held out (as fixed mixtures) to monitor the
    validation SI-SDR, with early stopping and the best epoch's weights
    restored. 0 trains on all clips for ``max_epochs``.
patience : int, default=5
    Epochs without validation improvement before stopping.
device : {'cpu', 'cuda', 'auto'} or str, default='cpu'
    Torch device; 'auto' uses a GPU when there is one.
warm_start : bool, default=False
    When True, ``fit`` on a fitted estimator continues training the
    current network for ``max_epochs`` more epochs (as
    :meth:`partial_fit` does) instead of starting afresh.
verbose : int, default=0
    1 prints skorch's epoch table, 2 adds a progress bar per epoch.
random_state : int, RandomState instance or None, default=None
    Seeds weights, batch order and the mixtures; the same seed gives
    the same weights and outputs on the CPU.
""",
    "attributes": """\
net_ : skorch.NeuralNet
    The trained network (``net_.module_`` is a
    :class:`sksep.nn.SpectralSeparator`; ``net_.history`` the epochs).
    A model loaded by :func:`sksep.pretrained.load` holds the network
    alone (an object with ``module_``, no skorch) until it trains again.
stft_ : STFTTransformer
    The fitted front end.
n_sources_ : int
    Number of outputs.
classes_ : ndarray
    Labels of the outputs, in their order, when the separator is
    class-fixed (``permutation_invariant=False``).
n_epochs_ : int
    Epochs trained.
n_features_in_ : int
    Clip length seen in ``fit``.
sample_rate_ : int
    Sample rate (Hz) the model was trained at, when known: set by
    :func:`sksep.pretrained.load` and ``sksep train``, not by ``fit``
    (which sees samples, not seconds).
""",
}

_MARKER = re.compile(r"^( *)\{(\w+)\}\n", flags=re.MULTILINE)


def shared_docs(cls):
    """Class decorator: every docstring line that holds only ``{name}`` (a
    key of the shared docs: ``stft``, ``training_parameters``,
    ``attributes``) becomes that text, indented as the line."""
    def fill(match):
        return indent(dedent(_DOCS[match.group(2)]), match.group(1))

    cls.__doc__ = _MARKER.sub(fill, cls.__doc__)
    return cls


def store_params(estimator, params):
    """The body of an estimator's ``__init__``: every argument stored
    unchanged, as scikit-learn asks (``params`` is ``locals()``)."""
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)
