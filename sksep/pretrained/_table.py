"""The shipped models as a table (no model is loaded, torch is not
imported): ``list_models()``'s repr and ``sksep models``."""

import re

from .._separate import DEFAULT_MODEL

# what each family of shipped models separates, by name prefix
_SEPARATES = (("speech8k", "any two voices, one mic"),
              ("fsdd", "digits of 4 FSDD speakers"))
_TEST = "SI-SDRi"


def _separates(name, entry):
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
    never an average over corpora."""
    metrics = entry.get("metrics", {})
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
    test figure (LibriSpeech readers for speech8k models), license."""
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
