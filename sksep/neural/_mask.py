"""MaskEstimator: deep time-frequency mask estimation."""

from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseNeuralSeparator
from ._params import COMMON_CONSTRAINTS, shared_docs, store_params


@shared_docs
class MaskEstimator(BaseNeuralSeparator):
    """Single-microphone separation by a neural time-frequency mask estimator.

    A recurrent (or causal convolutional) network reads log-magnitude STFT
    frames of a mixture and estimates one mask per source; the masked
    spectra are turned back into waveforms with the mixture's phase. It
    learns from clean clips: ``fit`` mixes them on the fly every epoch
    (dynamic mixing) and trains with utterance-level permutation-invariant
    training (PIT), so it separates voices of any speaker; training runs
    through `skorch <https://skorch.readthedocs.io>`_.

    With ``permutation_invariant=False`` it is class-fixed instead, like a
    classifier: one output per class of ``y``, in the order of
    ``classes_`` (sorted), each training mixture one clip of every class at
    random levels and offsets. Speech in noise, for example::

        noise = load_noise8k(folder, split="train", speechlike=False)
        X = list(speech_clips) + list(noise.waveforms)
        y = ["speech"] * len(speech_clips) + ["noise"] * len(noise.waveforms)
        sep = MaskEstimator(permutation_invariant=False,
                            segment_length=4 * 8000).fit(X, y)
        noise_out, speech_out = sep.separate(noisy)   # classes_ order

    ``speechlike=False`` leaves crying, laughter, coughs and other human
    non-speech sounds out of the noise (None keeps them in it, True loads
    them alone, for a class of their own); see the user guide's page on
    training.

    Parameters
    ----------
    n_sources : int, default=2
        Sources per mixture (with ``permutation_invariant=False`` the number
        of classes in ``y`` instead).
    {stft}
    hidden_size : int, default=128
        LSTM units per direction, the TCN's bottleneck channels, or the
        dual-path network's channels per band.
    num_layers : int, default=2
        LSTM layers, TCN blocks (dilations 1 to 128, repeated), or
        dual-path blocks.
    kind : {'blstm', 'lstm', 'tcn', 'causal-tcn', 'dual-path'}, default='blstm'
        Bidirectional LSTM (offline); unidirectional LSTM (causal); a
        temporal convolutional network of dilated depthwise convolutions
        as in Conv-TasNet, over STFT frames (offline); that network with
        causal convolutions (low latency); or a band-split dual-path
        network, recurrent along time within frequency bands and across
        bands within frames (offline). See :class:`sksep.nn.MaskNet`.
    mask_activation : {'sigmoid', 'softmax'}, default='sigmoid'
        Independent masks in [0, 1], or masks that sum to 1 across sources.
    loss : {'si_sdr', 'magnitude', 'psa'}, default='si_sdr'
        Negative SI-SDR of the resynthesised waveforms (inverse STFT inside
        the graph), MSE of masked magnitudes, or the phase-sensitive
        approximation.
    permutation_invariant : bool, default=True
        PIT over all output orders (every permutation up to 3 sources, the
        Hungarian algorithm beyond); False trains class-fixed outputs, one
        per label of ``y`` (listed in ``classes_``).
    {training_parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    CNNAutoencoderSeparator : A class-fixed spectrogram CNN separator.

    Examples
    --------
    >>> from sksep import MaskEstimator
    >>> from sksep.datasets import fix_length, load_demo
    >>> import numpy as np
    >>> demo = load_demo()
    >>> clips = fix_length(demo.waveforms, 4000)
    >>> sep = MaskEstimator(hidden_size=32, max_epochs=2, random_state=0)
    >>> sep = sep.fit(clips, demo.speaker)
    >>> sep.transform(clips[:3] + clips[50:53]).shape
    (3, 8000)
    >>> sep.separate(clips[0] + clips[60]).shape
    (2, 4000)
    """

    _parameter_constraints: dict = {
        **COMMON_CONSTRAINTS,
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "kind": [StrOptions({"blstm", "lstm", "tcn", "causal-tcn", "dual-path"})],
        "mask_activation": [StrOptions({"sigmoid", "softmax"})],
    }

    def __init__(self, n_sources=2, *, stft=None, hidden_size=128, num_layers=2,
                 kind="blstm", mask_activation="sigmoid", loss="si_sdr",
                 permutation_invariant=True, snr_db=(-5.0, 5.0), shift=0.25,
                 segment_length=None, gradient_clip=None,
                 speed_perturb=None, max_epochs=20, batch_size=16, lr=1e-3, optimizer="adam",
                 valid_fraction=0.1, patience=5, device="cpu", warm_start=False,
                 verbose=0, random_state=None):
        store_params(self, locals())

    def streamer(self):
        """A block-by-block separator with a stated latency (causal kinds).

        Returns
        -------
        stream : sksep.streaming.BlockStreamer
            ``stream.process(block)`` takes the next samples of a mono
            mixture (any number) and returns ``(n_sources, len(block))``
            separated samples, ``stream.latency_`` samples late
            (``n_fft - 1``; ``latency_ms_`` when ``sample_rate_`` is known);
            ``stream.flush()`` returns the last ``latency_``. Concatenated
            and shifted by the latency, the output equals
            ``separate(x, chunk_size=None)``. The network's state lives in
            the stream, so one fitted model serves many streams.

        Raises
        ------
        ValueError
            For ``kind='blstm'``, ``'tcn'`` or ``'dual-path'``, which look at
            future frames.
        """
        check_is_fitted(self)
        if self.kind not in ("lstm", "causal-tcn"):
            raise ValueError(
                f"MaskEstimator(kind={self.kind!r}) looks at future frames and "
                "cannot stream. Causal alternatives: kind='lstm' or "
                "kind='causal-tcn', or the shipped causal models "
                "'speech8k-2voices-causal-8ms', '-16ms' and '-32ms' "
                "(sksep.pretrained.load)."
            )
        from ._inference import network_streamer

        return network_streamer(self.net_.module_, self.stft_.window_, self.n_sources_,
                                getattr(self, "sample_rate_", None))

    def _build_mask_net(self, n_freqs, n_sources):
        from ..nn import MaskNet

        return MaskNet(n_freqs, n_sources, hidden_size=self.hidden_size,
                       num_layers=self.num_layers, kind=self.kind,
                       activation=self.mask_activation)
