"""02 — Steady calibration of the NTISTP reference design.

Load the embedded design (its unpublished dimensions fitted to R_P = 72,800 K/W,
see ``geometry/ntistp.toml``), mesh it, solve steady conduction with Q on the
apex cap and the root at T0, and read R_P = ΔT_TC/Q from the junction's mean
rise.  The heat balance (injected vs. reaction at the sink) and the energy
partition (tip, body, insulating film shares sum to R_apex) check the solution.

Run: ``python examples/02_ntistp_steady.py`` (writes ``heat_path.png`` here).
"""

from __future__ import annotations

from probe_fem import calibrate
from probe_fem.plots.fields import plot_heat_path


def run(refine: float = 1.0, figure: str | None = None) -> dict:
    """Return R_P, R_apex (K/W), the breakdown and the checks for the reference design."""
    run = calibrate(refine=refine, dynamics=False, cache=None)
    report = run.steady
    if figure:
        plot_heat_path(run.model, run.temperature, figure)
    return {
        "R_P": report.R_P,
        "R_apex": report.R_apex,
        "breakdown": report.breakdown,
        "balance_error": report.balance_error,
        "breakdown_error": report.breakdown_error,
        "dofs": report.dofs,
    }


if __name__ == "__main__":
    r = run(figure="heat_path.png")
    print(f"R_P = {r['R_P']:,.0f} K/W (published 72,800 ± 500), R_apex = {r['R_apex']:,.0f} K/W, {r['dofs']} dofs")
    print("shares of R_apex: " + ", ".join(f"{k} {v:,.0f} K/W" for k, v in r["breakdown"].items()))
    print(f"heat balance {r['balance_error']:.1e}, shares vs R_apex {r['breakdown_error']:.1e}")
