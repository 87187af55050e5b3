"""``sksep demo``: the shipped recordings, separated three ways.

Its outputs have fixed names; the rest is the file service's
(:mod:`sksep._separate`), as for ``sksep separate``: the room separators
and the model loaded, the output folder and ``--force`` checked before any
work, every WAV written peak-normalised and atomically.
"""

from pathlib import Path

import numpy as np

from .._defaults import DEFAULT_MODEL, DEFAULT_SAMPLE_RATE
from .._separate import (
    check_output_dir,
    check_outputs,
    load_model,
    room_estimator,
    write_sources,
)
from ..pretrained._table import text_table
from ._common import _force_and_seed


def _voices(demo, speakers):
    voices = [np.concatenate([w for w, s in zip(demo.waveforms, demo.speaker)
                              if s == sp]) for sp in speakers]
    n = min(len(v) for v in voices)
    return np.stack([v[:n] for v in voices])


def _db(value, sign=False):
    """A level in dB to 0.1 dB, never '-0.0'."""
    return f"{round(float(value), 1) + 0.0:{'+' if sign else ''}.1f}"


def _row(method, voice, before, after):
    return (method, voice, _db(before), _db(after), _db(after - before, sign=True))


def cmd_demo(args):
    """Separate the shipped recordings three ways: 3 voices on 3 microphones
    mixed without echo (ICA), 2 readers in a simulated reverberant room on 2
    microphones (IVA, beside ICA, which fails there) and 2 voices on one
    microphone (the pretrained separator)."""
    from ..datasets import load_demo, make_instantaneous_mixture
    from ..metrics import pit_si_sdr, si_sdr

    out = Path(args.out)
    ica_speakers = ["george", "jackson", "theo"]
    mask_speakers = ["woman", "man"]
    paths = {"ica_mix": out / "ica_mixture.wav",
             **{f"ica_{s}": out / f"ica_{s}.wav" for s in ica_speakers},
             "room_mix": out / "room_mixture.wav",
             "room_iva_1": out / "room_voice1.wav", "room_iva_2": out / "room_voice2.wav",
             "mask_mix": out / "mask_mixture.wav",
             **{f"mask_{s}": out / f"mask_{s}.wav" for s in mask_speakers},
             "figure": out / "demo.png"}
    check_output_dir(out)
    check_outputs(paths.values(), args.force)

    demo = load_demo()
    sr = demo.sr
    # (a) 3 voices, 3 microphones, instantaneous mixing: ICA
    S = _voices(demo, ica_speakers)                       # (3, n)
    X, _ = make_instantaneous_mixture(S.T, random_state=args.random_state)
    X = X / np.abs(X).max()
    ica = room_estimator("ica", sr, random_state=args.random_state)
    S_ica = ica.fit_transform(X).T
    ica_scores, perm = pit_si_sdr(S, S_ica, zero_mean=True)
    S_ica = S_ica[perm]
    ica_before = si_sdr(S, np.broadcast_to(X[:, 0], S.shape), zero_mean=True)

    # (b) 2 voices in a reverberant room, 2 microphones: IVA (and ICA's failure)
    room_rows, room = _room_scene(args.random_state)
    room_mix, room_est = room["mixture"], room["estimates"]

    # (c) 2 voices, 1 microphone: the default pretrained mask estimator on a
    # conversation of two readers it never heard, separated as a whole
    model = load_model(DEFAULT_MODEL)
    V, mix, V_hat, masks = _conversation(model, sr)
    mask_scores = si_sdr(V, V_hat)
    mask_before = si_sdr(V, np.broadcast_to(mix, V.shape))

    rows = [_row("ICA, 3 mics", sp, b, a)
            for sp, b, a in zip(ica_speakers, ica_before, ica_scores)]
    rows += room_rows
    rows += [_row("pretrained mask, 1 mic", sp, b, a)
             for sp, b, a in zip(mask_speakers, mask_before, mask_scores)]
    print(f"sksep demo at {sr} Hz: {S.shape[1] / sr:.1f} s of three FSDD voices on "
          f"3 microphones (mixed without echo),\n{room_mix.shape[0] / sr:.0f} s of two "
          "readers in a simulated room (RT60 300 ms, 2 microphones 5 cm apart),\n"
          f"{V.shape[1] / sr:.1f} s of two LibriSpeech readers talking at once on 1 "
          "microphone\n")
    print(text_table(("method", "voice", "SI-SDR mix (dB)", "SI-SDR out (dB)",
                      "SI-SDRi (dB)"), rows, right_align=True))
    print("\nICA fails in the room: it assumes each microphone hears a fixed "
          "weighted sum of\nthe voices, but a room delays and echoes each voice, a "
          "different mix at every\nfrequency; IVA unmixes every frequency on its "
          "own and keeps the voices aligned.")
    print(
        f"\nThe mask estimator ({DEFAULT_MODEL}) separates the whole "
        f"{V.shape[1] / sr:.0f} s at once; its two\noutputs are matched to the "
        "readers by one permutation for the whole recording,\nso a voice swap "
        "anywhere would cost quality. It was trained on 411 other speakers\n"
        "(speech8k train); these two readers are speech8k test speakers it never "
        "heard." + _test_scores(DEFAULT_MODEL)
    )

    out.mkdir(parents=True, exist_ok=True)
    # write_sources peak-normalises each signal
    items = [(paths["ica_mix"], X)]
    items += [(paths[f"ica_{s}"], S_ica[k]) for k, s in enumerate(ica_speakers)]
    items += [(paths["room_mix"], room_mix)]
    items += [(paths[f"room_iva_{k + 1}"], room_est[:, k]) for k in range(2)]
    items += [(paths["mask_mix"], mix)]
    items += [(paths[f"mask_{s}"], V_hat[k]) for k, s in enumerate(mask_speakers)]
    write_sources([p for p, _ in items], [x for _, x in items], sr,
                  overwrite=args.force)
    fig = _demo_figure(X, S, S_ica, ica_scores, ica_speakers, room, mix, V, V_hat,
                       masks, mask_scores, mask_speakers, sr, model.stft_.hop_length_)
    _save_figure(fig, paths["figure"], args.force)
    print(f"\nwrote {len(items)} WAV files and {paths['figure'].name} to {out}/")
    return 0


