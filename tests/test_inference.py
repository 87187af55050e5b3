"""Chunked inference (sksep.neural._inference): long signals through a fixed
separator in overlapping, cross-faded chunks give what the whole signal
gives, whatever order a permutation-invariant separator puts its outputs in
per chunk."""

import numpy as np
import pytest

from sksep._separate import transform_chunked
from sksep.neural._inference import align_sources, chunk_bounds, join_chunks


@pytest.mark.parametrize("n_times, size, step", [(1000, 300, 225), (1000, 300, 1),
                                                 (999, 100, 100), (301, 300, 225)])
@pytest.mark.parametrize("equal", [True, False])
def test_chunks_cover_the_signal_in_order_and_overlap(n_times, size, step, equal):
    bounds = chunk_bounds(n_times, size, step, equal=equal)
    assert bounds[0][0] == 0 and bounds[-1][1] == n_times
    for (a0, a1), (b0, b1) in zip(bounds, bounds[1:]):
        assert a0 < b0 <= a1 < b1                  # ordered, overlapping or touching
    sizes = {stop - start for start, stop in bounds}
    if equal:
        assert sizes == {size}
    else:
        assert max(sizes) == size and all(stop - start == size for start, stop
                                          in bounds[:-1])


def test_joining_the_chunks_of_a_pointwise_separator_gives_the_whole_output():
    x = np.random.default_rng(0).normal(size=(3, 5000))
    whole = np.stack([x, -2 * x], axis=1)               # (n_clips, 2, n_times)
    joined = join_chunks(lambda a, b: whole[..., a:b].copy(),
                         chunk_bounds(5000, 700, 500))
    np.testing.assert_allclose(joined, whole, rtol=0, atol=1e-12)


def test_chunks_whose_outputs_come_in_another_order_are_aligned():
    rng = np.random.default_rng(1)
    whole = rng.normal(size=(2, 3, 4000))              # 2 clips, 3 sources
    orders = [rng.permutation(3) for _ in range(20)]

    def run(start, stop):                               # any order per chunk
        order = orders[start // 300]
        return whole[:, order, start:stop].copy()

    bounds = chunk_bounds(4000, 400, 300)
    joined = join_chunks(run, bounds, align=align_sources)
    # the first chunk sets the order; every later chunk follows it
    np.testing.assert_allclose(joined, whole[:, orders[0]], rtol=0, atol=1e-12)
    assert not np.allclose(join_chunks(run, bounds), whole[:, orders[0]])


class _Mixing:
    """A fixed multichannel filter: sources = X @ W."""

    def __init__(self, W):
        self.W = W

    def transform(self, X):
        return X @ self.W


@pytest.mark.parametrize("chunk, overlap", [(1000, None), (1000, 10), (4096, 512)])
def test_transform_chunked_of_a_fixed_filter_equals_the_whole_transform(chunk, overlap):
    rng = np.random.default_rng(2)
    X, est = rng.normal(size=(10_000, 3)), _Mixing(rng.normal(size=(3, 2)))
    out = transform_chunked(est, X, chunk, overlap)
    assert out.shape == (10_000, 2)
    np.testing.assert_allclose(out, est.transform(X), rtol=0, atol=1e-12)
