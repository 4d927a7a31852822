"""01 — The 1-D limit: a layered bar against R = x / Σ kᵢAᵢ.

A 20 µm bar of a 0.5 µm Au-like layer (k = 200 W/(m·K)) on a 0.5 µm SiN-like
layer (k = 2.5) is held at the sink temperature at x = 0 and heated with Q on
its far end.  Away from the heated end the field is one-dimensional, so the
mean rise of the slab around x = L/2 must be Q·(L/2)/(k₁A₁ + k₂A₂).  This is
the same mesh → assembly → solve path the probe uses.

Run: ``python examples/01_layered_bar.py``
"""

from __future__ import annotations

import numpy as np

from probe_fem.mesh.bars import layered_bar
from probe_fem.mesh.core import MICRON
from probe_fem.physics import conduction as steady


def run(size_um: float = 0.35) -> dict:
    """Return the FEM and analytic transfer resistances (K/W) and the heat balance error."""
    mesh, layer = layered_bar(20.0, [0.5, 0.5], size_um=size_um)
    k = np.array([200.0, 2.5])[layer]
    prob = steady.assemble(mesh, k, power=1e-6, sensor="sensor")
    res = steady.solve(prob)
    analytic = 10 * MICRON / ((200.0 + 2.5) * 0.5 * MICRON**2)
    return {
        "fem_K_per_W": prob.sensor @ res.T / prob.power,
        "analytic_K_per_W": analytic,
        "balance_error": res.balance_error,
        "dofs": mesh.n_nodes,
    }


if __name__ == "__main__":
    r = run()
    print(
        f"FEM {r['fem_K_per_W']:,.1f} K/W, analytic {r['analytic_K_per_W']:,.1f} K/W, "
        f"relative error {abs(r['fem_K_per_W'] / r['analytic_K_per_W'] - 1):.1e}, "
        f"heat balance {r['balance_error']:.1e} ({r['dofs']} dofs)"
    )
