"""The probe in its surroundings: radiation and gas conduction from every exposed surface, to the sample and away.

Each exposed triangle of the probe (every outer face but the root's) loses q = h·T, T its rise above the
surroundings, which are at the sink's temperature like the sample:

* radiation, h = 4εσT³ with the emissivity of the material behind the face;
* gas, h = k/(g + 2βλ) (:mod:`probe_fem.physics.gas`): the share n·d of a face's area that faces the
  sample (n its outward normal, d the direction to the sample) exchanges across its gap ``g`` to the
  sample plane (the plane through the probe's lowest point, the apex, tilted by the mounting angle) if
  the gap is below the surroundings length ``L``; the rest of its area, and every face without a
  sample, across ``L`` (default: the body's width) to the surroundings.

The gas holds no heat and moves none by convection: exact enough across a gap to the sample (its
diffusion time across 1 µm is ~50 ns), an approximation for the surroundings, whose diffusion time L²/α
(6.5 µs for 12 µm, 210 µs for 68 µm) is of the order of the probe's τ₁.  The exposed surface and its
gaps are computed once per mesh; a new pressure re-assembles only the boundary matrices (no re-meshing,
no new conduction matrix).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from probe_fem.design.schema import Design, DesignError, Environment
from probe_fem.mesh.probe import ProbeMesh, element_materials
from probe_fem.physics import conduction
from probe_fem.physics.exchange import Surface, exterior, robin
from probe_fem.physics.gas import GASES, gas_h, radiation_h

SAMPLE, SURROUNDINGS, RADIATION = "gas_to_sample", "gas_to_surroundings", "radiation"
PATHS = (SAMPLE, SURROUNDINGS, RADIATION)  # heat paths besides the "sink" (the root), as keys in every output
LABELS = {
    "sink": "sink (root)",
    SAMPLE: "gas to the sample",
    SURROUNDINGS: "gas to the surroundings",
    RADIATION: "radiation",
}


@dataclass(frozen=True)
class ExposedSurface:
    """The probe's exposed triangles with what the exchange needs, pressure-independent (SI units)."""

    surface: Surface
    emissivity: np.ndarray  # per triangle: its material's (0 without radiation)
    gap: np.ndarray  # 3 × nf: gas gap to the sample plane at each edge midpoint, m (capped at ``far``)
    facing: np.ndarray  # per triangle: the share of its area that faces the sample within reach, n·d ∈ [0, 1]
    far: float  # gas gap to the surroundings, m
    n_nodes: int


def sample_direction(tilt_deg: float) -> np.ndarray:
    """Unit vector from the probe towards the sample (the tip points along +z, the root is at x = 0)."""
    a = math.radians(tilt_deg)
    return np.array([math.sin(a), 0.0, math.cos(a)])


def exposed_surface(design: Design, pm: ProbeMesh, sink: np.ndarray) -> ExposedSurface:
    """The exposed surface of a meshed probe (every exterior face not on the root) for ``design.environment``.

    A triangle whose normal n makes n·d > 0 with the direction d to the sample faces it with the projected
    share n·d of its area (the parallel-plate approximation: flux k/g per projected area), within reach if
    its mean gap is below the surroundings length; the rest of its area exchanges with the surroundings."""
    env = design.environment
    assert env is not None, "a design without [environment] has no exchange"
    m = pm.mesh.skfem
    outer = exterior(m.p, m.t)
    on_sink = np.asarray(np.isin(outer.tri, sink).all(axis=0), dtype=bool)
    s = outer.select(~on_sink)
    far = design.surroundings_length
    gap = np.full(s.midpoints.shape[1:], far)
    facing = np.zeros(s.area.size)
    if env.sample is not None:
        d = sample_direction(env.sample.tilt_deg)
        g = np.maximum(float((d @ m.p).max()) - np.einsum("i,iqf->qf", d, s.midpoints), 0.0)  # plane at the apex
        facing = np.where(g.mean(axis=0) < far, np.clip(d @ s.normal, 0.0, 1.0), 0.0)
        gap = np.minimum(g, far)
    emissivity = _emissivities(design, pm)[s.element] if env.radiation else np.zeros(s.area.size)
    return ExposedSurface(s, emissivity, gap, facing, far, m.p.shape[1])


