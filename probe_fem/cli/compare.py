"""``probe-fem compare DESIGN…``: what a design change buys, side by side (R_P, dynamics, shares)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from probe_fem.cli.common import refine_factor


def add_parser(sub: Any) -> None:
    """The ``compare`` command."""
    c = sub.add_parser(
        "compare",
        help="calibrate several designs and compare R_P, τ₁, t63, f−3dB, the highest "
        "quasi-static frequency and the heat-capacity and resistance shares; one figure",
    )
    c.add_argument("designs", nargs="+", help="design TOML files ('embedded' for the NTISTP reference)")
    c.add_argument("--refine", type=refine_factor, default=1.0, help="divide all mesh sizes by this factor")
    c.add_argument("--out", default="results/compare", help="output folder (compare.json, compare.png)")
    c.add_argument("--quiet", action="store_true", help="no progress output")
    c.set_defaults(func=cmd_compare, no_design=True)


def cmd_compare(args: argparse.Namespace, console: Console) -> int:
    """Calibrate every design (validated first), tabulate, write compare.json and compare.png."""
    from probe_fem.design import load_design
    from probe_fem.io import check_writable, write_json
    from probe_fem.pipeline import calibrate
    from probe_fem.plots.dynamics import plot_compare
    from probe_fem.progress import Stages

    out = check_writable(args.out, folder=True, option="--out")
    designs = [load_design(None if d == "embedded" else d) for d in args.designs]  # all validated first
    runs = [calibrate(d, args.refine, progress=Stages(quiet=args.quiet)) for d in designs]
    rows = [_row(run) for run in runs]
    files = [
        write_json(out / "compare.json", {"refine": args.refine, "designs": rows}),
        plot_compare([r["design"] for r in rows], [r.dynamics for r in runs if r.dynamics], out / "compare.png"),
    ]
    console.print(_table(rows, args.refine))
    for f in files:
        console.print(f"wrote {f}")
    return 0


def _row(run: Any) -> dict[str, Any]:
    """A design's figures for the comparison (SI units, the unit in each key)."""
    from probe_fem.model.dynamics import capacity_shares

    dyn, s = run.dynamics, run.steady
    assert dyn is not None
    m = dyn.modes
    return {
        "design": run.design.name,
        "R_P_K_per_W": s.R_P,
        "R_apex_K_per_W": s.R_apex,
        "tau1_s": float(m.tau[0]),
        "tau1_weight_tc": float(m.weight_tc[0]),
        "t63_s": dyn.t63,
        "f_3dB_Hz": dyn.f_3dB,
        "max_quasi_static_Hz": dyn.verdict.max_frequency,
        "heat_capacity_J_per_K": capacity_shares(run.model),
        "resistance_K_per_W": s.breakdown,
        "dofs": s.dofs,
        "discretization_relative_change": dyn.discretization,
    }


def _table(rows: list[dict[str, Any]], refine: float) -> Table:
    t = Table(title=f"design comparison (refine ×{refine:g}; tolerance 1e-3 for the quasi-static frequency)")
    t.add_column("quantity")
    for r in rows:
        t.add_column(r["design"], justify="right")
    table: list[tuple[str, list[str]]] = [
        ("R_P (K/W)", [f"{r['R_P_K_per_W']:,.0f}" for r in rows]),
        ("R_apex (K/W)", [f"{r['R_apex_K_per_W']:,.0f}" for r in rows]),
        ("τ₁ (µs), weight at TC", [f"{r['tau1_s'] * 1e6:.4g}, {r['tau1_weight_tc']:.2f}" for r in rows]),
        ("t63 (µs)", [f"{r['t63_s'] * 1e6:.4g}" for r in rows]),
        ("f−3dB (Hz)", [f"{r['f_3dB_Hz']:.4g}" for r in rows]),
        ("highest quasi-static frequency (Hz)", [f"{r['max_quasi_static_Hz']:.4g}" for r in rows]),
    ]
    for part in rows[0]["heat_capacity_J_per_K"]:
        cells = [f"{r['heat_capacity_J_per_K'][part] * 1e12:.4g}" for r in rows]
        table.append((f"heat capacity: {part} (pJ/K)", cells))
    for part in rows[0]["resistance_K_per_W"]:
        table.append((f"resistance share: {part} (K/W)", [f"{r['resistance_K_per_W'][part]:,.0f}" for r in rows]))
    table.append(("dofs", [f"{r['dofs']:,}" for r in rows]))
    for label, cells in table:
        t.add_row(label, *cells)
    return t
