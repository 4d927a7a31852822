"""The probe in its surroundings: radiation and gas conduction from every exposed surface, to the sample and away.

Each exposed triangle of the probe (every outer face but the root's) loses q = h·T, T its rise above the
surroundings, which are at the sink's temperature like the sample:

* radiation, h = 4εσT³ with the emissivity of the material behind the face;
* gas, h = k/(g + 2βλ) (:mod:`probe_fem.physics.gas`): a face whose outward normal points towards the
  sample exchanges across its gap ``g`` to the sample plane (the plane through the probe's lowest point,
  the apex, tilted by the mounting angle), up to the surroundings length ``L``; the other faces, and every
  face without a sample, across ``L`` (default: the body's width) to the surroundings.

The gas holds no heat (its diffusion time across a micrometre gap is ~50 ns, far below the probe's
microseconds) and moves no heat by convection.  The exposed surface and its gaps are computed once per
mesh; a new pressure re-assembles only the gas matrix (no re-meshing, no new conduction matrix).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from probe_fem.design.schema import Design, Environment
from probe_fem.mesh.probe import ProbeMesh, element_materials
from probe_fem.physics import conduction
from probe_fem.physics.exchange import Surface, exterior, robin
from probe_fem.physics.gas import GASES, gas_h, jump_coefficient, mean_free_path, radiation_h

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
    gap: np.ndarray  # 3 × nf: gas gap at each edge midpoint, m (to the sample, or the surroundings length)
    to_sample: np.ndarray  # per triangle: its gas exchange goes to the sample
    n_nodes: int


def sample_direction(tilt_deg: float) -> np.ndarray:
    """Unit vector from the probe towards the sample (the tip points along +z, the root is at x = 0)."""
    a = math.radians(tilt_deg)
    return np.array([math.sin(a), 0.0, math.cos(a)])


def exposed_surface(design: Design, pm: ProbeMesh, sink: np.ndarray) -> ExposedSurface:
    """The exposed surface of a meshed probe (every exterior face not on the root) for ``design.environment``."""
    env = design.environment
    assert env is not None, "a design without [environment] has no exchange"
    m = pm.mesh.skfem
    outer = exterior(m.p, m.t)
    on_sink = np.asarray(np.isin(outer.tri, sink).all(axis=0), dtype=bool)
    s = outer.select(~on_sink)
    names, index = element_materials(design, pm)
    eps = np.array([design.materials[n].emissivity or 0.0 for n in names])[index] if env.radiation else None
    far = design.surroundings_length
    gap = np.full(s.midpoints.shape[1:], far)
    to_sample = np.zeros(s.area.size, dtype=bool)
    if env.sample is not None:
        d = sample_direction(env.sample.tilt_deg)
        height = np.einsum("i,iqf->qf", d, s.midpoints)
        g = np.maximum(float((d @ m.p).max()) - height, 0.0)  # the plane touches the lowest point
        facing = d @ s.normal > 0
        to_sample = facing & (g.mean(axis=0) < far)
        gap = np.where(to_sample, np.minimum(g, far), far)
    emissivity = np.zeros(s.area.size) if eps is None else eps[s.element]
    return ExposedSurface(s, emissivity, gap, to_sample, m.p.shape[1])


def exchange_matrices(
    ex: ExposedSurface, env: Environment, temperature_K: float, pressure_Pa: float | None = None
) -> dict[str, sp.csr_matrix]:
    """Exchange matrix (W/K) per heat path at ``pressure_Pa`` (default: the environment's); paths that
    carry nothing (vacuum, no radiation, no sample) are left out."""
    p = env.pressure_Pa if pressure_Pa is None else pressure_Pa
    out: dict[str, sp.csr_matrix] = {}
    if p > 0:
        h = gas_h(GASES[env.gas], ex.gap, p, temperature_K, env.accommodation)
        for name, keep in ((SAMPLE, ex.to_sample), (SURROUNDINGS, ~ex.to_sample)):
            if keep.any():
                out[name] = robin(ex.n_nodes, ex.surface.select(keep), h[:, keep])
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
    """The design at another pressure; a design without [environment] gets the default one (air, a = 0.9,
    radiation, no sample) at that pressure."""
    env = (design.environment or Environment()).model_dump() | {"pressure_Pa": pressure_Pa}
    return design_in(design, env)


def design_in(design: Design, environment: dict | None) -> Design:
    """The design in another environment (a mapping of :class:`Environment` fields), validated with every rule."""
    from pydantic import ValidationError

    from probe_fem.design.messages import format_errors
    from probe_fem.design.schema import DesignError

    try:
        return Design.model_validate(design.model_dump() | {"environment": environment})
    except ValidationError as exc:
        raise DesignError(format_errors(exc, {}), design.name) from None


def gas_summary(env: Environment, temperature_K: float) -> dict[str, float | str]:
    """The gas's figures at the environment's pressure: mean free path (m), β, h across 1 µm (W/(m²·K))."""
    gas = GASES[env.gas]
    lam = mean_free_path(gas, env.pressure_Pa, temperature_K)
    return {
        "gas": env.gas,
        "origin": gas.origin,
        "mean_free_path_m": lam,
        "jump_coefficient": jump_coefficient(gas, env.accommodation),
        "h_across_1um_W_m2K": float(gas_h(gas, np.array(1e-6), env.pressure_Pa, temperature_K, env.accommodation)),
    }


__all__ = [
    "PATHS",
    "ExposedSurface",
    "design_in",
    "exchange_matrices",
    "exposed_surface",
    "with_environment",
    "with_pressure",
]
