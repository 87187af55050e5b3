"""Separation losses and permutation-invariant training (torch)."""

import itertools

import numpy as np
import torch

from .. import _dsp
from .._dsp import _torch as torch_dsp


def neg_si_sdr(estimate, reference, eps=1e-8):
    """Negative SI-SDR in dB over the last axis (differentiable).

    Both signals are made zero-mean first, as in the usual SI-SDR training
    loss; ``eps`` keeps the logarithm finite for silent signals.

    Parameters
    ----------
    estimate : torch.Tensor of shape (..., n_times)
    reference : torch.Tensor of shape (..., n_times)
        Broadcastable against ``estimate``.
    eps : float, default=1e-8

    Returns
    -------
    loss : torch.Tensor of shape (...)
        ``-SI-SDR`` in dB; lower is better.

    See Also
    --------
    sksep.metrics.si_sdr : The NumPy metric, in float64.

    Examples
    --------
    >>> import torch
    >>> from sksep.nn import neg_si_sdr
    >>> ref = torch.randn(2, 800, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.all(neg_si_sdr(ref + 0.01 * ref.flip(-1), ref) < -35))
    True
    """
    reference = reference - reference.mean(dim=-1, keepdim=True)
    estimate = estimate - estimate.mean(dim=-1, keepdim=True)
    dot = (estimate * reference).sum(-1, keepdim=True)
    energy = (reference**2).sum(-1, keepdim=True) + eps
    target = dot / energy * reference
    noise = estimate - target
    ratio = (target**2).sum(-1) / ((noise**2).sum(-1) + eps)
    return -10 * torch.log10(ratio + eps)


def pairwise_neg_si_sdr(estimate, reference):
    """Negative SI-SDR of every estimate against every reference.

    Parameters
    ----------
    estimate : torch.Tensor of shape (batch, n_sources, n_times)
    reference : torch.Tensor of shape (batch, n_sources, n_times)

    Returns
    -------
    pairwise : torch.Tensor of shape (batch, n_sources, n_sources)
        ``pairwise[b, i, j]`` is the loss of estimate ``j`` against
        reference ``i``, the input of :func:`pit_loss`.

    See Also
    --------
    pit_loss : Best-permutation loss from these values.

    Examples
    --------
    >>> import torch
    >>> from sksep.nn import pairwise_neg_si_sdr
    >>> S = torch.randn(1, 2, 800, generator=torch.Generator().manual_seed(0))
    >>> pairwise_neg_si_sdr(S.flip(1), S).argmin(-1).tolist()
    [[1, 0]]
    """
    return neg_si_sdr(estimate[:, None, :, :], reference[:, :, None, :])


def pit_loss(pairwise):
    """Utterance-level permutation-invariant loss.

    ``pairwise[b, i, j]`` is the loss of estimate ``j`` against reference
    ``i``. Up to three sources every permutation is tried in the graph;
    beyond, the best assignment of each item is found with
    :func:`scipy.optimize.linear_sum_assignment` on detached values (as
    asteroid does) and the loss gathered for it.

    Parameters
    ----------
    pairwise : torch.Tensor of shape (batch, n_sources, n_sources)
        Losses, for example from :func:`pairwise_neg_si_sdr`.

    Returns
    -------
    loss : torch.Tensor
        Mean over the batch of each item's best-permutation loss (averaged
        over its sources).
    perms : torch.Tensor of shape (batch, n_sources)
        Index of the estimate assigned to each reference.

    See Also
    --------
    pairwise_neg_si_sdr : Its usual input.
    sksep.metrics.solve_permutation : The same assignment in NumPy.

    Examples
    --------
    >>> import torch
    >>> from sksep.nn import pit_loss
    >>> pairwise = torch.tensor([[[5.0, -20.0], [-30.0, 4.0]]])
    >>> loss, perms = pit_loss(pairwise)
    >>> float(loss), perms.tolist()
    (-25.0, [[1, 0]])
    """
    batch, n, _ = pairwise.shape
    ref_idx = torch.arange(n, device=pairwise.device)
    if n <= 3:
        perms = torch.tensor(list(itertools.permutations(range(n))),
                             device=pairwise.device)
        losses = pairwise[:, ref_idx[None, :], perms].mean(-1)  # (batch, n_perm)
        best = losses.argmin(dim=1)
        return losses[torch.arange(batch), best].mean(), perms[best]
    from scipy.optimize import linear_sum_assignment

    cost = pairwise.detach().cpu().numpy()
    perms = np.stack([linear_sum_assignment(c)[1] for c in cost])
    perms = torch.as_tensor(perms, device=pairwise.device)
    chosen = pairwise[torch.arange(batch)[:, None], ref_idx[None, :], perms]
    return chosen.mean(), perms


