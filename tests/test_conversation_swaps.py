"""benchmarks/conversation_swaps.py: the oracle that bounds what speaker
tracking could win, and the speaker-feature cue."""

from pathlib import Path

import numpy as np
import pytest
from conftest import load_script

SR = 8000


@pytest.fixture(scope="module")
def cs():
    return load_script(Path(__file__).resolve().parents[1] / "benchmarks" / "conversation_swaps.py")


def _voice(f0, seconds, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    return (0.1 * wave + 0.001 * rng.normal(size=t.size)).astype(np.float32)


def test_block_oracle_undoes_a_swap_and_leaves_a_right_order_alone(cs):
    ref = np.stack([_voice(110, 4, 0), _voice(220, 4, 1)])[None]
    swapped = ref.copy()
    swapped[0, :, 2 * SR:] = ref[0, ::-1, 2 * SR:]
    np.testing.assert_array_equal(cs.block_oracle(ref, swapped, SR), ref)
    np.testing.assert_array_equal(cs.block_oracle(ref, ref, SR), ref)
    # a block longer than the swap's granularity cannot undo all of it
    assert not np.array_equal(cs.block_oracle(ref, swapped, 3 * SR), ref)


def test_speaker_cue_tells_a_low_voice_from_a_high_one_not_a_voice_from_itself(cs):
    low, high = _voice(100, 6, 0), _voice(260, 6, 1)
    assert cs.speaker_cue([(low, high)]) > 0.9
    assert cs.speaker_cue([(low, _voice(100, 6, 2))]) < 0.8
