"""How often a speech-noise model lowers STOI, mixture by mixture.

``bench_noise.py`` reports mean gains; a mean STOI gain of +0.03 can hide
mixtures whose intelligibility (by STOI) falls. Same test mixtures as
``bench_noise.py`` (noisy_set: speech8k test readers, noise8k test noise,
each corpus and SNR on its own).

    OMP_NUM_THREADS=1 python benchmarks/stoi_share.py speech8k-speech-noise
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import bench_noise as bn  # noqa: E402


def main(name, data="../shared/data"):
    _, _, run = bn.model_method(name)
    for corpus in ("librispeech", "speechocean762"):
        d = bn.noisy_set(data, corpus)
        for snr in bn.SNRS:
            noisy = d[f"noisy {snr}"]
            base = bn.clip_scores(d["clean"], noisy)
            sc = bn.clip_scores(d["clean"], run(noisy))
            ds, dq = sc["stoi"] - base["stoi"], sc["si_sdr"] - base["si_sdr"]
            print(f"{name} {corpus} {snr:>3} dB: STOI {base['stoi'].mean():.3f} -> "
                  f"gain {ds.mean():+.3f} (median {np.median(ds):+.3f}), lower in "
                  f"{np.mean(ds < 0):.0%} of {len(ds)}; SI-SDRi {dq.mean():+.1f}, "
                  f"lower in {np.mean(dq < 0):.0%}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
