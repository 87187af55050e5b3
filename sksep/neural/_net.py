"""Training of the deep separators: skorch's NeuralNet through its public hooks.

:class:`SeparatorNet` trains a :class:`sksep.nn.SpectralSeparator` on
mixture datasets (:class:`~sksep.neural._data.MixtureDataset`): its
criterion is built from the network's own STFT
(:meth:`SeparatorNet.initialize_criterion`) and its callbacks come from one
method (:meth:`SeparatorNet.get_default_callbacks`), so the estimators
only set parameters and call ``partial_fit``. :func:`holdout` chooses the
clips held out for early stopping.
"""

from functools import partial

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import (
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    ProgressBar,
)

from ..nn import SeparationLoss
from ._callbacks import EpochCounter, valid_si_sdr
from ._params import OPTIMIZERS



class SeparatorNet(NeuralNet):
    """A skorch net that trains a separator on mixtures of clean clips.

    Beyond skorch's own, its callbacks advance the training mixtures'
    epoch (fresh draws every epoch) and, when ``train_split`` gives a
    validation set, score the validation SI-SDR and stop early on it,
    restoring the best epoch's weights. The criterion is a
    :class:`sksep.nn.SeparationLoss` on the module's STFT.

    Parameters
    ----------
    module : sksep.nn.SpectralSeparator
        The network, trained in place.
    loss : {'si_sdr', 'magnitude', 'psa'}, default='si_sdr'
        The criterion's kind.
    permutation_invariant : bool, default=True
        PIT in the criterion and the validation score, or fixed outputs.
    patience : int, default=5
        Epochs without validation improvement before stopping.
    gradient_clip : float, default=None
        Clip the gradient's norm to this value at every step.
    progress_bar : bool, default=False
        A progress bar per epoch.
    **kwargs
        skorch's :class:`~skorch.NeuralNet` parameters (``optimizer``,
        ``lr``, ``max_epochs``, ``batch_size``, ``train_split``, ...).
        """

    def __init__(self, module, *, loss="si_sdr", permutation_invariant=True,
                 patience=5, gradient_clip=None, progress_bar=False, **kwargs):
        kwargs.setdefault("iterator_train__shuffle", True)
        super().__init__(module, criterion=SeparationLoss, **kwargs)
        self.loss = loss
        self.permutation_invariant = permutation_invariant
        self.patience = patience
        self.gradient_clip = gradient_clip
        self.progress_bar = progress_bar

    def initialize_criterion(self):
        """The separation loss on the module's own STFT."""
        m = self.module_
        self.criterion_ = SeparationLoss(
            self.loss, self.permutation_invariant, m.n_fft, m.hop_length,
            m.window.detach().cpu().clone(), center=m.center, pad_mode=m.pad_mode)
        return self

    def get_default_callbacks(self):
        """skorch's callbacks, then the separator's."""
        callbacks = list(super().get_default_callbacks())
        if self.train_split is not None:
            callbacks += [
                ("valid_si_sdr", EpochScoring(
                    partial(valid_si_sdr,
                            permutation_invariant=self.permutation_invariant),
                    lower_is_better=False, name="valid_si_sdr", use_caching=False)),
                ("early_stopping", EarlyStopping(
                    monitor="valid_si_sdr", lower_is_better=False,
                    patience=self.patience, load_best=True)),
            ]
        callbacks.append(("epoch_counter", EpochCounter()))
        if self.gradient_clip is not None:
            callbacks.append(("gradient_clip", GradientNormClipping(
                gradient_clip_value=float(self.gradient_clip))))
        if self.progress_bar:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def train_epochs(self, train, valid=None, **params):
        """``max_epochs`` more epochs on the dataset ``train``, validated
        on ``valid`` (a dataset, or None), after ``set_params(**params)``;
        the callbacks are built afresh for these settings."""
        from skorch.helper import predefined_split

        self.set_params(train_split=None if valid is None else predefined_split(valid),
                        **params)
        if self.initialized_:
            self.initialize_callbacks()
        return self.partial_fit(train, None)


def optimizer_class(optimizer):
    """A torch optimizer class, from a class or a name in ``OPTIMIZERS``."""
    if isinstance(optimizer, str):
        return getattr(torch.optim, OPTIMIZERS[optimizer])
    return optimizer


def upgrade(net, build):
    """``net`` as the initialised :class:`SeparatorNet` ``build(net.module_)``, its
    module trained in place, its optimizer state and history kept: for a
    loaded network (no skorch) or a pickle of an older version's plain
    :class:`~skorch.NeuralNet`."""
    if isinstance(net, SeparatorNet):
        return net
    new = build(net.module_)
    old_optimizer = getattr(net, "optimizer_", None)
    if old_optimizer is not None:
        new.optimizer_.load_state_dict(old_optimizer.state_dict())
    if getattr(net, "history_", None) is not None:
        new.history = net.history
    return new


def holdout(n, codes, valid_fraction, rng, *, n_classes=None):
    """``(valid_idx, train_idx)`` of ``n`` clips: ``valid_fraction`` of them,
    in the random order of ``rng``, or None when nothing would be left on
    one side. With ``n_classes`` (class-fixed) every class stays on both
    sides when it can (:func:`_split_by_class`)."""
    n_valid = int(round(valid_fraction * n))
    if not (n_valid >= 1 and n - n_valid >= 1):
        return None
    order = rng.permutation(n)
    valid_idx, train_idx = order[:n_valid], order[n_valid:]
    if n_classes is not None:
        return _split_by_class(order, codes, valid_idx, train_idx, valid_fraction,
                               n_classes)
    return valid_idx, train_idx


def _split_by_class(order, codes, valid_idx, train_idx, valid_fraction, n_classes):
    """A class-fixed hold-out that leaves every class on both sides.

    Every held-out mixture needs a clip of each class (otherwise its
    missing slot is silence and the validation SI-SDR means nothing),
    and so does training. The random split is kept when it already
    does that; otherwise ``valid_fraction`` of each class (at least one
    clip, never all) is held out, in the same random order. Classes of
    a single clip cannot be on both sides: the random split stays.
    """
    if (len(np.unique(codes[valid_idx])) == n_classes
            and len(np.unique(codes[train_idx])) == n_classes):
        return valid_idx, train_idx
    counts = np.bincount(codes, minlength=n_classes)
    if counts.min() < 2:
        return valid_idx, train_idx
    held = []
    for c in range(n_classes):
        mine = order[codes[order] == c]
        k = min(max(int(round(valid_fraction * len(mine))), 1), len(mine) - 1)
        held.extend(mine[:k].tolist())
    held = np.isin(order, held)
    return order[held], order[~held]
