"""The deep separators' scikit-learn contract: fit on clean clips, separate
mixtures.

The estimator builds its network and a skorch net around it inside ``fit``
and holds the net as ``net_`` (composition, not inheritance:
``NeuralNet.__init__`` sets attributes scikit-learn's checks reject). The
rest lives beside it: training in :mod:`._net` (``SeparatorNet``), input
checks in :mod:`._checks`, inference and chunks in :mod:`._inference`, the
shared parameters in :mod:`._params`, the model file in
:mod:`sksep.pretrained._format`. A model loaded from a file holds a
:class:`LoadedNet` instead, the network alone: separating with it imports
no skorch and builds no optimizer; the skorch net is built around that
network the first time it trains.
"""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._device import resolve_device
from .._persistence import VersionedPickleMixin
from .._validation import DefaultSTFTParamsMixin, validate_audio
from ._checks import (
    check_clips,
    check_every_class,
    check_snr_range,
    check_validation,
    encode,
    speed_range,
)
from ._inference import LoadedNet, SeparateMixin, check_mixtures


def _default_stft():
    from .._dsp import SPEECH_8K
    from ..spectral import STFTTransformer

    return STFTTransformer(**SPEECH_8K)


class BaseNeuralSeparator(DefaultSTFTParamsMixin, SeparateMixin, VersionedPickleMixin,
                          TransformerMixin, BaseEstimator):
    """Fit on clean clips, separate mixtures: the deep separators' contract.

    Subclasses define ``_build_mask_net(n_freqs, n_sources)``,
    ``_class_fixed()`` and their parameters.
    """

    # -- the contract ------------------------------------------------------

    @staticmethod
    def _default_stft():
        """The front end ``fit`` uses for ``stft=None``."""
        return _default_stft()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, validation=None):
        """Train on clean single-source clips, mixing them on the fly.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_times), or list of 1-D arrays
            Clean clips, one voice or sound per clip, all of one length;
            with ``segment_length`` set, clips of any lengths (for example
            whole recordings of continuous speech).
        y : array-like of shape (n_clips,), default=None
            Label per clip (speaker or class). Mixtures combine clips of
            different labels; a class-fixed separator has one output per
            label, in the order of ``classes_``.
        validation : (X_valid, y_valid), default=None
            Clean clips (and labels) to build the fixed validation mixtures
            from, for example recordings of other speakers, instead of
            holding out ``valid_fraction`` of ``X``: early stopping then
            selects for voices the network has not heard.

        Returns
        -------
        self
        """
        if self.warm_start and hasattr(self, "net_"):
            return self.partial_fit(X, y, validation=validation)
        X, y = check_clips(self, X, y, reset=True)
        valid = check_validation(self, validation)
        import torch

        with torch.random.fork_rng(devices=[]):
            self._fit(X, y, valid)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, *, validation=None):
        """Continue training for ``max_epochs`` more epochs (fits if unfitted).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_times), or list of 1-D arrays
        y : array-like of shape (n_clips,), default=None
        validation : (X_valid, y_valid), default=None
            As in :meth:`fit`.

        Returns
        -------
        self
        """
        if not hasattr(self, "net_"):
            return self.fit(X, y, validation=validation)
        X, y = check_clips(self, X, y, reset=False)
        valid = check_validation(self, validation)
        import torch

        with torch.random.fork_rng(devices=[]):
            self._train(X, y, valid)
        return self

    def transform(self, X):
        """Separate mixtures of the fitted clip length.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_times)
            Mixtures, ``n_times == n_features_in_``.

        Returns
        -------
        S : ndarray of shape (n_clips, n_sources * n_times)
            Estimated sources, source-major (``S.reshape(n_clips,
            n_sources, n_times)``).
        """
        check_is_fitted(self)
        X = validate_audio(self, X, reset=False, dtype=[np.float32, np.float64])
        return self._separate(X).reshape(X.shape[0], -1).astype(X.dtype, copy=False)

    def predict_masks(self, X):
        """Time-frequency masks the network estimates for mixtures.

        Parameters
        ----------
        X : array-like of shape (n_times,) or (n_clips, n_times)
            Mixtures, as in :meth:`separate` (integer arrays are PCM audio).

        Returns
        -------
        masks : ndarray of shape (n_sources, n_freqs, n_frames) or \
(n_clips, n_sources, n_freqs, n_frames)
            The mask of each source on the fitted STFT's grid (frequency
            rows, as :meth:`STFTTransformer.to_spectrogram` lays them out).
        """
        check_is_fitted(self)
        X, Xb = check_mixtures(X)
        masks = np.swapaxes(self._separate(Xb, key="masks"), -1, -2)
        return masks[0] if X.ndim == 1 else masks

    def score(self, X, y=None):
        """Mean SI-SDR improvement (dB) on a fixed, seeded set of mixtures.

        Mixtures are built from the clean clips ``X`` (labels ``y``) exactly
        as in training, with seed 0, so the same clips always give the same
        test set. Greater is better.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_times)
            Clean clips, for example of speakers held out from training.
        y : array-like of shape (n_clips,), default=None
            Labels, as in :meth:`fit`.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        from ..metrics import pit_si_sdr, si_sdr_improvement

        X, y = check_clips(self, X, y, reset=False)
        data = self._dataset(X, self._encode(y), seed=0, fixed=True)
        items = [data[i] for i in range(len(data))]  # each draw made once
        mix = np.stack([m.numpy() for m, _ in items])
        ref = np.stack([r.numpy() for _, r in items])
        # scored on mixtures whose every source is audible
        keep = np.all(np.einsum("bst,bst->bs", ref, ref) > 0, axis=1)
        if not np.any(keep):
            raise ValueError("score needs clips that are not silent.")
        mix, ref = mix[keep], ref[keep]
        est = self._separate(mix)
        if self.permutation_invariant:
            _, perm = pit_si_sdr(ref, est)
            est = np.take_along_axis(est, perm[:, :, None], axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gain = si_sdr_improvement(ref, est, mix)
        return float(np.mean(gain[np.isfinite(gain)])) if np.isfinite(gain).any() else -np.inf

    # -- a model file's state (sksep.pretrained) ---------------------------------

    def _restore(self, stft, module, *, n_features_in_, n_sources_, n_epochs_, seed,
                 classes_=None):
        """Fitted from a model file (:mod:`sksep.pretrained._format`): the
        fitted front end ``stft`` and the trained ``module`` alone, on the
        estimator's device; separating needs neither skorch nor an optimizer
        (the skorch net is built around the module when training is asked
        for). Returns self."""
        self.n_features_in_, self.n_sources_ = n_features_in_, n_sources_
        self.n_epochs_ = self._epoch_offset = n_epochs_
        self._seed = seed
        if classes_ is not None:
            self.classes_ = classes_
        self.stft_ = stft
        module.eval()
        self.net_ = LoadedNet(module.to(self._device()))
        return self

    # -- internals ----------------------------------------------------------

    def _check_fitted(self):
        check_is_fitted(self)

    def _class_fixed(self):
        return not self.permutation_invariant

    def _encode(self, y):
        return encode(y, self.classes_ if self._class_fixed() else None)

    def _dataset(self, X, codes, seed, fixed=False):
        from ._data import MixtureDataset

        low, high = self.snr_db
        return MixtureDataset(
            X, codes, n_sources=self.n_sources_, class_fixed=self._class_fixed(),
            snr_db=(float(low), float(high)), shift=self.shift, seed=seed,
            fixed=fixed, speed=None if fixed else speed_range(self.speed_perturb),
            segment=self.segment_length,
        )

    def _device(self):
        return resolve_device(self.device)

    def _fit(self, X, y, valid=None):
        import torch

        check_snr_range(self.snr_db)
        self._seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        torch.manual_seed(self._seed)
        if self._class_fixed():
            self.classes_ = np.unique(y)
            self.n_sources_ = len(self.classes_)
            if self.n_sources_ < 2:
                raise ValueError(
                    f"y has 1 class ({self.classes_.tolist()[0]!r}); a class-fixed "
                    "separator needs clips of at least 2 classes to mix."
                )
        else:
            self.n_sources_ = self.n_sources
            if len(X) < self.n_sources_:
                raise ValueError(
                    f"n_sources={self.n_sources_} but X has {len(X)} sample(s) "
                    "(clips): each training mixture needs that many clips."
                )
            if y is not None and len(np.unique(y)) < 2:
                warnings.warn(
                    f"y holds a single label ({np.unique(y).tolist()[0]!r}): every "
                    "training mixture is one voice mixed with itself, which "
                    "teaches the network nothing about telling voices apart. "
                    "Give clips of at least 2 speakers.", UserWarning, stacklevel=3)
        stft = self.stft if self.stft is not None else _default_stft()
        n_times = self.n_features_in_ if self.segment_length is None else int(
            self.segment_length)
        if n_times < stft.n_fft:
            what = ("segment_length" if self.segment_length is not None
                    else "samples per clip")
            raise ValueError(
                f"X has {n_times} feature(s) ({what}), fewer than the "
                f"STFT's n_fft={stft.n_fft}: the clips are too short for one frame."
            )
        self.stft_ = clone(stft)
        self.stft_.set_params(output="complex").fit(
            np.zeros((1, n_times), dtype=np.float32))
        self.net_ = self._build_net(self._build_module(self.stft_, self.n_sources_))
        self._train(X, y, valid)

    def _build_module(self, stft, n_sources):
        """The torch network (:class:`sksep.nn.SpectralSeparator`) for the
        fitted front end ``stft``, freshly initialised, on the CPU."""
        from ..nn import SpectralSeparator

        return SpectralSeparator(
            self._build_mask_net(stft.n_freqs_, n_sources), stft.n_fft,
            stft.hop_length_, stft.window_, center=stft.center, pad_mode=stft.pad_mode,
        )

    def _net_params(self):
        """The :class:`~sksep.neural._net.SeparatorNet` settings of one
        training call."""
        return dict(max_epochs=self.max_epochs, verbose=int(self.verbose),
                    patience=self.patience, gradient_clip=self.gradient_clip,
                    progress_bar=bool(self.verbose and int(self.verbose) > 1))

    def _build_net(self, module):
        """The skorch net that trains ``module``, initialised (its optimizer
        built)."""
        from ._net import SeparatorNet, optimizer_class

        return SeparatorNet(
            module, loss=self.loss, permutation_invariant=self.permutation_invariant,
            optimizer=optimizer_class(self.optimizer), lr=self.lr,
            batch_size=self.batch_size, device=self._device(), train_split=None,
            **self._net_params()).initialize()

    def _train(self, X, y, valid=None):
        """Train ``net_`` for ``max_epochs`` more epochs (fresh or continued).

        Mixture draws and batch order are seeded from ``random_state`` and
        the number of epochs already trained, so continued training is as
        reproducible as a fresh one and draws new mixtures.
        """
        import torch

        from ._net import holdout, upgrade

        # a network loaded from a file (or an older pickle) trains in place
        self.net_ = upgrade(self.net_, self._build_net)
        codes = self._encode(y)
        train_idx = np.arange(len(X))
        if valid is not None:
            valid_codes = self._encode(valid[1])
            if self._class_fixed():
                check_every_class(valid_codes, self.classes_, "validation")
            valid = self._dataset(valid[0], valid_codes, seed=self._seed + 1,
                                  fixed=True)
        else:
            split = holdout(len(X), codes, self.valid_fraction,
                            np.random.default_rng(self._seed),
                            n_classes=self.n_sources_ if self._class_fixed() else None)
            if split is not None:
                valid_idx, train_idx = split
                valid = self._dataset(X[valid_idx], None if codes is None
                                      else codes[valid_idx], seed=self._seed + 1,
                                      fixed=True)
        train = self._dataset(X[train_idx], None if codes is None else codes[train_idx],
                              seed=self._seed)
        # epochs trained before, also in an earlier process (a loaded file)
        done = getattr(self, "_epoch_offset", 0) + len(self.net_.history)
        train.epoch = done
        torch.manual_seed(self._seed + done)
        self.net_.train_epochs(train, valid, **self._net_params())
        self.n_epochs_ = getattr(self, "_epoch_offset", 0) + len(self.net_.history)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.target_tags.required = self._class_fixed()
        tags.non_deterministic = False
        return tags
