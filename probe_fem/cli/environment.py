"""``probe-fem environment [DESIGN]``: R_P, τ₁ and the heat's paths from UHV to air, on one mesh."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from probe_fem.cli.common import bounded, design_options, pressure
from probe_fem.progress import Stages

if TYPE_CHECKING:
    from probe_fem.design import Design
    from probe_fem.studies.environment import PressureSweep


def pressure_range(text: str) -> tuple[float, float]:
    """argparse type: ``LOW..HIGH`` with units (``1e-6Pa..1atm``), both > 0, LOW < HIGH; in Pa."""
    low, sep, high = text.partition("..")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r}: give LOW..HIGH with units, e.g. 1e-6Pa..1e5Pa")
    lo, hi = pressure(low), pressure(high)
    if not 0 < lo < hi:
        raise argparse.ArgumentTypeError(f"{text!r}: allowed 0 < LOW < HIGH ({lo:g} Pa, {hi:g} Pa)")
    return lo, hi


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The ``environment`` command."""
    e = sub.add_parser(
        "environment",
        help="R_P, τ1 and the heat's paths (sink, gas to the sample and surroundings, radiation) against pressure",
    )
    design_options(e)
    e.add_argument(
        "--pressures",
        type=pressure_range,
        default=(1e-6, 101325.0),
        help="LOW..HIGH with units (default 1e-6Pa..1atm); the design's [environment] or air, accommodation 0.9",
    )
    e.add_argument("--per-decade", type=bounded(int, 1, 20), default=2, help="pressures per decade (default 2)")
    e.add_argument(
        "--sample-tilt-deg",
        type=bounded(float, 0.0, 45.0),
        default=None,
        help="a sample in contact with the apex, the probe tilted by this (default: the design's sample, if any)",
    )
    e.add_argument(
        "--tolerance",
        type=bounded(float, 1e-6, 0.5),
        default=1e-3,
        help="the good-enough vacuum keeps R_P within this of UHV (default 0.001)",
    )
    e.set_defaults(func=cmd_environment)


def cmd_environment(args: argparse.Namespace, design: Design, console: Console) -> int:
    """Sweep, print, write environment.json and environment.png."""
    from probe_fem.design.schema import Environment
    from probe_fem.io import check_writable, write_json
    from probe_fem.mesh.cache import checked_cache, default_cache
    from probe_fem.model.environment import design_in
    from probe_fem.plots.studies import plot_pressure_sweep
    from probe_fem.studies.environment import log_pressures, pressure_sweep

    out = Path(args.out) if args.out else Path("results") / design.name
    check_writable(out, folder=True, option="--out")
    if args.sample_tilt_deg is not None:
        env = (design.environment or Environment()).model_dump() | {"sample": {"tilt_deg": args.sample_tilt_deg}}
        design = design_in(design, env)
    stages = Stages(quiet=args.quiet)
    low, high = args.pressures
    cache = checked_cache(default_cache())  # the mesh is calibrate's: a sweep after a calibrate does not re-mesh
    sweep = pressure_sweep(
        design, log_pressures(low, high, args.per_decade), args.refine, args.tolerance, stages, cache
    )
    _print(console, sweep)
    files = [write_json(out / "environment.json", sweep.to_dict()), plot_pressure_sweep(sweep, out / "environment.png")]
    for f in files:
        console.print(f"wrote {f}")
    return 0


def _short(pressure_Pa: float) -> str:
    """A pressure in at most 7 characters: 0.0318, 101, 1.01e5."""
    return f"{pressure_Pa:.3g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def _print(console: Console, sweep: PressureSweep) -> None:
    env = sweep.environment
    sample = "no sample" if env["sample"] is None else f"sample in contact, tilt {env['sample']['tilt_deg']:g}°"
    t = Table(title=f"{sweep.design} in {env['gas']} (accommodation {env['accommodation']:g}, {sample})")
    names = list(sweep.uhv.shares)
    short = {"gas_to_sample": "→ sample", "gas_to_surroundings": "→ around", "radiation": "radiated"}
    for col in ("p (Pa)", "R_P (K/W)", "vs UHV", "τ1 (µs)", *(short.get(n, n) for n in names)):
        t.add_column(col, justify="right")
    for label, p in (("UHV", sweep.uhv), *((_short(p.pressure_Pa), p) for p in sweep.points)):
        t.add_row(
            label,
            f"{p.R_P:,.0f}",
            f"{sweep.change(p):+.3%}",
            f"{p.tau1_s * 1e6:.4g}",
            *(f"{p.shares[n]:.2%}" for n in names),
        )
    console.print(t)
    console.print("shares of the apex heat: sink (root), gas to the sample, gas to the surroundings, radiation")
    if sweep.good_vacuum_Pa is not None:
        console.print(
            f"good-enough vacuum: below {sweep.good_vacuum_Pa:.3g} Pa R_P is within {sweep.tolerance:.2g} of UHV"
        )
    for note in sweep.notes:
        console.print(f"note: {note}")