def _room_scene(seed, sr=DEFAULT_SAMPLE_RATE, rt60=0.3):
    """A woman and a man in a simulated room, 2 microphones 5 cm apart:
    SI-SDR of each voice's image at microphone 0 before and after IVA (and
    FastICA, whose instantaneous model does not fit a room).

    Returns the table rows and, for the figure, a dict with the
    ``"mixture"`` (n, 2), the ``"images"`` (2, n, 2), IVA's ``"estimates"``
    (n, 2), their ``"si_sdr"`` and ``"perm"`` (the output matched to each
    voice, as :func:`~sksep.metrics.image_scores` gives them) and ``"who"``
    (the voices' names)."""
    from ..datasets import load_speech_demo, make_room_mixture
    from ..metrics import image_scores

    speech = load_speech_demo()
    pair = [int(np.flatnonzero(speech.sex == sex)[1]) for sex in ("F", "M")]
    n = 10 * sr
    S = np.stack([speech.waveforms[k][:n] for k in pair], axis=1)
    mix, images = make_room_mixture(S, sr, n_mics=2, mic_spacing=0.05, rt60=rt60,
                                    random_state=seed)
    rows, room, who = [], None, ("woman", "man")
    for label, est in (("IVA, room, 2 mics", room_estimator("iva", sr,
                                                            random_state=seed)),
                       ("ICA, room, 2 mics", room_estimator("ica", sr,
                                                            random_state=seed))):
        Y = est.fit_transform(mix)
        scores = image_scores(images, Y, mixture=mix)
        if room is None:
            room = {"mixture": mix, "images": images, "estimates": Y,
                    "si_sdr": scores["si_sdr"], "perm": scores["perm"], "who": who}
        before = scores["si_sdr"] - scores["si_sdr_improvement"]
        rows += [_row(label, name, b, a)
                 for name, b, a in zip(who, before, scores["si_sdr"])]
    return rows, room


def _test_scores(name):
    """The model's measured test scores, from the registry: each corpus on
    its own (they differ in difficulty)."""
    from ..pretrained import list_models

    metrics = list_models()[name].get("metrics", {})
    libri = metrics.get("speech8k test LibriSpeech readers, 4 s")
    if libri is None:
        return ""
    text = (f"\nOn 4 s mixtures of LibriSpeech readers it never heard (speech8k "
            f"test) it gains {libri['si_sdri_db']:+.1f} dB on average: "
            f"{libri['si_sdri_db_mixed_sex']:+.1f} dB for a woman and a man,\n"
            f"{libri['si_sdri_db_same_sex']:+.1f} dB for two voices of one sex")
    so = metrics.get("speech8k test speechocean762 readers, 4 s")
    if so is not None:
        text += f"; {so['si_sdri_db']:+.1f} dB on speechocean762 readers"
    return text + "\n(sksep models, benchmarks/README.md)."


