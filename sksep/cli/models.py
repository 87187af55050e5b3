"""``sksep models``: the shipped pretrained models, from their registry
(no model is loaded, torch is not imported)."""

from ..pretrained._table import _TEST, models_table


def cmd_models(args):
    """List the pretrained models shipped with sksep."""
    from ..pretrained import list_models

    print(models_table(list_models()))
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


def add_parser(sub):
    """Register the subcommand on the ``sub`` parsers."""
    p = sub.add_parser("models", help="list the shipped pretrained models",
                       description=cmd_models.__doc__ + " For each: what it "
                       "separates, its sample rate, its latency (causal models), "
                       "its measured test score and its license.")
    p.set_defaults(func=cmd_models)
