"""The documentation: every public name is documented, and the site builds.

The build runs the example gallery (every example trains its models), with
warnings as errors, exactly as in CI:

    python -m sphinx -W --keep-going -b html docs docs/_build/html

It builds a copy of ``docs/`` in a temporary folder, so that the generated
pages and the executed examples never land in the source tree and every run
executes every example afresh.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import skorchless

DOCS = Path(__file__).resolve().parents[1] / "docs"
GENERATED = ("_build", "generated", "auto_examples")


def test_api_reference_lists_every_public_name():
    # the entries of the autosummary tables: indented names on lines of their own
    listed = set(re.findall(r"^   (\w+)$", (DOCS / "api.rst").read_text(), flags=re.M))
    public = set(skorchless.__all__) - {"__version__"}
    assert public - listed == set(), "public names missing from docs/api.rst"
    assert listed - public == set(), "docs/api.rst lists names that are not public"


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns(*GENERATED))
    html = tmp_path / "html"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(source), str(html)],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-10000:]

    examples = sorted(p.relative_to(DOCS / "examples").with_suffix(".html")
                      for p in (DOCS / "examples").rglob("plot_*.py"))
    assert examples, "the gallery has no examples"
    for example in examples:
        page = html / "auto_examples" / example
        assert page.is_file(), f"gallery page {example} was not built"
    for name in set(skorchless.__all__) - {"__version__"}:
        assert (html / "generated" / f"skorchless.{name}.html").is_file(), name
    # the examples ran: their figures are in the built site
    assert list((html / "_images").glob("sphx_glr_plot_*_001.png"))
