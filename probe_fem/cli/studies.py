"""``probe-fem study STUDY`` and ``probe-fem fit [DESIGN]``: the command-line side of studies and fits.

:func:`add_commands` adds both subcommands (their options and argument types) to the subparsers of
``probe-fem`` (``cli._parser``), which dispatches them like every other command; the commands themselves are
:func:`probe_fem.cli.study.cmd_study` and :func:`probe_fem.cli.fit.cmd_fit`.  A bad study file or bad option
prints one line per problem and exits with code 2 before any run, writing nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from probe_fem.cli.common import bounded, design_options
from probe_fem.cli.fit import cmd_fit
from probe_fem.cli.study import cmd_study

# ---------------------------------------------------------------- argument types
_count = bounded(int, 1, 1024)
_points = bounded(int, 1, None)
_step = bounded(float, 1e-6, 0.2)


def _address(text: str) -> str:
    import re

    if not re.fullmatch(r"(tcp|tls|ucx|inproc)://[^\s:/]+:\d{1,5}", text):
        raise argparse.ArgumentTypeError(f"{text!r}: give the scheduler address as tcp://HOST:PORT")
    return text


def _target(name: str) -> Callable[[str], Any]:
    def parse(text: str):
        from probe_fem.studies.targets import parse_target

        try:
            return parse_target(name, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


# ---------------------------------------------------------------- parser
def add_parser(sub: argparse._SubParsersAction) -> None:
    """The ``study`` and ``fit`` commands."""
    s = sub.add_parser(
        "study",
        help="parameter sweeps, uncertainty (Monte Carlo / Latin hypercube) and Sobol' "
        "sensitivity of R_P, τ, f−3dB on dask; resumable CSV table, figures",
    )
    s.add_argument("study", help="study TOML file")
    s.add_argument("--out", default=None, help="output folder (default: results/<study name>)")
    where = s.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        type=_address,
        default=None,
        help="run on an existing dask cluster, tcp://HOST:PORT (default: a local cluster)",
    )
    where.add_argument("--serial", action="store_true", help="no dask: evaluate the points in this process")
    s.add_argument(
        "--workers",
        type=_count,
        default=None,
        help="worker processes of the local cluster (default: the CPUs available)",
    )
    s.add_argument("--max-points", type=_points, default=None, help="stop after this many new points (resume later)")
    s.add_argument("--retry-failed", action="store_true", help="recompute points recorded as failed")
    s.add_argument("--quiet", action="store_true", help="no progress output")
    s.set_defaults(func=cmd_study, no_design=True)

    f = sub.add_parser(
        "fit",
        help="fit free design parameters to measured R_P / τ / f−3dB (least squares); writes the fitted design TOML",
    )
    design_options(f)
    f.add_argument(
        "--target-rp",
        type=_target("rp"),
        default=None,
        metavar="R±U",
        help="probe thermal resistance in K/W, e.g. 72800±500",
    )
    f.add_argument(
        "--target-tau",
        type=_target("tau"),
        default=None,
        metavar="T±U",
        help="dominant-mode time constant, e.g. 10us±3us",
    )
    f.add_argument(
        "--target-f3db",
        type=_target("f3db"),
        default=None,
        metavar="F±U",
        help="thermocouple -3 dB frequency, e.g. 11kHz±1kHz",
    )
    f.add_argument(
        "--free",
        required=True,
        help="comma-separated aliases (au_thickness, body_length, k_au, ...) or dotted keys as written "
        "in the design file (e.g. materials.au_film.k_W_mK)",
    )
    f.add_argument(
        "--bounds", default=None, help="NAME=LOW:HIGH,... in the design file's units (default: start/2 to 2·start)"
    )
    f.add_argument("--modes", type=_count, default=6, help="slowest modes computed per evaluation (default 6)")
    f.add_argument("--diff-step", type=_step, default=1e-2, help="relative finite-difference step (default 0.01)")
    f.add_argument("--max-evaluations", type=_points, default=60, help="FEM evaluations at most (default 60)")
    f.add_argument(
        "--workers",
        type=_count,
        default=1,
        help="dask worker processes for the Jacobian's columns (default 1: serial, in this process)",
    )
    f.set_defaults(func=cmd_fit)
