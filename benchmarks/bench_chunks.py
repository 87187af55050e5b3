"""Chunked separation of long recordings: how short a chunk keeps the voices' order.

``separate(chunk_size=...)`` bounds memory on long recordings by separating
overlapping chunks, each reordered to match the previous one on their
overlap. A permutation-invariant model picks its output order afresh in
every chunk; where a chunk holds one voice alone or turns, the overlap does
not always tell which output is which voice, and the voices swap. This
scores speech8k conversations (``bench_speech8k.conversations``: 60 s
speechocean762 and 25 s LibriSpeech, one order for the whole recording)
separated in one pass and in chunks of several lengths and overlaps, on
``valid`` (12 per corpus) and ``test`` (40), SI-SDRi in dB.

    python benchmarks/bench_chunks.py ../shared/data [--model speech8k-2voices]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_speech8k as bench  # noqa: E402

SETTINGS = [(None, 0.0), (10, 0.25), (10, 0.5), (15, 0.25), (15, 0.5), (20, 0.25),
            (30, 0.25)]


def main():
    import warnings

    args, model = bench.model_script(__doc__)
    warnings.simplefilter("ignore", UserWarning)     # the short-chunk warning
    sr = bench.SR
    for split, n in (("valid", 12), ("test", 40)):
        for corpus in bench.CORPORA:
            X, Y = bench.conversations(args.data, corpus, n=n, seed=3, split=split)
            cells = []
            for seconds, overlap in SETTINGS:
                if seconds is not None and seconds * sr >= X.shape[1]:
                    continue
                est = np.stack([model.separate(
                    x, sr=sr, chunk_size=None if seconds is None else seconds * sr,
                    overlap=overlap) for x in X])
                label = "one pass" if seconds is None else f"{seconds} s/{overlap:g}"
                cells.append(f"{label} {bench.sisdri(Y, est, X):5.2f}")
            print(f"{split:5s} {corpus:15s} {X.shape[1] / sr:.0f} s x {n}: "
                  + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
