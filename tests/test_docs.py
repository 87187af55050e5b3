"""The API reference lists every public name; the docs build runs in CI."""

import re
from pathlib import Path

import sksep

ROOT = Path(__file__).resolve().parents[1]


def test_api_reference_lists_every_public_name():
    api = (ROOT / "docs" / "api.rst").read_text()
    sections = dict(re.findall(r"``sksep\.(\w+)``\n-+\n(.*?)(?=\n``sksep\.|\Z)", api,
                               flags=re.S))
    for module in sksep._SUBMODULES:
        assert module in sections, f"sksep.{module} has no section in docs/api.rst"
        listed = set(re.findall(r"^   (\w+)$", sections[module], flags=re.M))
        missing = set(getattr(sksep, module).__all__) - listed
        assert not missing, f"sksep.{module}: {sorted(missing)} not in docs/api.rst"
    for name in sksep._ESTIMATORS:
        assert f"``sksep.{name}``" in api


def test_ci_builds_the_docs_with_warnings_as_errors():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"sphinx -W .*-b html docs", ci)


def test_every_gallery_example_draws_a_figure():
    examples = sorted((ROOT / "examples").glob("plot_*.py"))
    assert len(examples) >= 5
    for path in examples:
        text = path.read_text()
        assert re.search(r"plot_\w+\(|plt\.subplots|\.bar\(", text), path.name