class SeparationLoss(torch.nn.Module):
    """Training criterion of :class:`~sksep.nn.SpectralSeparator` outputs.

    Parameters
    ----------
    kind : {'si_sdr', 'magnitude', 'psa'}
        Negative SI-SDR of the waveforms; MSE between masked mixture
        magnitudes and source magnitudes; or MSE against the
        phase-sensitive target ``|S| cos(angle S - angle X)`` truncated to
        ``[0, |X|]``.
    permutation_invariant : bool
        Utterance-level PIT (:func:`pit_loss`) or fixed output order.
    n_fft, hop_length, window, center, pad_mode
        The separator's STFT, used on the references for spectral losses.

    See Also
    --------
    pit_loss : The permutation-invariant reduction.
    SpectralSeparator : The module whose outputs it scores.

    Examples
    --------
    >>> import torch
    >>> from sksep.nn import MaskNet, SeparationLoss, SpectralSeparator
    >>> window = torch.hann_window(128)
    >>> net = SpectralSeparator(MaskNet(65, 2, hidden_size=8), 128, 32, window)
    >>> loss = SeparationLoss("si_sdr", True, 128, 32, window)
    >>> sources = torch.randn(4, 2, 1000)
    >>> value = loss(net(sources.sum(1)), sources)
    >>> value.shape, value.requires_grad
    (torch.Size([]), True)
    """

    def __init__(self, kind, permutation_invariant, n_fft, hop_length, window,
                 center=True, pad_mode="reflect"):
        super().__init__()
        self.kind, self.permutation_invariant = kind, permutation_invariant
        self.n_fft, self.hop_length = n_fft, hop_length
        self.center, self.pad_mode = center, pad_mode
        self.register_buffer("window", torch.as_tensor(window, dtype=torch.float32))

    def forward(self, y_pred, y_true):
        if self.kind == "si_sdr":
            pair = pairwise_neg_si_sdr(y_pred["wave"], y_true)
        else:
            pair = self._spectral(y_pred, y_true)
        if self.permutation_invariant:
            return pit_loss(pair)[0]
        return torch.diagonal(pair, dim1=1, dim2=2).mean()

    def _spectral(self, y_pred, y_true):
        batch, n_src, n_times = y_true.shape
        geo = _dsp.geometry(self.n_fft, self.hop_length, self.center, self.pad_mode,
                            n_times)
        ref = torch_dsp.stft(y_true.reshape(batch * n_src, n_times), geo,
                             self.window).transpose(1, 2)
        ref = ref.reshape(batch, n_src, *ref.shape[1:])
        mix = y_pred["spec"][:, None]
        est = y_pred["masks"] * mix.abs()
        if self.kind == "magnitude":
            target = ref.abs()
        else:
            cos = torch.cos(torch.angle(ref) - torch.angle(mix))
            target = torch.minimum(torch.relu(ref.abs() * cos), mix.abs())
        diff = est[:, None] - target[:, :, None]  # (batch, ref, est, T, F)
        return (diff**2).mean(dim=(-1, -2))
