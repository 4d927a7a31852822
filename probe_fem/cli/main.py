"""The ``probe-fem`` command: one parser, and errors caught once.

A bad file or argument prints one message per problem and exits with code 2 before any
meshing, writing nothing; a failed computation (mesh, solver, fit) exits with code 1;
neither prints a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console

from probe_fem import paper
from probe_fem._version import __version__
from probe_fem.cli import calibrate as cc
from probe_fem.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, bounded, error
from probe_fem.cli.compare import add_compare_command
from probe_fem.cli.junction import add_junction_command
from probe_fem.cli.plan import add_noise_options, add_plan_command, duration
from probe_fem.cli.studies import add_commands
from probe_fem.design import load_design
from probe_fem.errors import InputError, ProbeFemError
from probe_fem.threads import limited_blas


def _analysis(name: str) -> Callable[..., Any]:
    """The analysis command ``name``, imported when it runs: its modules (scipy.interpolate, the trace
    readers) took 0.6 s of every command's start-up, ``calibrate``'s included."""

    def run(*args: Any) -> Any:
        return getattr(importlib.import_module("probe_fem.cli.analysis"), name)(*args)

    return run


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="probe-fem", description="Finite-element calibration of thermocouple probes")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    p.add_argument("--version", action="version", version=f"probe-fem {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "design", nargs="?", default=None, help="design TOML file (default: the embedded NTISTP reference design)"
        )
        sp.add_argument("--out", default=None, help="output folder (default: results/<design name>)")
        sp.add_argument("--refine", type=_positive, default=1.0, help="divide all mesh sizes by this factor")
        sp.add_argument("--quiet", action="store_true", help="no progress output")

    c = sub.add_parser(
        "calibrate",
        help="R_P, breakdown, modes, step and frequency response, modulation verdict; writes JSON, VTU, PNG",
    )
    common(c)
    c.add_argument(
        "--solver",
        choices=("auto", "direct", "amg"),
        default="auto",
        help="steady solver; auto: the fastest installed for the size, named in the report",
    )
    c.add_argument("--calib", default=None, help="calibration file to write (default: calib/<design name>.json)")
    c.add_argument(
        "--no-cache",
        action="store_true",
        help="always re-mesh (default: reuse meshes cached by geometry in $PROBE_FEM_CACHE "
        "or ~/.cache/probe-fem/meshes)",
    )
    c.add_argument("--verify-step", action="store_true", help="also step the full model in time (BDF2) as a check")
    c.add_argument(
        "--accuracy",
        type=accuracy,
        default=None,
        help="mesh adaptively until the estimated relative error of R_P is within this, e.g. 0.1%% or 0.001 "
        "(the first mesh is the design's sizes ÷ refine/2)",
    )
    c.set_defaults(func=cc.cmd_calibrate)
    m = sub.add_parser("mesh", help="write the mesh only (VTU with region ids)")
    common(m)
    m.set_defaults(func=cc.cmd_mesh)
    mo = sub.add_parser("modulation", help="how faithfully phase-averaged ΔT_TC follows a three-level modulation")
    common(mo)
    mo.add_argument(
        "--frequency",
        type=_frequency,
        default=paper.MODULATION_FREQUENCY_HZ,
        help=f"modulation frequency, Hz (default {paper.MODULATION_FREQUENCY_HZ:g}, the paper's)",
    )
    mo.add_argument("--tolerance", type=_fraction, default=1e-3, help="relative tolerance (default 1e-3)")
    mo.add_argument(
        "--levels",
        type=_levels,
        default=(1.0, 0.0, 0.8),
        help="relative heat in the +V, 0, -V phases (default 1,0,0.8)",
    )
    mo.set_defaults(func=cc.cmd_modulation)
    n = sub.add_parser("network", help="validity of Q_P = ΔT_TC/R_P against junction and substrate resistances")
    common(n)
    g = n.add_mutually_exclusive_group()
    g.add_argument("--junction-conductance", help="electrical conductance, e.g. 1G0 or 7.7e-5S (Wiedemann-Franz)")
    g.add_argument("--junction-resistance", help="thermal resistance R_J, e.g. 1e7K/W")
    g.add_argument("--molecule", choices=("au", "bdnc", "bda"), help="the paper's junction classes")
    n.add_argument("--phonon-conductance", help="phonon thermal conductance, e.g. 30pW/K (adds to the electronic)")
    n.add_argument("--contact-radius-nm", type=_positive_any, default=10.0, help="substrate hot-spot radius, nm")
    n.add_argument("--substrate-k", type=_positive_any, default=317.0, help="substrate conductivity, W/(m K)")
    n.add_argument("--ratio-max", type=_positive_any, default=4.0, help="largest Q_S/Q_P considered")
    n.add_argument("--tolerance", type=_fraction, default=1e-3)
    n.add_argument("--substrate-fem", action="store_true", help="also solve R_S by axisymmetric FEM")
    n.set_defaults(func=cc.cmd_network)
    e = sub.add_parser("export", help="convert a JSON calibration to csv or mat")
    e.add_argument("calibration", help="calibration JSON file")
    e.add_argument("--format", choices=("csv", "mat", "json"), required=True)
    e.add_argument("--out", default=None, help="target file (default: beside the input, new suffix)")
    e.set_defaults(func=_analysis("cmd_export"), no_design=True)
    la = sub.add_parser("landauer", help="Q_P, Q_S, Q_total per bias from a transmission model (paper Eq. 1)")
    la.add_argument("--model", choices=("bdnc", "bda", "au"), default="bdnc")
    la.add_argument("--table", default=None, help="transmission table: two columns, E - E_F (eV) and tau")
    la.add_argument("--bias", default="0.74,0.95,1.08,1.18,1.27", help="comma-separated amplitudes (V)")
    la.set_defaults(func=_analysis("cmd_landauer"), no_design=True)
    si = sub.add_parser("simulate", help="synthetic three-level modulation traces for a junction model")
    si.add_argument("--model", choices=("bdnc", "bda", "au"), default="bdnc")
    si.add_argument("--bias", default="0.74,0.95,1.08,1.18,1.27", help="comma-separated V_M (V)")
    si.add_argument(
        "--calibration",
        default=None,
        help="calibration JSON (default: calib/ntistp.json when it is in this folder, else the shipped one)",
    )
    si.add_argument("--junctions", type=bounded(int, 1, 1000), default=10, help="junction segments per V_M")
    si.add_argument("--seconds", type=bounded(float, 0.01, 3600, unit="s"), default=5.0, help="seconds per junction")
    si.add_argument(
        "--fs", type=bounded(float, 10, 1e6, unit="Hz"), default=paper.SAMPLE_RATE_HZ, help="sampling frequency (Hz)"
    )
    si.add_argument(
        "--frequency", type=_frequency, default=paper.MODULATION_FREQUENCY_HZ, help="modulation frequency (Hz)"
    )
    si.add_argument("--sequence", choices=("+0-", "+0-0"), default="+0-", help="bias phases per period")
    si.add_argument(
        "--drift-nV", type=bounded(float, 0, 1e9), default=50.0, help="slow sinusoidal baseline wander, amplitude (nV)"
    )
    add_noise_options(si)
    si.add_argument(
        "--spread", type=bounded(float, 0, 1), default=0.05, help="relative junction-to-junction conductance spread"
    )
    si.add_argument("--seed", type=bounded(int, 0, 2**32 - 1), default=0)
    si.add_argument("--out", default="traces.npz", help="traces file (.npz or .csv)")
    si.add_argument("--quiet", action="store_true", help="no progress output")
    si.set_defaults(func=_analysis("cmd_simulate"), no_design=True)
    an = sub.add_parser("analyze", help="demodulate traces into ΔT_TC,Avg, Q_P,Avg, Q_Total,Avg per V_M; plot")
    an.add_argument("traces", help="traces file (.npz or .csv with t_s,V_TC_V,bias_V,I_A[,segment])")
    an.add_argument(
        "--calibration",
        default=None,
        help="calibration JSON (default: calib/ntistp.json when it is in this folder, else the shipped one)",
    )
    an.add_argument(
        "--frequency", type=_frequency, default=paper.MODULATION_FREQUENCY_HZ, help="modulation frequency (Hz)"
    )
    an.add_argument(
        "--dead-time",
        type=duration,
        default=None,
        help="excluded after each phase's first sample, e.g. 5ms (default: the probe's t999)",
    )
    an.add_argument("--model", choices=("bdnc", "bda", "au"), default=None, help="overlay Landauer predictions")
    an.add_argument(
        "--out", default=None, help="figure, a .png; its data go beside it as .json (default: beside the traces)"
    )
    an.add_argument("--quiet", action="store_true", help="no progress output")
    an.set_defaults(func=_analysis("cmd_analyze"), no_design=True)
    add_plan_command(sub)
    add_junction_command(sub)
    add_compare_command(sub, _positive)
    add_commands(sub, common)  # study, fit
    v = sub.add_parser(
        "converge",
        help="mesh-refinement study of R_P with Richardson extrapolation: "
        "levels at refine/2, refine, 2·refine, ... (the calibrate mesh is the second level)",
    )
    common(v)
    v.add_argument("--levels", type=int, choices=range(2, 6), default=3, metavar="{2..5}")
    v.set_defaults(func=cc.cmd_converge)
    return p


_positive = bounded(float, 0.1, 16)  # mesh refine factor
_frequency = bounded(float, 0, 1e9, lo_open=True, unit="Hz")
_positive_any = bounded(float, 0, None, lo_open=True)
_fraction = bounded(float, 0, 1, lo_open=True, hi_open=True)


def accuracy(text: str) -> float:
    """argparse type of ``--accuracy``: a relative error as a fraction ("0.001") or a percentage ("0.1%")."""
    t = text.strip()
    percent = t.endswith("%")
    value = bounded()(t[:-1].strip() if percent else t)
    value = value / 100 if percent else value
    from probe_fem.model.adapt import ACCURACY_RANGE

    lo, hi = ACCURACY_RANGE
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(f"{text!r}: allowed [{lo:g}, {hi:g}] (a fraction) or [0.001%, 50%]")
    return float(value)


def _levels(text: str) -> tuple[float, float, float]:
    parts = [bounded()(p) for p in text.split(",")]
    if len(parts) != 3 or min(parts) < 0 or parts[0] == parts[1] or parts[2] == parts[1]:
        raise argparse.ArgumentTypeError(
            f"{text!r}: three heat levels >= 0 for +V,0,-V, the bias phases different from the 0 V phase"
        )
    return tuple(parts)


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
