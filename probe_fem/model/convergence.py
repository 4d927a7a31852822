"""Mesh-convergence study: R_P under uniform refinement steps, observed order, Richardson value.

One refinement step divides every target mesh size (apex, thermocouple, far
field) by ``ratio`` (default 2) and remeshes.  With three or more levels the
observed order is p = ln((R₁−R₂)/(R₂−R₃)) / ln(ratio) from the last three, and
the Richardson estimate is R₃ + (R₃−R₂)/(ratioᵖ − 1).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from probe_fem.design.schema import Design
from probe_fem.model.steady import SteadyReport, build_model, solve_steady
from probe_fem.progress import Stages


@dataclass
class ConvergenceStudy:
    """R_P (K/W) on successively refined meshes."""

    ratio: float
    refine: list[float]
    reports: list[SteadyReport]

    @property
    def values(self) -> list[float]:
        return [r.R_P for r in self.reports]

    @property
    def changes(self) -> list[float]:
        """Relative change of R_P at each refinement step."""
        v = self.values
        return [abs(b - a) / abs(b) for a, b in itertools.pairwise(v)]

    @property
    def order(self) -> float | None:
        """Observed order of convergence; None if the last three values are not monotone."""
        return observed_order(self.values, self.ratio)

    @property
    def extrapolated(self) -> float | None:
        """Richardson-extrapolated R_P (K/W); None without a defined order."""
        return richardson(self.values, self.ratio)

    def to_dict(self) -> dict:
        return {
            "ratio": self.ratio,
            "levels": [
                {
                    "refine": f,
                    "dofs": r.dofs,
                    "tetrahedra": r.elements,
                    "R_P_K_per_W": r.R_P,
                    "mesh_fingerprint": r.mesh_fingerprint,
                }
                for f, r in zip(self.refine, self.reports)
            ],
            "relative_changes": self.changes,
            "observed_order": self.order,
            "R_P_extrapolated_K_per_W": self.extrapolated,
        }


def observed_order(values: list[float], ratio: float) -> float | None:
    """Order p from the last three values of a sequence refined by ``ratio`` per step."""
    if len(values) < 3:
        return None
    r1, r2, r3 = values[-3:]
    d1, d2 = r2 - r1, r3 - r2
    if d1 == 0 or d2 == 0 or (d1 > 0) != (d2 > 0):
        return None
    return math.log(d1 / d2) / math.log(ratio)


def richardson(values: list[float], ratio: float) -> float | None:
    """Richardson extrapolation with the observed order."""
    p = observed_order(values, ratio)
    if p is None:
        return None
    return values[-1] + (values[-1] - values[-2]) / (ratio**p - 1)


def study(
    design: Design, levels: int = 3, ratio: float = 2.0, start: float = 1.0, stages: Stages | None = None
) -> ConvergenceStudy:
    """Solve ``levels`` meshes with sizes divided by start, start·ratio, start·ratio², ..."""
    stages = stages or Stages(quiet=True)
    refine = [start * ratio**i for i in range(levels)]
    reports = []
    for f in refine:
        model = build_model(design, refine=f, stages=stages)
        report, _ = solve_steady(model, stages=stages)
        stages.note(f"refine ×{f:g}: {report.dofs} dofs, R_P = {report.R_P:,.1f} K/W")
        reports.append(report)
    return ConvergenceStudy(ratio=ratio, refine=refine, reports=reports)
