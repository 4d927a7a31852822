"""03 — Mesh convergence of R_P and the Richardson estimate.

Solve the reference design on three meshes whose target sizes differ by a
factor 2 (the calibrate mesh in the middle), compute the observed order
p = ln((R₁−R₂)/(R₂−R₃))/ln 2 and the Richardson-extrapolated R_P.  The change
under the last refinement step is the discretisation uncertainty of R_P.

Run: ``python examples/03_mesh_convergence.py`` (about a minute; writes ``convergence.png``).
"""

from __future__ import annotations

from probe_fem import load_design
from probe_fem.model.convergence import study
from probe_fem.plots.fields import plot_convergence


def run(start: float = 0.5, levels: int = 3, figure: str | None = None) -> dict:
    s = study(load_design(), levels=levels, start=start)
    if figure:
        plot_convergence(s, figure)
    return {
        "values": s.values,
        "changes": s.changes,
        "order": s.order,
        "extrapolated": s.extrapolated,
        "dofs": [r.dofs for r in s.reports],
    }


if __name__ == "__main__":
    r = run(figure="convergence.png")
    for d, v in zip(r["dofs"], r["values"]):
        print(f"{d:>9,} dofs  R_P = {v:,.1f} K/W")
    print(f"observed order {r['order']:.2f}, Richardson R_P = {r['extrapolated']:,.1f} K/W")
