"""``.. command-help:: [SUBCOMMAND]``: the ``--help`` text of the ``skorchless`` command.

The help is produced by the installed command line itself when the pages are
built, so the page always shows the options of the version it documents.
"""

import contextlib
import io
import os

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


class CommandHelp(SphinxDirective):
    """Insert ``skorchless [SUBCOMMAND] --help`` as a literal block."""

    optional_arguments = 1

    def run(self):
        from skorchless._cli import main

        argv = [*self.arguments, "--help"]
        output = io.StringIO()
        columns = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal width
        try:
            with contextlib.redirect_stdout(output), contextlib.suppress(SystemExit):
                main(argv)
        finally:
            if columns is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = columns
        text = output.getvalue().rstrip()
        if not text:
            raise self.error(f"'skorchless {' '.join(argv)}' printed nothing")
        return [nodes.literal_block(text, text, language="text")]


def setup(app):
    app.add_directive("command-help", CommandHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
