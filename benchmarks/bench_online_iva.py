"""Online IVA against offline on simulated 16 kHz rooms, per 2 s window after 5 s.

    # the table of issue 22: RT60 150/300/600 ms, 2 and 3 voices, 2 rooms each,
    # the default streamer (warm start 2 s, forgetting 0.97), 8 ms blocks
    python benchmarks/bench_online_iva.py 0.15,0.3,0.6 0,1 --voices 2,3
    # the warm-start variants (2 voices)
    python benchmarks/bench_online_iva.py 0.15,0.3,0.5 0,1 \
        '[{"warm":0,"f":0.97,"ramp":false},{"warm":2,"f":0.97},{"warm":3,"f":0.97},{"warm":2,"f":0.98}]'

Arguments: RT60s, seeds, streamer variants (warm_start seconds, forgetting,
ramp: running-mean start when warm is 0; ramp false is the identity start
of before the warm start; default: the streamer's defaults). ``--voices``:
numbers of voices, each recorded by as many microphones 5 cm apart (the
square case online IVA handles). The voices are speech demo readers
resampled 8 -> 16 kHz and looped to 20 s: two voices, odd seeds readers 0
and 2, even seeds 1 and 3 (as before); three voices, every reader but
``seed % 4``. Each row is one JSON line: SDR improvement (BSS Eval on the
reference microphone's images) from 5 s on and in 2 s windows 5-7 ... 17-19
s, the offline ``IVASeparator`` fitted on the whole 20 s scored the same
way, the stream's ``converged_at_``, and per-block compute times (median,
99th percentile and worst, wall-clock and process CPU, ms) against the
block duration, their sums and real-time factors (sum / 20 s). With
``--table``, a Markdown table of the rows follows.
"""
import argparse
import json
import time

import numpy as np
from scipy.signal import resample_poly

from sksep import IVASeparator
from sksep.datasets import load_speech_demo, make_room_mixture
from sksep.metrics import image_scores

SR = 16000
DUR = 20
BLOCK_MS = 8


def sources(w, n_voices, seed):
    n = DUR * SR
    if n_voices == 2:
        readers = (0, 2) if seed % 2 else (1, 3)
    else:
        readers = [r for r in range(len(w)) if r != seed % len(w)][:n_voices]
    return np.stack([np.resize(w[r], n) for r in readers], 1), readers


def run(mix, n_ch, v):
    params = {}
    if "warm" in v:
        params["warm_start"] = v["warm"]
    if "f" in v:
        params["forgetting"] = v["f"]
    st = IVASeparator(sample_rate=SR).streamer(n_ch, **params)
    st.processor.ramp = v.get("ramp", True)
    b = BLOCK_MS * SR // 1000
    out, wall, cpu = [], [], []
    for i in range(0, mix.shape[0], b):
        t0, c0 = time.perf_counter(), time.process_time()
        out.append(st.process(mix[i:i + b]))
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out.append(st.flush())
    return st, np.concatenate(out)[st.latency_:], np.array(wall), np.array(cpu)


def sdri(images, y, mix, s):
    return round(float(np.mean(image_scores(images[:, s], y[s], mixture=mix[s])
                               ["sdr_improvement"])), 1)


def windows(images, y, mix):
    return [sdri(images, y, mix, slice(a * SR, (a + 2) * SR))
            for a in range(5, DUR - 1, 2)]


def ms(t):
    return [round(1e3 * float(np.median(t)), 2),
            round(1e3 * float(np.percentile(t, 99)), 2),
            round(1e3 * float(t.max()), 1)]


def table(rows):
    offline = {(r["rt60"], r["voices"], r["seed"]): r for r in rows
               if r["variant"] == "offline"}
    print("\n| RT60 | voices | room | offline from 5 s | online from 5 s | "
          "online - offline | worst 2 s window (offline's) | converged at | "
          "99th pct block, wall / CPU | worst block, wall |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["variant"] == "offline":
            continue
        o = offline[(r["rt60"], r["voices"], r["seed"])]
        print(f"| {int(r['rt60'] * 1000)} ms | {r['voices']} | {r['seed']} | "
              f"{o['after5']} | {r['after5']} | {r['after5'] - o['after5']:+.1f} | "
              f"{r['min_after5']} ({min(o['win'])}) | {r['conv']:.2f} s | "
              f"{r['block_wall_ms'][1]} / {r['block_cpu_ms'][1]} ms | "
              f"{r['block_wall_ms'][2]} ms |")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("rt60s", nargs="?", default="0.15,0.3,0.6")
    p.add_argument("seeds", nargs="?", default="0,1")
    p.add_argument("variants", nargs="?", default="[{}]")
    p.add_argument("--voices", default="2")
    p.add_argument("--table", action="store_true")
    a = p.parse_args()
    w = [resample_poly(x, 2, 1) for x in load_speech_demo().waveforms]
    late = slice(5 * SR, None)
    rows = []
    for n_voices in [int(v) for v in a.voices.split(",")]:
        for rt in [float(v) for v in a.rt60s.split(",")]:
            for seed in [int(v) for v in a.seeds.split(",")]:
                S, readers = sources(w, n_voices, seed)
                mix, images = make_room_mixture(S, SR, n_mics=n_voices,
                                                mic_spacing=0.05, rt60=rt,
                                                random_state=seed)
                key = {"rt60": rt, "voices": n_voices, "seed": seed,
                       "readers": list(readers)}
                off = IVASeparator(sample_rate=SR).fit_transform(mix)
                rows.append({**key, "variant": "offline",
                             "after5": sdri(images, off, mix, late),
                             "win": windows(images, off, mix)})
                print(json.dumps(rows[-1]), flush=True)
                for v in json.loads(a.variants):
                    st, y, wall, cpu = run(mix, n_voices, v)
                    ww = windows(images, y, mix)
                    rows.append({**key, "variant": v,
                                 "after5": sdri(images, y, mix, late),
                                 "min_after5": min(ww), "win": ww,
                                 "conv": st.converged_at_,
                                 "block_ms": BLOCK_MS,
                                 "block_wall_ms": ms(wall),
                                 "block_cpu_ms": ms(cpu),
                                 "cpu_s": round(float(cpu.sum()), 2),
                                 "wall_s": round(float(wall.sum()), 2),
                                 "rtf_cpu": round(float(cpu.sum()) / DUR, 3),
                                 "rtf_wall": round(float(wall.sum()) / DUR, 3)})
                    print(json.dumps(rows[-1]), flush=True)
    if a.table:
        table(rows)


if __name__ == "__main__":
    main()
