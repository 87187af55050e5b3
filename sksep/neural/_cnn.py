"""CNNAutoencoderSeparator: the spectrogram CNN autoencoder separator."""

from numbers import Integral

from sklearn.utils._param_validation import Interval

from ._base import BaseNeuralSeparator
from ._params import COMMON_CONSTRAINTS, shared_docs, store_params


@shared_docs
class CNNAutoencoderSeparator(BaseNeuralSeparator):
    """Spectrogram CNN autoencoder with one decoder branch per source.

    The encoder convolves the log-magnitude spectrogram with filters that
    span all frequency bins, then across time, and compresses the result in
    a shared fully connected bottleneck with ReLU. Each source has its own
    decoder branch (fully connected layer back to the encoder's size,
    transposed time convolution, transposed frequency convolution) with a
    ReLU output ``o_i``; the masks ``o_i / sum_j o_j`` split the mixture's
    magnitude between the sources, and the mixture's phase is used for
    resynthesis. Trained with MSE between masked and true magnitudes and
    Adam, through skorch.

    By default it is class-fixed, like a classifier: ``y`` gives each clip's
    class, ``classes_`` lists them and output ``i`` is always class ``i``
    (the original model isolated baby cry, dog, siren, speech and other
    sounds). For speech in noise, label speech clips ``'speech'`` and
    noise clips ``'noise'``, for example those of
    :func:`sksep.datasets.load_noise8k`, whose ``speechlike=False`` leaves
    out the human sounds that are not speech (crying, laughter, coughs;
    None keeps them in the noise); ``classes_`` is then ``['noise',
    'speech']``, the order of ``separate``'s outputs, and clips of any
    lengths go in with ``segment_length``. See the user guide's page on
    training. The bottleneck fixes the segment length, so spectrograms are
    processed as overlapping segments of ``segment_frames`` frames whose
    masks are joined by overlap-add.

    Parameters
    ----------
    n_sources : int, default=2
        Outputs when ``permutation_invariant=True``; class-fixed separators
        have one output per class of ``y``.
    {stft}
    segment_frames : int, default=32
        Frames per segment seen by the network.
    freq_filters : int, default=32
        Filters of the convolution spanning all frequencies.
    time_filters : int, default=16
        Filters of the convolution across time.
    time_kernel : int, default=5
        Frames spanned by the time convolution.
    bottleneck : int, default=128
        Units of the shared fully connected bottleneck.
    loss : {'magnitude', 'psa', 'si_sdr'}, default='magnitude'
        MSE of masked magnitudes (the original), phase-sensitive
        approximation, or negative SI-SDR of the waveforms.
    permutation_invariant : bool, default=False
        Train with PIT instead of class-fixed outputs (labels then only keep
        the sources of a mixture apart).
    {training_parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    MaskEstimator : Recurrent mask estimation with permutation-invariant
        training.

    Examples
    --------
    >>> import numpy as np
    >>> from sksep import CNNAutoencoderSeparator
    >>> from sksep.datasets import fix_length, load_demo
    >>> demo = load_demo(speakers=["george", "theo"])
    >>> clips = fix_length(demo.waveforms, 4000)
    >>> sep = CNNAutoencoderSeparator(max_epochs=2, random_state=0)
    >>> sep = sep.fit(clips, demo.speaker)
    >>> sep.classes_.tolist()
    ['george', 'theo']
    >>> sep.separate(clips[0] + clips[25]).shape
    (2, 4000)
    """

    _parameter_constraints: dict = {
        **COMMON_CONSTRAINTS,
        "segment_frames": [Interval(Integral, 1, None, closed="left")],
        "freq_filters": [Interval(Integral, 1, None, closed="left")],
        "time_filters": [Interval(Integral, 1, None, closed="left")],
        "time_kernel": [Interval(Integral, 1, None, closed="left")],
        "bottleneck": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_sources=2, *, stft=None, segment_frames=32,
                 freq_filters=32, time_filters=16, time_kernel=5, bottleneck=128,
                 loss="magnitude", permutation_invariant=False,
                 snr_db=(-5.0, 5.0), shift=0.25, segment_length=None,
                 gradient_clip=None, speed_perturb=None, max_epochs=20, batch_size=16,
                 lr=1e-3, optimizer="adam", valid_fraction=0.1, patience=5,
                 device="cpu", warm_start=False, verbose=0, random_state=None):
        store_params(self, locals())

    def _build_mask_net(self, n_freqs, n_sources):
        from ..nn import CNNAutoencoder

        return CNNAutoencoder(
            n_freqs, n_sources, segment_frames=self.segment_frames,
            freq_filters=self.freq_filters, time_filters=self.time_filters,
            time_kernel=self.time_kernel, bottleneck=self.bottleneck,
        )
