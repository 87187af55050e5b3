"""skorch callbacks and scorers of the neural separators."""

import numpy as np
import torch
from skorch.callbacks import Callback


class EpochCounter(Callback):
    """Advance the training dataset's epoch so mixtures are drawn afresh."""

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        dataset_train.epoch += 1


def valid_si_sdr(net, X, y=None, *, permutation_invariant=True):
    """Mean SI-SDR (dB) of the net on a mixture dataset, after the best
    permutation of its outputs or in their fixed (class) order."""
    from ..nn import pairwise_neg_si_sdr, pit_loss

    module = net.module_
    was_training = module.training
    module.eval()
    device = next(module.parameters()).device
    losses, count = 0.0, 0
    loader = torch.utils.data.DataLoader(X, batch_size=net.batch_size)
    with torch.no_grad():
        for mix, ref in loader:
            wave = module(mix.to(device))["wave"]
            pair = pairwise_neg_si_sdr(wave, ref.to(device))
            if permutation_invariant:
                loss = pit_loss(pair)[0]
            else:
                loss = torch.diagonal(pair, dim1=1, dim2=2).mean()
            losses += float(loss) * len(mix)
            count += len(mix)
    module.train(was_training)
    return -losses / max(count, 1) if np.isfinite(losses) else -np.inf