def _conversation(model, sr, seconds=20):
    """A woman and a man (LibriSpeech readers, speech8k test speakers) talking
    partly at once, separated whole; outputs matched by one permutation."""
    from ..datasets import load_speech_demo, make_conversation
    from ..metrics import pit_si_sdr

    speech = load_speech_demo()
    pair = [int(np.flatnonzero(speech.sex == sex)[0]) for sex in ("F", "M")]
    mix, Y = make_conversation([[speech.waveforms[k]] for k in pair],
                               n_times=seconds * sr, random_state=0)
    scale = 0.5 / np.abs(mix).max()
    mix, Y = mix * scale, Y * scale
    est, masks = model.separate(mix, sr=sr), model.predict_masks(mix)
    _, perm = pit_si_sdr(Y[None], est[None])
    return Y, mix, est[perm[0]], masks[perm[0]]


def _demo_figure(X, S, S_ica, ica_scores, ica_speakers, room, mix, V, V_hat, masks,
                 mask_scores, mask_speakers, sr, hop):
    """The demo's figure, one block per scene: FastICA on 3 microphones and
    IVA in the room (top), the mask estimator on 1 microphone (bottom).

    Every spectrogram is titled with the mixture, an estimate or a reference
    and its voice; the room's IVA outputs are numbered as room_voice1.wav and
    room_voice2.wav and drawn in the order of ``room["who"]``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import plot_separation

    fig = plt.figure(figsize=(20, 15.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[8.5, 7])
    ica_fig, room_fig = top.subfigures(1, 2, width_ratios=[2, 3])
    # the references at the scale of the estimates (SI-SDR ignores scale)
    S = S * (np.sum(S * S_ica, axis=1) / np.sum(S * S, axis=1))[:, None]
    plot_separation(X.T, S_ica, sr, references=S, scores=ica_scores,
                    labels=ica_speakers, hop_length=hop, fig=ica_fig,
                    title="FastICASeparator: 3 voices, 3 microphones, mixed "
                    "without echo")
    # the room: each voice as microphone 1 (index 0) hears it, against the
    # IVA output matched to it
    perm, who = np.asarray(room["perm"]), room["who"]
    est = np.asarray(room["estimates"]).T[perm]              # (2, n), voice order
    refs = np.asarray(room["images"])[:, :, 0]
    refs = refs * (np.sum(refs * est, axis=1) / np.sum(refs * refs, axis=1))[:, None]
    plot_separation(np.asarray(room["mixture"]).T, est, sr, references=refs,
                    scores=room["si_sdr"], hop_length=hop, fig=room_fig,
                    labels=[f"voice {k + 1} ({name})" for k, name in zip(perm, who)],
                    reference_spectrograms=True,
                    reference_titles=[f"reference: {name} as microphone 1 hears it"
                                      for name in who],
                    title="IVASeparator: 2 readers in a reverberant room (RT60 "
                    "300 ms), 2 microphones 5 cm apart")
    plot_separation(mix, V_hat, sr, references=V, masks=masks, scores=mask_scores,
                    labels=mask_speakers, hop_length=hop, fig=bottom,
                    reference_spectrograms=True,
                    title="pretrained MaskEstimator: 2 other readers talking at "
                    "once, 1 microphone")
    return fig


def _save_figure(fig, path, force):
    import matplotlib.pyplot as plt

    from .._files import atomic_write

    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=80, format="png"),
                     overwrite=force)
    finally:
        plt.close(fig)


def add_parser(sub):
    """Register the subcommand on the ``sub`` parsers."""
    p = sub.add_parser("demo", help="separate the bundled voices: 3 mics without "
                       "echo, a room, 1 mic (no data needed)",
                       description=" ".join(cmd_demo.__doc__.split()) + " Prints "
                       "the SI-SDR of every voice before and after, and writes the "
                       "mixtures, the separated voices and a figure to --out.")
    p.add_argument("--out", default="sksep-demo",
                   help="folder for the WAV files and figure (default: %(default)s)")
    _force_and_seed(p)
    p.set_defaults(func=cmd_demo)
