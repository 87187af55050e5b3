"""Streaming: latency, per-block compute and quality of the live separators.

1. **Compute**, one thread: every streaming separator processes 20 s of
   audio block by block (blocks of 4, 8 and 16 ms), timing each
   ``process`` call: median, 99th percentile and worst per-block time, and
   the real-time factor (total compute / audio duration), in wall-clock
   time and in the process's CPU time (``cpu_*``: without the time other
   processes hold the core). Separators: the shipped causal TCN models (8,
   16, 32 ms STFT windows) on a mono mixture, and online AuxIVA on a
   2-microphone room recording.
2. **Quality against latency**: SI-SDRi of the *streamed* output (8 ms
   blocks, concatenated and shifted by the latency) on 4 s mixtures of two
   speech8k **test** speakers (the construction of bench_speech8k.py, the
   first ``--n-mixtures``), beside the non-causal default model.
3. **Online IVA over time**: SDR improvement against the reference
   microphone's images in consecutive 2 s windows of a 20 s two-voice room
   (RT60 300 ms, 2 microphones 5 cm apart), beside the offline
   IVASeparator's on the whole recording.
4. **Online IVA tracking a move**: the same two talkers, 10 s at one set of
   positions, then 10 s elsewhere in the room (RT60 150 ms; an abrupt move,
   the hardest case for the forgotten statistics), scored per 2 s window
   against each half's images, beside the offline separator fitted on each
   half alone.

    python benchmarks/bench_streaming.py ../shared/data/speech8k

``--onnx`` also times each causal model exported with ``sksep.onnx.export_onnx``
and run by ``sksep.onnx.OnnxStreamer`` (onnxruntime, one thread), fed the
same blocks in turn with the NumPy streamer, and prints the ratio of their
real-time factors (ONNX / NumPy) and the largest difference of their outputs
(over the peak); ``--sections compute`` with it:

    python benchmarks/bench_streaming.py --onnx --sections compute

``--compare REV`` also times the causal models with the TCN stepper and the
block streamer of git revision REV (``sksep/nn/_modules.py`` and
``sksep/streaming.py`` as they were there), fed the same blocks in turn with
the current ones, so that a loaded machine slows both alike; ``--sections
compute`` runs the first section only:

    python benchmarks/bench_streaming.py --compare HEAD~2 --sections compute
"""

import argparse
import contextlib
import importlib.util
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

SR = 8000


ROOT = Path(__file__).resolve().parents[1]


def time_blocks(streams, x, block, outputs=None):
    """Per-block times of each stream, fed the same blocks in turn (the
    order rotates), so that they share the machine's load alike: wall-clock
    (what a live stream sees) and the process's CPU time (what the code
    costs, without the time other processes hold the core on a loaded
    machine). ``outputs``, a list per stream, collects what they return."""
    times = [[] for _ in streams]
    cpu = [[] for _ in streams]
    for k, start in enumerate(range(0, x.shape[0], block)):
        for i in np.roll(np.arange(len(streams)), k):
            c0, t0 = time.process_time(), time.perf_counter()
            y = streams[i].process(x[start:start + block])
            t1, c1 = time.perf_counter(), time.process_time()
            if outputs is not None:
                outputs[i].append(y)
            times[i].append(t1 - t0)
            cpu[i].append(c1 - c0)
    rows, seconds = [], x.shape[0] / SR
    for k, (stream, t, c) in enumerate(zip(streams, times, cpu)):
        y = stream.flush()
        if outputs is not None:
            outputs[k].append(y)
        t, c = np.array(t) * 1000, np.array(c) * 1000
        rows.append({"median_ms": float(np.median(t)),
                     "p99_ms": float(np.percentile(t, 99)), "worst_ms": float(t.max()),
                     "rtf": float(t.sum() / 1000 / seconds),
                     "cpu_median_ms": float(np.median(c)),
                     "cpu_p99_ms": float(np.percentile(c, 99)),
                     "cpu_rtf": float(c.sum() / 1000 / seconds)})
    return rows


