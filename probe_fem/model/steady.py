"""The probe's steady result: R_P, apex rise, heat balance and where the resistance sits.

``R_P = ΔT_TC / Q`` with ΔT_TC the volume-mean rise of the thermocouple
junction for heat ``Q`` deposited uniformly on the apex cap.  The breakdown
uses the energy identity Q·⟨T⟩_apex = ∫ k|∇T|² dV: each part of the probe
contributes ``∫_part k|∇T|² dV / Q²`` (K/W), and the parts add up exactly to the
apex resistance R_apex = ⟨ΔT⟩_apex / Q (a check, reported as ``breakdown_error``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from probe_fem.design.schema import Design
from probe_fem.mesh import cache as mesh_cache
from probe_fem.mesh.probe import (
    REGIONS,
    ProbeMesh,
    attempt_text,
    build_meshes,
    element_materials,
    leg_summary,
)
from probe_fem.mesh.sizing import Background
from probe_fem.model.electrical import Electrical, solve_electrical, with_resistor_readout
from probe_fem.model.environment import with_environment
from probe_fem.physics import conduction
from probe_fem.progress import Stages

PARTS = ("tip", "body", "insulating film")
EXCHANGE_PART = "exchange with the surroundings"  # a breakdown part of a probe with [environment]


@dataclass
class ProbeModel:
    """A meshed, assembled probe: everything later physics (transient, frequency) reuses."""

    design: Design
    probe: ProbeMesh
    problem: conduction.Problem
    refine: float
    electrical: Electrical | None = None  # the sensor's potential (None: its conductors have no resistivity)

    @property
    def dofs(self) -> int:
        return self.problem.K.shape[0]


def conductivity(design: Design, pm: ProbeMesh) -> np.ndarray:
    """k per element, W/(m·K), from the design's materials."""
    names, index = element_materials(design, pm)
    return np.array([design.materials[n].k_W_mK for n in names])[index]


def build_models(
    design: Design,
    levels: Sequence[float],
    stages: Stages | None = None,
    cache: str | None = None,
    background: Background | None = None,
) -> list[ProbeModel]:
    """Mesh a validated design at each level of ``levels`` (side by side) and assemble each mesh.

    A level divides all feature sizes (or ``background``'s target sizes from an earlier mesh, for
    adaptive refinement), down to the geometry's bounds; ``cache``: mesh folder, or
    :data:`~probe_fem.mesh.cache.MEMORY` (None: always mesh).  With a cache, the element geometry of a
    mesh held in memory is reused too, so a variant that changes only materials re-assembles quickly.
    """
    stages = stages or Stages(quiet=True)
    how = "adaptive sizes" if background is not None else "refine " + ", ".join(f"×{r:g}" for r in levels)
    with stages("meshing", f"(gmsh OCC, {how})"):
        meshes = build_meshes(design, levels, cache=cache, background=background, on_stage=stages)
    models = []
    for refine, pm in zip(levels, meshes):
        stages.note(
            f"mesh ×{refine:g}: {pm.mesh.n_nodes} nodes, {pm.mesh.n_elements} tetrahedra, "
            f"fingerprint {pm.mesh.fingerprint()}"
        )
        if refine == levels[-1]:
            stages.note(f"mesh ×{refine:g}: {leg_summary(design, pm)}")
        if pm.attempt:
            stages.note(f"mesh ×{refine:g}: {attempt_text(pm.attempt)}")
        with stages("assembly"):
            tets = mesh_cache.elements(pm.key) if cache is not None else None
            prob = conduction.assemble(pm.mesh, conductivity(design, pm), design.source.power_W, tets=tets)
        if cache is not None:
            mesh_cache.keep_elements(pm.key, prob.elements)
        with stages("electrical", "(potential in the sensor's films)"):
            el = solve_electrical(design, pm, prob.elements, prob.sink)
        if design.resistor is not None:
            assert el is not None  # the design's rules require the resistivities
            prob = with_resistor_readout(prob, el)  # R_P of a resistive probe is R_tip
        if design.environment is not None:
            with stages("surroundings", "(radiation and gas exchange of the exposed surface)"):
                prob = with_environment(prob, design, pm)
        models.append(ProbeModel(design, pm, prob, refine, el))
    return models


