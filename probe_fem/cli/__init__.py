"""The ``probe-fem`` command line.

:func:`main` imports the commands only when called, so a Ctrl-C while they load exits with code
130 and a one-line message like one at any later moment.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``probe-fem`` command; returns the exit code."""
    try:
        from probe_fem.cli.main import main as run
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    return run(argv)


__all__ = ["main"]
