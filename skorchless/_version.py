"""The version of skorchless, read by the package, pickling, the safe format and the CLI."""

__version__ = "0.2.0.dev0"
