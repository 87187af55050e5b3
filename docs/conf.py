"""Sphinx configuration of the sksep documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(warnings are errors; the gallery examples run during the build).
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sksep  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "sksep"
author = "The sksep developers"
copyright = "2026, The sksep developers"
version = release = sksep.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "pydata_sphinx_theme"
html_title = f"sksep {release}"
html_static_path = ["_static"]
# long API titles wrap rather than being cut off (docs/_static/sksep.css)
html_css_files = ["sksep.css"]
html_theme_options = {"navigation_with_keys": False, "show_prev_next": False}

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
# Document what sksep defines (and its mixins); members inherited from
# scikit-learn or torch are documented there, except the estimator basics.
_KEEP_FOREIGN = {"fit_transform", "get_params", "set_params"}


def _skip_foreign_members(app, what, name, obj, skip, options):
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and not module.startswith("sksep") and name not in _KEEP_FOREIGN:
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = {"PR01", "RT01", "GL08", "EX01", "SA01"}
numpydoc_validation_exclude = {
    r"\.__init__$", r"\.set_output$", r"\.set_params$", r"\.get_params$",
    r"\.get_metadata_routing$", r"\.set_\w+_request$", r"\.fit_transform$",
    r"\.get_feature_names_out$", r"\.__sklearn_tags__$", r"\.forward$",
    r"\.BSSEvalResult", r"\.FSDD_SPEAKERS$", r"Warning\.(add_note|with_traceback)$",
    # methods document their parameters; the class Examples show their use
    r"\.(fit|partial_fit|transform|inverse_transform|separate|predict_masks|score"
    r"|to_spectrogram|from_spectrogram|streamer|process|flush|stepper|activate)$",
    r"\.SPEECH8K_SPLITS$",
}

# The build machine has no access to the other projects' documentation
# servers, so references to them are plain links rather than intersphinx.
extlinks = {
    "sklearn": ("https://scikit-learn.org/stable/%s", "%s"),
    "skorch": ("https://skorch.readthedocs.io/en/stable/%s", "%s"),
    "librosa": ("https://librosa.org/doc/latest/%s", "%s"),
    "numpy": ("https://numpy.org/doc/stable/%s", "%s"),
    "torch": ("https://pytorch.org/docs/stable/%s", "%s"),
    # files of the repository that are not part of these pages
    "repo": ("https://github.com/sksep/sksep/blob/main/%s", "%s"),
}

# Examples that read the corpora of ../shared/data (not shipped with sksep)
# are left out of a build on a machine without them, and say so.
_CORPORA = (ROOT.parent / "shared" / "data").is_dir() or (
    "SKSEP_SPEECH8K" in os.environ and "SKSEP_NOISE8K" in os.environ)
_NEEDS_CORPORA = r"plot_09_multiclass_isolation"
if not _CORPORA:
    print(f"sksep docs: no ../shared/data, leaving out examples {_NEEDS_CORPORA}")

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py" if _CORPORA else _NEEDS_CORPORA,
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
}
