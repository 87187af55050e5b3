"""Online IVA against offline on simulated 16 kHz rooms, per 2 s window after 5 s.

    python benchmarks/bench_online_iva.py 0.15,0.3,0.5 0,1 \
        '[{"warm":0,"f":0.97,"ramp":false},{"warm":2,"f":0.97},{"warm":3,"f":0.97},{"warm":2,"f":0.98}]'

Arguments: RT60s, seeds (odd seeds use demo readers 0 and 2, even 1 and 3),
streamer variants (warm_start seconds, forgetting, ramp: running-mean start
when warm is 0; ramp false is the identity start of before the warm start).
"""
import json, sys, time
import numpy as np
from scipy.signal import resample_poly
from sksep import IVASeparator
from sksep.datasets import load_speech_demo, make_room_mixture
from sksep.metrics import image_scores

SR = 16000
rt60s = [float(v) for v in sys.argv[1].split(",")]
seeds = [int(v) for v in sys.argv[2].split(",")]
variants = json.loads(sys.argv[3])
dur = 20
demo = load_speech_demo()
n = dur * SR
w = [resample_poly(x, 2, 1) for x in demo.waveforms]

def run(mix, warm, forgetting, ramp=True):
    st = IVASeparator(sample_rate=SR).streamer(2, forgetting=forgetting, warm_start=warm)
    st.processor.ramp = ramp
    b = 8 * SR // 1000
    out = [st.process(mix[i:i + b]) for i in range(0, mix.shape[0], b)] + [st.flush()]
    return st, np.concatenate(out)[st.latency_:]

def win(images, y, mix):
    res = []
    for a in range(5, dur - 1, 2):
        s = slice(a * SR, (a + 2) * SR)
        res.append(round(float(np.mean(image_scores(images[:, s], y[s], mixture=mix[s])["sdr_improvement"])), 1))
    return res

for rt in rt60s:
    for seed in seeds:
        S = np.stack([np.resize(w[1], n), np.resize(w[3], n)], 1)
        if seed % 2:
            S = np.stack([np.resize(w[0], n), np.resize(w[2], n)], 1)
        mix, images = make_room_mixture(S, SR, n_mics=2, mic_spacing=0.05, rt60=rt, random_state=seed)
        off = IVASeparator(sample_rate=SR).fit_transform(mix)
        offw = win(images, off, mix)
        late = slice(5 * SR, None)
        off5 = round(float(np.mean(image_scores(images[:, late], off[late], mixture=mix[late])["sdr_improvement"])), 1)
        print(json.dumps({"rt60": rt, "seed": seed, "variant": "offline", "after5": off5, "win": offw}), flush=True)
        for v in variants:
            t0 = time.process_time()
            st, y = run(mix, v["warm"], v["f"], v.get("ramp", True))
            cpu = time.process_time() - t0
            ww = win(images, y, mix)
            a5 = round(float(np.mean(image_scores(images[:, late], y[late], mixture=mix[late])["sdr_improvement"])), 1)
            print(json.dumps({"rt60": rt, "seed": seed, "variant": v, "after5": a5, "min_after5": min(ww),
                              "win": ww, "conv": st.converged_at_, "cpu_s": round(cpu, 1)}), flush=True)
