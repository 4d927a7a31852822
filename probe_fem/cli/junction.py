"""``probe-fem fit-junction DATA``: which transmission explains the measured dissipation (no FEM)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.table import Table

from probe_fem.constants import G0

if TYPE_CHECKING:  # the analysis package loads scipy.interpolate: imported when a value is parsed
    from probe_fem.analysis.junction_data import Measured

_G_UNITS = {"G0": G0, "S": 1.0, "mS": 1e-3, "uS": 1e-6, "µS": 1e-6, "nS": 1e-9}
_S_UNITS = {"V/K": 1.0, "mV/K": 1e-3, "uV/K": 1e-6, "µV/K": 1e-6}


def _measured(units: dict[str, float], default: str, example: str) -> Any:
    """argparse type: 'value±sigma unit' (also '+-'), the unit from ``units`` (default ``default``) → SI."""

    def parse(text: str) -> Measured:
        from probe_fem.analysis.junction_data import Measured

        t = text.replace("+-", "±").replace(" ", "").replace("−", "-")
        m = re.fullmatch(r"([-+0-9.eE]+)([A-Za-zµ/0-9]*)±([0-9.eE+-]+)([A-Za-zµ/0-9]*)", t)
        if not m:
            raise argparse.ArgumentTypeError(f"{text!r}: give value±uncertainty with a unit, e.g. {example}")
        unit = m.group(4) or m.group(2) or default
        if unit not in units or (m.group(2) and m.group(2) != unit):
            raise argparse.ArgumentTypeError(f"{text!r}: unit must be one of {', '.join(units)}")
        try:
            value, sigma = float(m.group(1)) * units[unit], float(m.group(3)) * units[unit]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: not numbers") from None
        if not (np.isfinite(value) and np.isfinite(sigma) and sigma > 0):
            raise argparse.ArgumentTypeError(f"{text!r}: finite value and uncertainty > 0")
        return Measured(value, sigma)

    return parse


def add_parser(sub: Any) -> None:
    """The ``fit-junction`` subcommand."""
    fj = sub.add_parser(
        "fit-junction",
        help="fit a Breit–Wigner transmission (HOMO or LUMO) to Q_P(±V) from "
        "analyze; fitted S, predictions with bands, residual plot",
    )
    fj.add_argument(
        "data",
        help="analysis .json written by analyze, or CSV bias_V,Q_P_W,sigma_Q_P_W[,current_A] with +V and −V rows; "
        "current_A is the current as measured, sign included (negative at −V), as analyze writes it",
    )
    fj.add_argument(
        "--conductance",
        type=_measured(_G_UNITS, "G0", "0.002G0±0.0002G0"),
        default=None,
        help="measured zero-bias conductance, e.g. 0.002G0±0.0002G0",
    )
    fj.add_argument(
        "--seebeck",
        type=_measured(_S_UNITS, "uV/K", "-14±2uV/K"),
        default=None,
        help="measured Seebeck coefficient, e.g. -14±2uV/K",
    )
    fj.add_argument("--background", action="store_true", help="also fit a flat background transmission")
    fj.add_argument("--no-currents", action="store_true", help="fit Q_P only (ignore the mean currents)")
    fj.add_argument("--out", default=None, help="output folder (default: beside DATA, <stem>-junction/)")
    fj.set_defaults(func=cmd_fit_junction, no_design=True)


def cmd_fit_junction(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.analysis.junction_data import load_junction_data
    from probe_fem.analysis.junction_fit import fit_junction
    from probe_fem.io import check_writable, write_json
    from probe_fem.plots.analysis import plot_junction_fit

    out = Path(args.out) if args.out else Path(args.data).with_name(Path(args.data).stem + "-junction")
    check_writable(out, folder=True, option="--out")
    data = load_junction_data(args.data, args.conductance, args.seebeck)
    if args.no_currents:
        data.i_plus_A = data.i_minus_A = data.sigma_i_A = None
    result = fit_junction(data, background=args.background)
    files = [
        write_json(out / "junction_fit.json", {"data": str(args.data), **result.to_dict()}),
        plot_junction_fit(data, result, out / "junction_fit.png"),
    ]
    _print(console, data, result)
    for f in files:
        console.print(f"wrote {f}")
    return 0


def _print(console: Console, data: Any, r: Any) -> None:
    pref = "" if r.delta_chi2 is None else f"; the other branch is worse by Δχ² = {r.delta_chi2:.3g}"
    t = Table(
        title=f"junction fit — {data.source}: {r.branch} (level {'below' if r.branch == 'HOMO' else 'above'} "
        f"E_F){pref}; χ²/dof = {r.chi2:.3g}/{r.dof}"
    )
    for col in ("parameter", "value", "± 1σ", "unit"):
        t.add_column(col, justify="right")
    units = {"level_eV": "eV", "gamma_eV": "eV", "division": "", "background": ""}
    for k in r.names:
        t.add_row(k, f"{r.values[k]:.4g}", f"{r.sigma[k]:.2g}", units[k])
    t.add_row("S (linear response)", f"{r.seebeck_V_per_K * 1e6:+.3g}", f"{r.seebeck_sigma_V_per_K * 1e6:.2g}", "µV/K")
    t.add_row("G", f"{r.conductance_G0:.4g}", "", "G0")
    console.print(t)
    p = r.predictions
    t = Table(title="exact asymmetry Q_P(−V) − Q_P(+V) (Eq. 1): measured and fitted; Eq. 2 beside it")
    for col in ("V (V)", "measured (nW)", "fit (nW)", "Eq. 2 / Eq. 1"):
        t.add_column(col, justify="right")
    for i, v in enumerate(data.bias_V):
        meas = data.q_minus_W[i] - data.q_plus_W[i]
        u = np.hypot(data.sigma_minus_W[i], data.sigma_plus_W[i])
        a = p["asymmetry_exact_W"]
        t.add_row(
            f"{v:.4g}",
            f"{meas * 1e9:+.4g} ± {u * 1e9:.2g}",
            f"{a['value'][i] * 1e9:+.4g} ± {a['sigma'][i] * 1e9:.2g}",
            f"{p['eq2_over_exact'][i]:.3g}",
        )
    console.print(t)