def build_model(
    design: Design,
    refine: float = 1.0,
    stages: Stages | None = None,
    cache: str | None = None,
    background: Background | None = None,
) -> ProbeModel:
    """Mesh and assemble a validated design at one level (see :func:`build_models`)."""
    return build_models(design, [refine], stages, cache, background)[0]


def part_of_elements(model: ProbeModel) -> np.ndarray:
    """Index into :data:`PARTS` for every element: insulating film, tip (above the flat stack), body."""
    m = model.probe.mesh.skfem
    zc = m.p[2, m.t].mean(axis=0)
    z_stack = model.probe.layout.z_stack * 1e-6
    part = np.where(zc > z_stack, 0, 1)
    part[m.subdomains["insulator"]] = 2
    return part


@dataclass
class SteadyReport:
    """Steady calibration quantities of one mesh (SI units)."""

    R_P: float  # K/W
    R_apex: float  # K/W
    dT_tc: float  # K
    dT_apex: float  # K
    power: float  # W
    heat_in: float  # W
    heat_out: float  # W
    breakdown: dict[str, float]  # K/W per part (and the exchange with the surroundings), sums to R_apex
    by_region: dict[str, float]  # K/W per material region
    dofs: int
    elements: int
    mesh_fingerprint: str
    solver: str
    seconds: dict[str, float] = field(default_factory=dict)
    heat_paths: dict[str, float] = field(default_factory=dict)  # W: "sink" and each exchange path

    @property
    def balance_error(self) -> float:
        return abs(self.heat_out - self.heat_in) / self.heat_in

    @property
    def breakdown_error(self) -> float:
        return abs(sum(self.breakdown.values()) - self.R_apex) / self.R_apex

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; every key carries its unit."""
        return {
            "R_P_K_per_W": self.R_P,
            "R_apex_K_per_W": self.R_apex,
            "dT_tc_K": self.dT_tc,
            "dT_apex_K": self.dT_apex,
            "power_W": self.power,
            "heat_balance": {"in_W": self.heat_in, "out_W": self.heat_out, "relative_error": self.balance_error}
            | ({"paths_W": self.heat_paths} if len(self.heat_paths) > 1 else {}),
            "resistance_breakdown_K_per_W": {
                "definition": "integral of k|grad T|^2 over the part / Q^2; parts sum to R_apex",
                "parts": self.breakdown,
                "regions": self.by_region,
                "sum_relative_error": self.breakdown_error,
            },
            "mesh": {"dofs": self.dofs, "tetrahedra": self.elements, "fingerprint": self.mesh_fingerprint},
            "solver": self.solver,
            "wall_time_s": self.seconds,
        }


def solve_steady(
    model: ProbeModel, stages: Stages | None = None, method: str = "auto"
) -> tuple[SteadyReport, np.ndarray]:
    """Solve the steady problem; return the report and the nodal temperature rise (K)."""
    stages = stages or Stages(quiet=True)
    prob = model.problem
    with stages("solve", f"({model.dofs} dofs)"):
        res = conduction.solve(prob, method=method)
    q = prob.power
    part = part_of_elements(model)
    breakdown = {
        name: conduction.dissipation(prob, res.T, np.flatnonzero(part == i)) / q**2 for i, name in enumerate(PARTS)
    }
    by_region = {r: conduction.dissipation(prob, res.T, model.probe.mesh.skfem.subdomains[r]) / q**2 for r in REGIONS}
    if prob.exchange:  # the energy identity gains ∫ h T² dS: heat that leaves before reaching the root
        breakdown[EXCHANGE_PART] = sum(float(res.T @ (H @ res.T)) for H in prob.exchange.values()) / q**2
    dT_tc = float(prob.sensor @ res.T)
    dT_apex = float(prob.source_mean @ res.T)
    report = SteadyReport(
        R_P=dT_tc / q,
        R_apex=dT_apex / q,
        dT_tc=dT_tc,
        dT_apex=dT_apex,
        power=q,
        heat_in=res.heat_in,
        heat_out=res.heat_out,
        breakdown=breakdown,
        by_region=by_region,
        dofs=model.dofs,
        elements=model.probe.mesh.n_elements,
        mesh_fingerprint=model.probe.mesh.fingerprint(),
        solver=res.info.method,
        seconds=dict(stages.seconds),
        heat_paths=res.heat_paths,
    )
    return report, res.T
