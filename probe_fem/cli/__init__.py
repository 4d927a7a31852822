"""The ``probe-fem`` command line.

:func:`main` imports the commands only when called, so a Ctrl-C while they load exits with code
130 and a one-line message like one at any later moment.
"""

from __future__ import annotations

import os
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``probe-fem`` command; returns the exit code."""
    try:
        from probe_fem.cli.main import main as run

        return run(argv)
    except KeyboardInterrupt:  # while the commands load, or between two of run's own handlers
        print("interrupted: nothing was written", file=sys.stderr)
        return 130


def console_main() -> None:
    """The ``probe-fem`` script: :func:`main`'s exit code.  After Ctrl-C the process ends at once with 130
    (nothing was written): a KeyboardInterrupt that hit a module while it loaded could otherwise be raised
    again while the interpreter shuts down, and end the process by the signal instead of the code."""
    from probe_fem.io import finish_once_written

    finish_once_written()  # once an output is in place, the command finishes: interrupted means nothing written
    code = main()
    # the work is done and written: a Ctrl-C during the interpreter's shutdown (where Python's own handler is
    # gone) would otherwise end the process by the signal and hide how the command ended
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


__all__ = ["console_main", "main"]
