"""What every command shares: exit codes, error output, bounded-number arguments, quantity tables."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from rich.console import JustifyMethod
from rich.table import Table

from probe_fem.design.messages import interval_text

EXIT_FAILED = 1  # a computation failed (mesh, solver, fit)
EXIT_BAD_INPUT = 2  # a file or argument the user handed in cannot be used; nothing was written
EXIT_INTERRUPTED = 130


def error(text: str) -> None:
    """Errors go to stderr unwrapped, one problem per line, so scripts can grep them."""
    print(text, file=sys.stderr)


def bounded(
    cast=float,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    unit: str = "",
):
    """argparse type: a number of type ``cast`` within [lo, hi] (or open ends); the error names the range."""

    def parse(text: str):
        try:
            value = cast(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if cast is int else 'a number'}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r}: a finite number is needed")
        if cast is int and abs(value) > 2**62:
            raise argparse.ArgumentTypeError(f"{text!r}: too large")
        below = lo is not None and (value <= lo if lo_open else value < lo)
        above = hi is not None and (value >= hi if hi_open else value > hi)
        if below or above:
            raise argparse.ArgumentTypeError(f"{value:g}: {interval_text(lo, hi, lo_open, hi_open, unit=unit)}")
        return value

    return parse


refine_factor = bounded(float, 0.1, 16)  # mesh refine factor
frequency = bounded(float, 0, 1e9, lo_open=True, unit="Hz")
positive = bounded(float, 0, None, lo_open=True)
fraction = bounded(float, 0, 1, lo_open=True, hi_open=True)


def pressure(text: str) -> float:
    """argparse type: a pressure with its unit, in Pa."""
    from probe_fem.errors import InputError
    from probe_fem.units import parse_pressure

    try:
        return parse_pressure(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def design_options(sp: argparse.ArgumentParser) -> None:
    """DESIGN, --out, --refine, --quiet: the options of every command on a design."""
    sp.add_argument(
        "design", nargs="?", default=None, help="design TOML file (default: the embedded NTISTP reference design)"
    )
    sp.add_argument("--out", default=None, help="output folder (default: results/<design name>)")
    sp.add_argument("--refine", type=refine_factor, default=1.0, help="divide all mesh sizes by this factor")
    sp.add_argument("--quiet", action="store_true", help="no progress output")


DEFAULT_CALIBRATION = "calib/ntistp.json"  # what `probe-fem calibrate` writes in the current folder


def calibration_path(given: str | None, quiet: bool = False) -> Path:
    """The calibration a command reads: ``given``; else calib/ntistp.json in the current folder when it
    exists (what ``probe-fem calibrate`` wrote here); else the one shipped in the package.  Says which."""
    from probe_fem.calibration.schema import embedded_calibration_path

    if given is not None:
        return Path(given)
    here = Path(DEFAULT_CALIBRATION)
    path, why = (here, "in this folder") if here.is_file() else (embedded_calibration_path(), "shipped in the package")
    if not quiet:
        print(f"calibration: {path} ({why})", file=sys.stderr)
    return path


def quantity_table(title: str, rows: list[tuple[str, str, str]]) -> Table:
    """A quantity / value / unit table."""
    t = Table(title=title)
    columns: tuple[tuple[str, JustifyMethod], ...] = (("quantity", "left"), ("value", "right"), ("unit", "left"))
    for col, just in columns:
        t.add_column(col, justify=just)
    for row in rows:
        t.add_row(*row)
    return t
