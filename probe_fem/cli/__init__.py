"""The ``probe-fem`` command line."""

from probe_fem.cli.main import main

__all__ = ["main"]
