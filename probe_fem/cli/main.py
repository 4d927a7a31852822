"""The ``probe-fem`` command: one parser, and errors caught once.

A bad file or argument prints one message per problem and exits with code 2 before any
meshing, writing nothing; a failed computation (mesh, solver, fit) exits with code 1;
neither prints a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from probe_fem._version import __version__
from probe_fem.cli import analysis, calibrate, compare, environment, junction, plan, studies
from probe_fem.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, error
from probe_fem.design import load_design
from probe_fem.errors import InputError, ProbeFemError
from probe_fem.io import InterruptedAfterWriting
from probe_fem.threads import limited_blas


def _parser() -> argparse.ArgumentParser:
    """The ``probe-fem`` parser: each command module registers its own commands."""
    p = argparse.ArgumentParser(prog="probe-fem", description="Finite-element calibration of thermocouple probes")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    p.add_argument("--version", action="version", version=f"probe-fem {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for module in (calibrate, environment, analysis, plan, junction, compare, studies):
        module.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``probe-fem`` command; returns the exit code."""
    _any_console_encoding()
    args = _parser().parse_args(argv)
    console = Console()
    try:
        with limited_blas():  # every BLAS the process loads, one thread (probe_fem.threads)
            if getattr(args, "no_design", False):
                return int(args.func(args, console))
            return int(args.func(args, load_design(args.design), console))
    except InputError as exc:
        if args.debug:
            raise
        error(str(exc))
        return EXIT_BAD_INPUT
    except ProbeFemError as exc:
        if args.debug:
            raise
        error(f"{args.command} failed: {exc}")
        return EXIT_FAILED
    except OSError as exc:  # a write that failed (disk full, permissions): one line, no traceback
        if args.debug:
            raise
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        error(f"{args.command} failed: cannot write{where}: {exc.strerror or exc}")
        return EXIT_FAILED
    except InterruptedAfterWriting as exc:
        if args.debug:
            raise
        error(f"interrupted once the outputs were in place; they are complete: {', '.join(map(str, exc.paths))}")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        if args.debug:
            raise
        error("interrupted: nothing was written (files are written only at the end, each atomically)")
        return EXIT_INTERRUPTED


def _any_console_encoding() -> None:
    """Print to any console: characters its encoding lacks ("Δ" on an ASCII terminal) are escaped."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


if __name__ == "__main__":
    sys.exit(main())
