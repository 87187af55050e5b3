"""The shipped models as a table (no model is loaded, torch is not
imported): ``list_models()``'s repr and ``sksep models``."""

import re

from .._separate import DEFAULT_MODEL

# what each family of shipped models separates, by name prefix
_SEPARATES = (("speech8k", "any two voices, one mic"),
              ("fsdd", "digits of 4 FSDD speakers"))
_TEST = "SI-SDRi"
# a speech-vs-noise model's test figure (benchmarks/bench_noise.py)
_NOISE_HEADLINE = "noise8k test, LibriSpeech readers, 0 dB SNR"


def _speech_vs_noise(entry):
    """A class-fixed model with a 'speech' output, or one scored by
    bench_noise."""
    return ("speech" in (entry.get("classes") or ())
            or _NOISE_HEADLINE in entry.get("metrics", {}))


def _separates(name, entry):
    if _speech_vs_noise(entry):
        what = "speech from noise, one mic"
    else:
        what = next((text for prefix, text in _SEPARATES if name.startswith(prefix)),
                    f"{entry.get('n_sources', '?')} sources")
    return what + (" (default)" if name == DEFAULT_MODEL else "")


def _latency(entry):
    """A causal model's algorithmic latency: its STFT window less one sample."""
    match = re.search(r"causal\b.*?(\d+) ms window", entry.get("description", ""))
    if match is None:
        return "offline"
    n_fft = int(match.group(1)) * entry["sample_rate"] // 1000
    return f"{1000 * (n_fft - 1) / entry['sample_rate']:.1f} ms"


def _test_figure(entry):
    """SI-SDR improvement on mixtures of speakers the model never heard: for
    the speech8k models the LibriSpeech test readers (the standard corpus),
    never an average over corpora; for a speech-vs-noise model the same
    readers in noise8k test noise at 0 dB SNR."""
    metrics = entry.get("metrics", {})
    if _speech_vs_noise(entry):
        noisy = metrics.get(_NOISE_HEADLINE)
        if noisy is None:
            return "-"
        return f"{noisy['si_sdri_db']:+.1f} dB (LibriSpeech in noise, 0 dB SNR)"
    libri = metrics.get("speech8k test LibriSpeech readers, 4 s")
    if libri is not None:
        return f"{libri['si_sdri_db']:+.1f} dB (LibriSpeech readers)"
    unseen = metrics.get("unseen speakers")
    if unseen is not None:
        return f"{unseen['si_sdri_db']:+.1f} dB (FSDD speakers)"
    return "-"


def _license(entry):
    text = entry.get("license", "")
    match = re.search(r"shared under (CC[\w -]+?\d\.\d)", text)
    return match.group(1) if match else (text or "-")


def models_table(registry):
    """One row per model: name, what it separates, sample rate, latency,
    test figure (LibriSpeech readers for speech8k models, in noise at 0 dB
    SNR for speech-vs-noise models), license."""
    names = sorted(registry,                    # the default, speech8k, then fsdd
                   key=lambda n: (n != DEFAULT_MODEL, n.startswith("fsdd"), n))
    rows = [(name, _separates(name, registry[name]),
             f"{registry[name]['sample_rate'] / 1000:g} kHz", _latency(registry[name]),
             _test_figure(registry[name]), _license(registry[name])) for name in names]
    return text_table(("name", "separates", "rate", "latency", f"test {_TEST}",
                       "license"), rows)


def text_table(header, rows, *, right_align=False):
    """Columns two spaces apart under a dashed rule, lines without trailing
    spaces; the first column left-aligned, the others too, or right-aligned
    with ``right_align`` (figures). ``sksep models``, ``demo`` and
    ``evaluate`` print their tables with it."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]

    def line(cells):
        return "  ".join(str(c).rjust(w) if right_align and i else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join(line(r) for r in [header, ["-" * w for w in widths], *rows])