def _emissivities(design: Design, pm: ProbeMesh) -> np.ndarray:
    """Emissivity per element from its material (the design's rules require one for every material used)."""
    names, index = element_materials(design, pm)
    values = [design.materials[n].emissivity for n in names]
    missing = sorted({n for n, v in zip(names, values) if v is None})
    if missing:
        raise DesignError([f"materials.{n}.emissivity: missing; radiation needs it" for n in missing], design.name)
    return np.array(values, dtype=float)[index]


def exchange_matrices(
    ex: ExposedSurface, env: Environment, temperature_K: float, pressure_Pa: float | None = None
) -> dict[str, sp.csr_matrix]:
    """Exchange matrix (W/K) per heat path at ``pressure_Pa`` (default: the environment's); paths that
    carry nothing (vacuum, no radiation, no sample) are left out."""
    p = env.pressure_Pa if pressure_Pa is None else pressure_Pa
    out: dict[str, sp.csr_matrix] = {}
    if p > 0:
        gas = GASES[env.gas]
        h_sample = ex.facing * gas_h(gas, ex.gap, p, temperature_K, env.accommodation)
        h_around = (1.0 - ex.facing) * gas_h(gas, np.array(ex.far), p, temperature_K, env.accommodation)
        for name, h, keep in ((SAMPLE, h_sample, ex.facing > 0), (SURROUNDINGS, h_around, ex.facing < 1)):
            if keep.any():
                h_mid = np.ascontiguousarray(np.broadcast_to(h, ex.gap.shape)[:, keep])
                out[name] = robin(ex.n_nodes, ex.surface.select(keep), h_mid)
    if env.radiation and np.any(ex.emissivity > 0):
        h_rad = np.broadcast_to(radiation_h(ex.emissivity, temperature_K), ex.gap.shape)
        out[RADIATION] = robin(ex.n_nodes, ex.surface, np.ascontiguousarray(h_rad))
    return out


def with_environment(
    prob: conduction.Problem, design: Design, pm: ProbeMesh, pressure_Pa: float | None = None
) -> conduction.Problem:
    """The conduction problem of a probe in ``design.environment`` (unchanged without one)."""
    if design.environment is None:
        return prob
    ex = exposed_surface(design, pm, prob.sink)
    return conduction.with_exchange(
        prob, exchange_matrices(ex, design.environment, design.sink.temperature_K, pressure_Pa)
    )


def with_pressure(design: Design, pressure_Pa: float) -> Design:
    """The design at another pressure, named ``<name>-<p>Pa``; a design without [environment] gets the default
    one (air, a = 0.9, radiation, no sample).  A measured R_P holds for the design's own surroundings, so
    it is dropped: the calibration's R_P is then the FEM's (a measured S_TC does not depend on the gas)."""
    env = (design.environment or Environment()).model_dump() | {"pressure_Pa": pressure_Pa}
    measured = design.measured.model_dump() | {"R_P_K_per_W": None, "R_P_uncertainty_K_per_W": None}
    name = f"{design.name}-{pressure_Pa:g}Pa".replace("+", "")[-64:].lstrip("-.") or design.name
    return design_in(design, env, name=name, measured=measured)


def design_in(design: Design, environment: dict | None, **other: object) -> Design:
    """The design in another environment (a mapping of :class:`Environment` fields; ``other``: further
    top-level fields to replace), validated with every rule."""
    from pydantic import ValidationError

    from probe_fem.design.messages import format_errors

    try:
        return Design.model_validate(design.model_dump() | {"environment": environment} | other)
    except ValidationError as exc:
        raise DesignError(format_errors(exc, {}), design.name) from None


__all__ = [
    "PATHS",
    "ExposedSurface",
    "design_in",
    "exchange_matrices",
    "exposed_surface",
    "with_environment",
    "with_pressure",
]
