"""Shared machinery of the skorch-trained separators.

The estimator builds a skorch :class:`~skorch.NeuralNet` inside ``fit`` and
holds it as ``net_`` (composition, not inheritance: ``NeuralNet.__init__``
sets attributes scikit-learn's checks reject).
"""

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_finite, check_signal

_OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD"}


def _default_stft():
    from ..spectral import STFTTransformer

    return STFTTransformer(n_fft=256, hop_length=64)


class NeuralSeparatorMixin(TransformerMixin, BaseEstimator):
    """Fit on clean clips, separate mixtures: the deep separators' contract.

    Subclasses define ``_build_mask_net(n_freqs, n_sources)``,
    ``_class_fixed()`` and their parameters.
    """

    _common_constraints: dict = {
        "stft": [None, BaseEstimator],
        "loss": [StrOptions({"si_sdr", "magnitude", "psa"})],
        "permutation_invariant": ["boolean"],
        "snr_db": [tuple, list],
        "shift": [Interval(Real, 0, 1, closed="both")],
        "speed_perturb": [None, tuple, list],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "valid_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "device": [StrOptions({"cpu", "cuda", "auto"}), str],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    # -- the contract ------------------------------------------------------

    def fit(self, X, y=None):
        """Train on clean single-source clips, mixing them on the fly.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_times)
            Clean clips, one voice or sound per clip, all of one length.
        y : array-like of shape (n_clips,), default=None
            Label per clip (speaker or class). Mixtures combine clips of
            different labels; a class-fixed separator has one output per
            label, in the order of ``classes_``.

        Returns
        -------
        self
        """
        self._validate_params()
        if self.warm_start and hasattr(self, "net_"):
            return self.partial_fit(X, y)
        X, y = self._check_clips(X, y, reset=True)
        import torch

        with torch.random.fork_rng(devices=[]):
            self._fit(X, y)
        return self

    def partial_fit(self, X, y=None):
        """Continue training for ``max_epochs`` more epochs (fits if unfitted).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_times)
        y : array-like of shape (n_clips,), default=None

        Returns
        -------
        self
        """
        if not hasattr(self, "net_"):
            return self.fit(X, y)
        X, y = self._check_clips(X, y, reset=False)
        import torch

        with torch.random.fork_rng(devices=[]):
            self._train(X, y)
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
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64],
                          ensure_all_finite=False)
        check_finite(X)
        return self._separate(X).reshape(X.shape[0], -1).astype(X.dtype, copy=False)

    def separate(self, X):
        """Separate mixtures of any length.

        Parameters
        ----------
        X : array-like of shape (n_times,) or (n_clips, n_times)
            One mixture or a batch of equal-length mixtures.

        Returns
        -------
        S : ndarray of shape (n_sources, n_times) or (n_clips, n_sources, n_times)
        """
        check_is_fitted(self)
        X = check_signal(X, "Mixtures",
                         "waveform (n_times,) or batch (n_clips, n_times)")
        dtype = np.float64 if X.dtype == np.float64 else np.float32
        Xb = np.atleast_2d(X).astype(dtype, copy=False)
        check_finite(Xb)
        S = self._separate(Xb).astype(dtype, copy=False)
        return S[0] if X.ndim == 1 else S

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

        X, y = self._check_clips(X, y, reset=False)
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

    # -- internals ----------------------------------------------------------

    def _class_fixed(self):
        return not self.permutation_invariant

    def _check_clips(self, X, y, reset):
        if y is None:
            X = validate_data(self, X, reset=reset, dtype=[np.float32, np.float64])
        else:
            X, y = validate_data(self, X, y, reset=reset,
                                 dtype=[np.float32, np.float64], ensure_2d=True)
            y = np.asarray(y)
            if y.ndim != 1:
                raise ValueError(
                    f"y must be one label per clip, shape (n_clips,), got {y.shape}."
                )
        if y is None and self._class_fixed():
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target "
                "y is None: a class-fixed separator learns one output per label "
                "(pass permutation_invariant=True to train without labels)."
            )
        return X, y

    def _encode(self, y):
        if y is None:
            return None
        if self._class_fixed():
            lookup = {c: k for k, c in enumerate(self.classes_.tolist())}
            unknown = set(np.unique(y).tolist()) - set(lookup)
            if unknown:
                raise ValueError(f"y has labels unseen in fit: {sorted(unknown)[:5]}.")
            return np.array([lookup[v] for v in y.tolist()])
        return np.unique(y, return_inverse=True)[1]

    def _dataset(self, X, codes, seed, fixed=False):
        from ._data import MixtureDataset

        low, high = self.snr_db
        return MixtureDataset(
            X, codes, n_sources=self.n_sources_, class_fixed=self._class_fixed(),
            snr_db=(float(low), float(high)), shift=self.shift, seed=seed,
            fixed=fixed, speed=None if fixed else self._speed_range(),
        )

    def _speed_range(self):
        if self.speed_perturb is None:
            return None
        if len(self.speed_perturb) != 2 or not (
                0 < self.speed_perturb[0] <= self.speed_perturb[1]):
            raise ValueError(
                "speed_perturb must be None or a (low, high) range of speeds "
                f"with 0 < low <= high, got {self.speed_perturb!r}."
            )
        return tuple(float(v) for v in self.speed_perturb)

    def _device(self):
        import torch

        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def _fit(self, X, y):
        import torch

        if len(self.snr_db) != 2 or not self.snr_db[0] <= self.snr_db[1]:
            raise ValueError(f"snr_db must be a (low, high) range, got {self.snr_db!r}.")
        self._seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        torch.manual_seed(self._seed)
        if self._class_fixed():
            self.classes_ = np.unique(y)
            self.n_sources_ = len(self.classes_)
        else:
            self.n_sources_ = self.n_sources
        self.stft_ = clone(self.stft if self.stft is not None else _default_stft())
        self.stft_.set_params(output="complex").fit(X[:1])
        self.net_ = self._build_net()
        self._train(X, y)

    def _build_net(self):
        import torch
        from skorch import NeuralNet

        from ..nn import SeparationLoss, SpectralSeparator

        stft = self.stft_
        window = stft._window.numpy()
        module = SpectralSeparator(
            self._build_mask_net(stft.n_freqs_, self.n_sources_), stft.n_fft,
            stft.hop_length_, window, center=stft.center, pad_mode=stft.pad_mode,
        )
        criterion = SeparationLoss(
            self.loss, self.permutation_invariant, stft.n_fft, stft.hop_length_,
            window, center=stft.center, pad_mode=stft.pad_mode,
        )
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = getattr(torch.optim, _OPTIMIZERS[optimizer])
        net = NeuralNet(
            module=module, criterion=criterion, optimizer=optimizer, lr=self.lr,
            max_epochs=self.max_epochs, batch_size=self.batch_size,
            device=self._device(), train_split=None, verbose=int(self.verbose),
            iterator_train__shuffle=True, callbacks=[],
        )
        return net.initialize()

    def _train(self, X, y):
        """Train ``net_`` for ``max_epochs`` more epochs (fresh or continued).

        Mixture draws and batch order are seeded from ``random_state`` and
        the number of epochs already trained, so continued training is as
        reproducible as a fresh one and draws new mixtures.
        """
        import torch
        from skorch.callbacks import EarlyStopping, EpochScoring, ProgressBar
        from skorch.helper import predefined_split

        from ._callbacks import EpochCounter, valid_si_sdr

        codes = self._encode(y)
        n = len(X)
        rng = np.random.default_rng(self._seed)
        n_valid = int(round(self.valid_fraction * n))
        callbacks = []
        if n_valid >= 1 and n - n_valid >= 1:
            order = rng.permutation(n)
            valid_idx, train_idx = order[:n_valid], order[n_valid:]
            sub = None if codes is None else codes[valid_idx]
            valid = self._dataset(X[valid_idx], sub, seed=self._seed + 1, fixed=True)
            self.net_.train_split = predefined_split(valid)
            callbacks += [
                ("valid_si_sdr", EpochScoring(partial(
                    valid_si_sdr, permutation_invariant=self.permutation_invariant),
                                              lower_is_better=False,
                                              name="valid_si_sdr", use_caching=False)),
                ("early_stopping", EarlyStopping(monitor="valid_si_sdr",
                                                 lower_is_better=False,
                                                 patience=self.patience,
                                                 load_best=True)),
            ]
        else:
            train_idx = np.arange(n)
            self.net_.train_split = None
        train = self._dataset(X[train_idx], None if codes is None else codes[train_idx],
                              seed=self._seed)
        done = len(self.net_.history)
        train.epoch = done
        torch.manual_seed(self._seed + done)
        callbacks.append(("epoch_counter", EpochCounter(train)))
        if self.verbose and int(self.verbose) > 1:
            callbacks.append(("progress_bar", ProgressBar()))
        self.net_.callbacks, self.net_.max_epochs = callbacks, self.max_epochs
        self.net_.verbose = int(self.verbose)
        self.net_.initialize_callbacks()
        self.net_.partial_fit(train, None)
        self.n_epochs_ = len(self.net_.history)

    def _separate(self, X):
        import torch

        module = self.net_.module_
        module.eval()
        device = next(module.parameters()).device
        out = []
        with torch.no_grad():
            for start in range(0, len(X), max(self.batch_size, 1)):
                xb = torch.as_tensor(np.asarray(X[start:start + self.batch_size],
                                                dtype=np.float32), device=device)
                out.append(module(xb)["wave"].cpu().numpy())
        return np.concatenate(out).astype(np.float64 if X.dtype == np.float64
                                          else np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.target_tags.required = self._class_fixed()
        tags.non_deterministic = False
        return tags