def code_at(rev):
    """A context manager that builds streamers with the TCN stepper and the
    BlockStreamer of git revision ``rev``: its ``sksep/nn/_stepper.py``
    (where the stepper has lived since it left ``_modules.py``; loading
    ``_modules.py`` alone would import the current stepper) or, for older
    revisions, its ``MaskNet._tcn_stepper``, and its ``sksep/streaming.py``."""
    import sksep.nn._modules
    import sksep.streaming

    def load(path, package):
        done = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT,
                              capture_output=True, text=True)
        if done.returncode:
            return None                 # not in that revision
        file = Path(tempfile.mkdtemp()) / Path(path).name
        file.write_text(done.stdout)
        spec = importlib.util.spec_from_file_location(
            f"{package}._{file.stem.strip('_')}_at_rev", file)
        module = importlib.util.module_from_spec(spec)
        module.__package__ = package
        spec.loader.exec_module(module)
        return module

    stepper = load("sksep/nn/_stepper.py", "sksep.nn")
    if stepper is not None:
        def tcn_stepper(self, dtype=np.float32):
            return stepper._CausalTCNStepper(self, dtype=dtype)
    else:
        tcn_stepper = load("sksep/nn/_modules.py", "sksep.nn").MaskNet._tcn_stepper
    engine = load("sksep/streaming.py", "sksep")

    @contextlib.contextmanager
    def patched():
        net, eng = sksep.nn._modules.MaskNet, sksep.streaming
        saved = net._tcn_stepper, eng.BlockStreamer
        net._tcn_stepper, eng.BlockStreamer = tcn_stepper, engine.BlockStreamer
        try:
            yield
        finally:
            net._tcn_stepper, eng.BlockStreamer = saved

    return patched


