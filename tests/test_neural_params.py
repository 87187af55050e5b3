"""The deep separators' parameters stay in step: every parameter of the
signature has a constraint and a documented entry whose default is the
signature's, in the signature's order, and the parameters both share
are written once (sksep.neural._params) and mean the same in both."""

import ast
import inspect
import re

import pytest
from numpydoc.docscrape import ClassDoc

from sksep import CNNAutoencoderSeparator, MaskEstimator
from sksep.neural._params import COMMON_CONSTRAINTS

ESTIMATORS = [MaskEstimator, CNNAutoencoderSeparator]
# shared names whose default (and so whose doc) differs on purpose
OWN_DEFAULTS = {"loss", "permutation_invariant"}


def _signature(cls):
    return {name: p.default
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self"}


def _documented(cls):
    return ClassDoc(cls)["Parameters"]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_has_a_constraint_and_an_entry_with_its_default(cls):
    signature = _signature(cls)
    assert set(cls._parameter_constraints) == set(signature)
    entries = _documented(cls)
    assert [p.name for p in entries] == list(signature)     # in order, once each
    for p in entries:
        default = p.type.rsplit("default=", 1)[1]
        assert ast.literal_eval(default) == signature[p.name], p.name
        assert p.desc, f"{p.name} has no description"


def test_the_shared_parameters_are_the_same_in_both():
    mask, cnn = (_signature(cls) for cls in ESTIMATORS)
    shared = set(mask) & set(cnn)
    assert shared == set(COMMON_CONSTRAINTS)
    for name in shared - OWN_DEFAULTS:
        assert mask[name] == cnn[name], name
    docs = [{p.name: (p.type, p.desc) for p in _documented(cls)} for cls in ESTIMATORS]
    for name in shared - OWN_DEFAULTS - {"n_sources"}:
        assert docs[0][name] == docs[1][name], name
    for cls in ESTIMATORS:                     # every shared-docs marker filled
        assert not re.search(r"^ *\{\w+\} *$", cls.__doc__, flags=re.MULTILINE)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_init_stores_every_argument_unchanged(cls):
    values = {name: object() for name in _signature(cls)}
    est = cls(**values)
    assert all(getattr(est, name) is value for name, value in values.items())
    assert set(vars(est)) == set(values)


@pytest.mark.parametrize("cls", [MaskEstimator, CNNAutoencoderSeparator])
def test_stft__n_fft_tunes_the_default_front_end(cls):
    # the default (256-sample windows, 64-sample hop) made explicit when a
    # nested parameter is set, the hop a quarter of the tuned window
    est = cls().set_params(stft__n_fft=512)
    assert est.stft.get_params()["n_fft"] == 512
    assert est.stft.fit([[0.0] * 1024]).hop_length_ == 128
    same = cls().set_params(stft__window="hann").stft.fit([[0.0] * 1024])
    assert (same.n_fft, same.hop_length_) == (256, 64)
