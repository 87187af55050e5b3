"""Inference: a separator's network on mixtures, and long signals in chunks.

:func:`join_chunks` is the one chunked path: the deep separators'
``separate(chunk_size=...)`` and the file service's
:func:`sksep._separate.transform_chunked` (a fitted multichannel filter on
a long room recording) both run a fixed separator on overlapping chunks
and cross-fade them, so memory stays bounded on long recordings.
"""

import numpy as np


class LoadedNet:
    """The network of a separator loaded from a file, without skorch.

    ``module_`` is the :class:`sksep.nn.SpectralSeparator` that
    ``separate`` runs (and that :func:`sksep.pretrained.save` writes); it
    may be trained or replaced in place. The estimator's ``fit`` with
    ``warm_start=True`` and ``partial_fit`` swap this for a skorch
    :class:`~skorch.NeuralNet` around the same module (its weights kept)
    before they train.
    """

    def __init__(self, module):
        self.module_ = module

    def __repr__(self):
        return f"{type(self).__name__}(module_={type(self.module_).__name__})"



def run_module(module, X, key="wave"):
    """``module(mixture)[key]`` for every mixture of ``X`` ``(n_clips,
    n_times)``, stacked, in eval mode and without gradients: float64 for a
    float64 ``X``, float32 otherwise."""
    import torch

    module.eval()
    device = next(module.parameters()).device
    out = []
    # one mixture at a time: an output never depends on which other
    # mixtures share its batch (float32 kernels differ by batch size)
    with torch.no_grad():
        for clip in X:
            xb = torch.as_tensor(np.asarray(clip, dtype=np.float32)[None],
                                 device=device)
            out.append(module(xb)[key].cpu().numpy())
    return np.concatenate(out).astype(np.float64 if X.dtype == np.float64
                                      else np.float32)


def chunk_bounds(n_times, size, step, *, equal=True):
    """``(start, stop)`` of overlapping chunks of ``size`` samples, ``step``
    apart, covering ``n_times`` samples.

    With ``equal=True`` every chunk is ``size`` long: the last one starts at
    ``n_times - size``. Otherwise the last one ends at ``n_times`` and may
    be shorter.
    """
    if n_times <= size:
        return [(0, n_times)]
    if equal:
        starts = sorted(set(range(0, n_times - size, step)) | {n_times - size})
        return [(start, start + size) for start in starts]
    bounds = []
    for start in range(0, n_times, step):
        bounds.append((start, min(n_times, start + size)))
        if start + size >= n_times:
            break
    return bounds


def join_chunks(run, bounds, *, align=None, progress=False):
    """The outputs of ``run(start, stop)`` over chunks, cross-faded.

    Parameters
    ----------
    run : callable
        ``run(start, stop)`` returns the output of the chunk of samples
        ``start:stop``, time on its last axis (``(..., stop - start)``),
        every chunk of one shape but the length and of one dtype.
    bounds : list of (int, int)
        The chunks, in order (:func:`chunk_bounds`); neighbours overlap.
    align : callable, default=None
        ``align(seen, part)`` returns ``part`` reordered to match ``seen``,
        the output already written on their overlap (the outputs of a
        permutation-invariant separator come in any order in each chunk).
    progress : bool, default=False
        Show a progress bar over the chunks (tqdm).

    Returns
    -------
    out : ndarray of shape (..., bounds[-1][1])
        On every overlap a linear ramp from the earlier chunk to the later.
    """
    n_times = bounds[-1][1]
    if progress:
        from tqdm.auto import tqdm

        bounds = tqdm(bounds, unit="chunk", desc="separating")
    out = None
    done = 0  # samples of ``out`` written so far
    for start, stop in bounds:
        part = run(start, stop)
        if out is None:
            out = np.zeros(part.shape[:-1] + (n_times,), dtype=part.dtype)
        n_over = done - start
        if n_over > 0:
            if align is not None:
                part = align(out[..., start:done], part)
            ramp = np.linspace(0.0, 1.0, n_over + 2, dtype=part.dtype)[1:-1]
            out[..., start:done] *= 1 - ramp
            out[..., start:done] += ramp * part[..., :n_over]
        out[..., max(done, start):stop] = part[..., max(n_over, 0):]
        done = stop
    return out


def align_sources(seen, part):
    """``part`` ``(n_clips, n_sources, n_times)`` with each clip's sources
    reordered to match ``seen`` on their overlap (``seen.shape[-1]``
    samples): the order that maximises the correlation of the overlapping
    samples."""
    from ..metrics import solve_permutation

    new = part[..., :seen.shape[-1]]
    for i in range(len(part)):
        a = seen[i] / (np.linalg.norm(seen[i], axis=1, keepdims=True) + 1e-12)
        b = new[i] / (np.linalg.norm(new[i], axis=1, keepdims=True) + 1e-12)
        part[i] = part[i, solve_permutation(a @ b.T)]
    return part
