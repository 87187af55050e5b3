"""``sksep models``: the shipped pretrained models, from their registry
(no model is loaded, torch is not imported)."""

import re

from ._common import DEFAULT_MODEL

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


def cmd_models(args):
    """List the pretrained models shipped with sksep."""
    from ..pretrained import list_models

    registry = list_models()
    names = sorted(registry,                    # the default, speech8k, then fsdd
                   key=lambda n: (n != DEFAULT_MODEL, n.startswith("fsdd"), n))
    rows = [(name, _separates(name, registry[name]),
             f"{registry[name]['sample_rate'] / 1000:g} kHz", _latency(registry[name]),
             _test_figure(registry[name]), _license(registry[name])) for name in names]
    print(_left_table(("name", "separates", "rate", "latency", f"test {_TEST}",
                       "license"), rows))
    print(f"\ntest {_TEST}: mean SI-SDR improvement on mixtures of two speakers the "
          "model never\nheard. speech8k: 4 s fully overlapped mixtures (-5..5 dB) of "
          "its LibriSpeech\ntest readers; speechocean762 readers, noise, "
          "conversations and one voice\nalone are reported separately in "
          "sksep.pretrained.list_models() and\nbenchmarks/README.md. fsdd: 0 dB "
          "mixtures of spoken digits. Other sample\nrates are resampled to the "
          "model's: content above half its rate is not kept.\nUse a model with "
          "'sksep separate FILE --model NAME' (causal ones also with\n'sksep "
          "stream').")
    return 0


def _left_table(header, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
                     for r in [header, ["-" * w for w in widths], *rows])


def add_parser(sub):
    """Register the subcommand on the ``sub`` parsers."""
    p = sub.add_parser("models", help="list the shipped pretrained models",
                       description=cmd_models.__doc__ + " For each: what it "
                       "separates, its sample rate, its latency (causal models), "
                       "its measured test score and its license.")
    p.set_defaults(func=cmd_models)