def streamed(stream, x, block):
    out = [stream.process(x[i:i + block]) for i in range(0, x.shape[-1], block)]
    out.append(stream.flush())
    y = np.concatenate(out, axis=1)
    return y[:, stream.latency_:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="../shared/data/speech8k")
    parser.add_argument("--n-mixtures", type=int, default=100)
    parser.add_argument("--compare", default=None, metavar="REV",
                        help="also time the causal models with the code of this revision")
    parser.add_argument("--onnx", action="store_true",
                        help="also time the causal models exported to ONNX")
    parser.add_argument("--sections", default="all", choices=["all", "compute"])
    args = parser.parse_args()
    import torch
    from threadpoolctl import threadpool_limits

    from bench_speech8k import sisdri, test_mixtures
    from sksep import IVASeparator, STFTTransformer
    from sksep.datasets import load_speech_demo, make_room_mixture
    from sksep.metrics import image_scores
    from sksep.pretrained import load

    torch.set_num_threads(1)
    causal = ["speech8k-2voices-causal-8ms", "speech8k-2voices-causal-16ms",
              "speech8k-2voices-causal-32ms"]
    demo = load_speech_demo()
    n = 20 * SR
    mono = (np.resize(demo.waveforms[0], n) + np.resize(demo.waveforms[2], n)) * 0.5
    S = np.stack([np.resize(demo.waveforms[1], n), np.resize(demo.waveforms[3], n)], 1)
    room, images = make_room_mixture(S, SR, n_mics=2, mic_spacing=0.05, rt60=0.3,
                                     random_state=0)
    iva_stft = STFTTransformer(n_fft=1024, hop_length=256)
    old_code = code_at(args.compare) if args.compare else None
    onnx_files = {}
    if args.onnx:
        from sksep.onnx import OnnxStreamer, export_onnx

        folder = Path(tempfile.mkdtemp())
        onnx_files = {name: export_onnx(name, folder / f"{name}.onnx")
                      for name in causal}
    with threadpool_limits(1):
        print("== compute per block, 1 thread")
        for block_ms in (4, 8, 16):
            block = block_ms * SR // 1000
            for name in causal:
                model = load(name)
                streams, codes = [model.streamer()], ["current"]
                if old_code is not None:
                    with old_code():
                        streams.append(model.streamer())
                    codes.append(args.compare)
                if args.onnx:
                    streams.append(OnnxStreamer(onnx_files[name], n_threads=1))
                    codes.append("onnx")
                outs = [[] for _ in streams]
                rows = time_blocks(streams, mono.astype(np.float32), block, outs)
                for code, row in zip(codes, rows):
                    print(json.dumps({"separator": name, "block_ms": block_ms,
                                      **({"code": code} if len(codes) > 1 else {}),
                                      **{k: round(v, 3) for k, v in row.items()}}),
                          flush=True)
                if args.onnx:
                    numpy_row, onnx_row = rows[0], rows[-1]
                    ref, got = (np.concatenate(o, axis=1) for o in (outs[0], outs[-1]))
                    print(json.dumps({
                        "separator": name, "block_ms": block_ms,
                        "onnx_over_numpy_rtf": round(
                            onnx_row["rtf"] / numpy_row["rtf"], 2),
                        "onnx_over_numpy_cpu_rtf": round(
                            onnx_row["cpu_rtf"] / numpy_row["cpu_rtf"], 2),
                        "max_diff_over_peak": float(
                            f"{np.abs(got - ref).max() / np.abs(ref).max():.2g}")}),
                        flush=True)
            (row,) = time_blocks([IVASeparator(stft=iva_stft).streamer(
                2, forgetting=0.96)], room, block)
            print(json.dumps({"separator": "online IVA (2 mics, 128 ms window)",
                              "block_ms": block_ms,
                              **{k: round(v, 3) for k, v in row.items()}}), flush=True)
        if args.sections == "compute":
            return

        print("== quality against latency (streamed, 8 ms blocks)")
        X, Y, same = test_mixtures(args.data, n=args.n_mixtures)
        for name in causal + ["speech8k-2voices"]:
            model = load(name)
            if name in causal:
                est = np.stack([streamed(model.streamer(), x, 64) for x in X])
                latency = model.stft_.n_fft - 1
            else:
                est = model.separate(X)
                latency = None
            print(json.dumps({
                "model": name,
                "latency_ms": None if latency is None else round(1000 * latency / SR, 2),
                "si_sdri": round(sisdri(Y, est, X), 2),
                "si_sdri_mixed_sex": round(sisdri(Y[~same], est[~same], X[~same]), 2),
                "si_sdri_same_sex": round(sisdri(Y[same], est[same], X[same]), 2)}),
                flush=True)

        print("== online IVA over time (RT60 300 ms, 2 voices, 2 mics)")
        offline = IVASeparator(stft=iva_stft).fit_transform(room)
        off = np.mean(image_scores(images, offline, mixture=room)["sdr_improvement"])
        for forgetting in (0.96, 0.98):
            stream = IVASeparator(stft=iva_stft).streamer(2, forgetting=forgetting)
            y = np.concatenate([stream.process(room[i:i + 64])
                                for i in range(0, n, 64)] + [stream.flush()])
            y = y[stream.latency_:]
            over_time = []
            for a in range(0, 20, 2):
                w = slice(a * SR, (a + 2) * SR)
                over_time.append(round(float(np.mean(image_scores(
                    images[:, w], y[w], mixture=room[w])["sdr_improvement"])), 1))
            print(json.dumps({"forgetting": forgetting, "offline_sdri": round(off, 1),
                              "online_sdri_per_2s": over_time}), flush=True)

        print("== online IVA tracking two talkers who move at 10 s (RT60 150 ms)")
        half = 10 * SR
        S1 = np.stack([np.resize(demo.waveforms[1], 2 * half)[:half],
                       np.resize(demo.waveforms[3], 2 * half)[:half]], 1)
        S2 = np.stack([np.resize(demo.waveforms[1], 2 * half)[half:],
                       np.resize(demo.waveforms[3], 2 * half)[half:]], 1)
        m1, i1 = make_room_mixture(S1, SR, rt60=0.15, random_state=0)
        m2, i2 = make_room_mixture(S2, SR, rt60=0.15, random_state=5)
        moved, images2 = np.concatenate([m1, m2]), np.concatenate([i1, i2], axis=1)
        per_half = [round(float(np.mean(image_scores(
            i, IVASeparator(stft=iva_stft).fit_transform(m), mixture=m)[
                "sdr_improvement"])), 1) for m, i in ((m1, i1), (m2, i2))]
        for forgetting in (0.96, 0.98):
            stream = IVASeparator(stft=iva_stft).streamer(2, forgetting=forgetting)
            y = np.concatenate([stream.process(moved[i:i + 64])
                                for i in range(0, 2 * half, 64)] + [stream.flush()])
            y = y[stream.latency_:]
            windows = [round(float(np.mean(image_scores(
                images2[:, a * SR:(a + 2) * SR], y[a * SR:(a + 2) * SR],
                mixture=moved[a * SR:(a + 2) * SR])["sdr_improvement"])), 1)
                for a in range(0, 20, 2)]
            print(json.dumps({"forgetting": forgetting, "offline_per_half": per_half,
                              "online_sdri_per_2s": windows}), flush=True)


if __name__ == "__main__":
    main()
