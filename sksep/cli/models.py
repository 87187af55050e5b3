"""``sksep models``: the shipped pretrained models, from their registry
(no model is loaded, torch is not imported)."""

import textwrap

from ..pretrained._table import _TEST, models_table


def cmd_models(args):
    """List the pretrained models shipped with sksep."""
    from ..pretrained import list_models

    print(models_table(list_models()))
    note = (
        f"test {_TEST}: mean SI-SDR improvement on mixtures the model never heard. "
        "Two-voice speech8k models: 4 s fully overlapped mixtures (-5..5 dB) of its "
        "LibriSpeech test readers; speechocean762 readers, noise, conversations and "
        "one voice alone are reported separately in sksep.pretrained.list_models() "
        "and benchmarks/README.md. Speech-from-noise models: the speech output on "
        "LibriSpeech test readers in noise8k test noise at 0 dB SNR (other SNRs and "
        "corpora, STOI and PESQ there too). fsdd: 0 dB mixtures of spoken digits. "
        "Other sample rates are resampled to the model's: content above half its "
        "rate is not kept. Use a model with 'sksep separate FILE --model NAME' "
        "(causal ones also with 'sksep stream').")
    print("\n" + textwrap.fill(note, width=80, break_on_hyphens=False))
    return 0


def add_parser(sub):
    """Register the subcommand on the ``sub`` parsers."""
    p = sub.add_parser("models", help="list the shipped pretrained models",
                       description=cmd_models.__doc__ + " For each: what it "
                       "separates, its sample rate, its latency (causal models), "
                       "its measured test score and its license.")
    p.set_defaults(func=cmd_models)
