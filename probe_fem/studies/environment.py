"""R_P, τ₁ and the heat's paths against gas pressure, from one meshed and assembled model.

The mesh, the conduction and heat-capacity matrices and the exposed surface with its gaps are built once;
each pressure re-assembles only the exchange matrices (boundary triangles), then solves.  The "good enough
vacuum" is the pressure below which R_P stays within a tolerance (default 0.1 %) of its UHV value (no gas,
radiation as the design says), found by bisection on log p with full solves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from probe_fem.design.schema import Design, Environment
from probe_fem.model import dynamics
from probe_fem.model.environment import PATHS, design_in, exchange_matrices, exposed_surface
from probe_fem.model.steady import ProbeModel, build_model
from probe_fem.physics import conduction, transient
from probe_fem.progress import Stages


@dataclass(frozen=True)
class PressurePoint:
    """One pressure: R_P (K/W), slowest time constant τ₁ (s) and the share of the apex heat per path."""

    pressure_Pa: float
    R_P: float
    tau1_s: float
    shares: dict[str, float]


@dataclass
class PressureSweep:
    """A sweep: the UHV point (p = 0), the points, and the good-enough-vacuum pressure (Pa)."""

    design: str
    environment: dict[str, Any]
    dofs: int
    uhv: PressurePoint
    points: list[PressurePoint]
    tolerance: float
    good_vacuum_Pa: float | None  # None: not bracketed by the sweep's range
    notes: list[str] = field(default_factory=list)

    def change(self, point: PressurePoint) -> float:
        """R_P relative to UHV, minus 1."""
        return point.R_P / self.uhv.R_P - 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, every key with its unit."""

        def row(p: PressurePoint) -> dict[str, Any]:
            return {
                "pressure_Pa": p.pressure_Pa,
                "R_P_K_per_W": p.R_P,
                "R_P_change_from_UHV": self.change(p),
                "tau1_s": p.tau1_s,
                "heat_shares": p.shares,
            }

        return {
            "design": self.design,
            "environment": self.environment,
            "dofs": self.dofs,
            "uhv": row(self.uhv),
            "points": [row(p) for p in self.points],
            "tolerance": self.tolerance,
            "good_vacuum_Pa": self.good_vacuum_Pa,
            "notes": self.notes,
        }


class _Solver:
    """The model's pressure-independent parts, and one pressure's solve."""

    def __init__(self, model: ProbeModel) -> None:
        d = model.design
        assert d.environment is not None
        self.model, self.env, self.T = model, d.environment, d.sink.temperature_K
        self.surface = exposed_surface(d, model.probe, model.problem.sink)
        self.M = transient.capacity_matrix(model.problem, dynamics.heat_capacity(model))

    def point(self, pressure_Pa: float, modes: bool = True) -> PressurePoint:
        """R_P, heat shares and (``modes``) τ₁ at one pressure; without modes τ₁ is NaN."""
        prob = conduction.with_exchange(
            self.model.problem, exchange_matrices(self.surface, self.env, self.T, pressure_Pa)
        )
        res = conduction.solve(prob)
        tau1 = math.nan
        if modes:
            tau1 = float(transient.modes(transient.ThermalSystem.of(prob, self.M), 3).tau.max())
        shares = {k: res.heat_paths.get(k, 0.0) / res.heat_out for k in ("sink", *PATHS)}
        return PressurePoint(pressure_Pa, float(prob.sensor @ res.T) / prob.power, tau1, shares)


def pressure_sweep(
    design: Design,
    pressures_Pa: Sequence[float],
    refine: float = 1.0,
    tolerance: float = 1e-3,
    stages: Stages | None = None,
    cache: str | None = None,
) -> PressureSweep:
    """R_P, τ₁ and heat shares at each pressure (Pa) for ``design`` in its environment (or the default one:
    air, accommodation 0.9, radiation, no sample), and the pressure below which R_P is within ``tolerance``
    of its UHV value."""
    stages = stages or Stages(quiet=True)
    env = (design.environment or Environment()).model_dump()
    d = design_in(design, env | {"pressure_Pa": 0.0})
    model = build_model(d, refine, stages, cache)
    solver = _Solver(model)
    with stages("pressures", f"({len(pressures_Pa)} points and UHV, {model.dofs} dofs, one mesh)"):
        uhv = solver.point(0.0)
        points = [solver.point(p) for p in pressures_Pa]
    sweep = PressureSweep(d.name, env, model.dofs, uhv, points, tolerance, None)
    with stages("good-enough vacuum", f"(R_P within {tolerance:.2g} of UHV)"):
        sweep.good_vacuum_Pa = _threshold(solver, sweep)
    if sweep.good_vacuum_Pa is None:
        sweep.notes.append(f"R_P stays within {tolerance:.2g} of UHV over the whole range, or leaves it at its start")
    return sweep


def _threshold(solver: _Solver, sweep: PressureSweep) -> float | None:
    """Bisection on log p between the last point within the tolerance and the first beyond it, to 1 % in p;
    returns the lower end (a pressure at which R_P is still within the tolerance)."""
    inside = [abs(sweep.change(p)) <= sweep.tolerance for p in sweep.points]
    cross = next((i for i in range(1, len(inside)) if inside[i - 1] and not inside[i]), None)
    if cross is None:
        return None
    lo, hi = math.log(sweep.points[cross - 1].pressure_Pa), math.log(sweep.points[cross].pressure_Pa)
    while hi - lo > math.log(1.01):
        mid = 0.5 * (lo + hi)
        if abs(sweep.change(solver.point(math.exp(mid), modes=False))) <= sweep.tolerance:
            lo = mid
        else:
            hi = mid
    return math.exp(lo)


def log_pressures(low_Pa: float, high_Pa: float, per_decade: int = 2) -> list[float]:
    """Pressures from ``low_Pa`` to ``high_Pa`` (both > 0), ``per_decade`` per decade, log-spaced, ends included."""
    n = max(2, round(math.log10(high_Pa / low_Pa) * per_decade) + 1)
    return [float(p) for p in np.geomspace(low_Pa, high_Pa, n)]


__all__ = ["PressurePoint", "PressureSweep", "log_pressures", "pressure_sweep"]
