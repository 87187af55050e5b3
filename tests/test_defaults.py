"""Defaults are defined once (sksep._defaults): the command line starts from
the values the library's functions and estimators start from."""

import inspect
import subprocess
import sys

import pytest

from sksep import IVASeparator, MaskEstimator, _defaults
from sksep._separate import check_options, separate_file
from sksep.batch import separate_files
from sksep.cli import build_parser


def defaults(func):
    return {name: p.default for name, p in inspect.signature(func).parameters.items()
            if p.default is not inspect.Parameter.empty}


def parsed(*argv):
    return vars(build_parser().parse_args(list(argv)))


@pytest.mark.parametrize("func", [separate_file, separate_files, check_options],
                         ids=lambda f: f.__name__)
def test_sksep_separate_starts_from_the_file_services_defaults(func):
    args = parsed("separate", "in.wav", "-o", "out")
    library = defaults(func)
    for name in ("fit_seconds", "chunk_seconds", "model_sr", "random_state"):
        if name in library:
            assert args[name] == library[name], name


def test_one_file_and_a_batch_share_their_defaults():
    one, many = defaults(separate_file), defaults(separate_files)
    shared = set(one) & set(many)
    assert {"fit_seconds", "chunk_seconds", "model_sr", "random_state",
            "room_method"} <= shared
    assert {k: one[k] for k in shared} == {k: many[k] for k in shared}


def test_sksep_stream_starts_from_the_online_ivas_defaults():
    args = parsed("stream", "in.wav", "-o", "out")
    online = defaults(IVASeparator.streamer)
    assert args["forgetting"] == online["forgetting"]
    assert args["warm_start"] == online["warm_start"]
    assert args["model_sr"] == defaults(separate_file)["model_sr"]


def test_sksep_train_starts_from_mask_estimators_defaults():
    args = parsed("train", "data", "-o", "model.pt")
    estimator = defaults(MaskEstimator)
    assert _defaults.TRAIN == {k: estimator[k] for k in _defaults.TRAIN}
    assert {k: args[k] for k in _defaults.TRAIN} == _defaults.TRAIN


def test_the_defaults_import_neither_torch_nor_scikit_learn():
    code = ("import sys, sksep._defaults; "
            "assert not {'torch', 'sklearn'} & set(sys.modules), 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)
