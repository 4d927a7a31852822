"""The sensor's electrical side: potential in the legs (and a resistor film), R_e, Joule heat, a resistor's readout.

Conductors are the two legs (``tc_au`` at +1 V at the root, ``tc_cr`` at 0 V) and the band where
they meet: a thermocouple's junction, or a resistive design's resistor film.  Insulators, the body
and the isolated electrode carry no current.  Needs a resistivity for every conductor's material;
without them a thermocouple design has no electrical model (None), a resistive one is refused by
the design's rules.

A resistor is read through its resistance: with ρ(T) = ρ₀(1 + αΔT) in every conductor, to first
order ΔR_e/R_e = ∫ α q ΔT dV / ∫ q dV (q = σ|∇φ|², the Joule density).  The sensor's rise is
ΔT_R = ΔR_e/(R_e·α_eff), α_eff = ∫ α q / ∫ q the TCR of R_e: the α·q-weighted mean rise of the
conductors (:func:`readout_functional`).  With one α everywhere that weight is the normalised
Joule heat itself, so the rise at the sensor per watt at the apex equals the apex's rise per watt
of Joule heat (reciprocity of symmetric conduction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from probe_fem.design.schema import Design
from probe_fem.errors import SolverError
from probe_fem.mesh.probe import ProbeMesh, element_materials
from probe_fem.physics.electrical import Potential, element_load, solve_potential, terminal_nodes
from probe_fem.physics.p1 import P1Tets

if TYPE_CHECKING:
    from probe_fem.physics.conduction import Problem

CONDUCTORS = ("tc_au", "tc_cr")  # the legs, with the band (tc_junction) they share


@dataclass(frozen=True)
class Electrical:
    """The potential for 1 V across the sensor's terminals and the conductors' TCR per element."""

    potential: Potential
    tcr: np.ndarray  # 1/K per element (0 outside the conductors)
    conductors: np.ndarray  # indices of the elements that carry current (legs and band)
    film: np.ndarray  # indices of the resistor film's elements (empty for a thermocouple)
    volumes: np.ndarray  # m³ per element

    @property
    def resistance(self) -> float:
        """R_e, Ω (terminal to terminal at the root)."""
        return self.potential.resistance

    @property
    def tcr_effective(self) -> float:
        """α_eff = ∫ α q dV / ∫ q dV, 1/K: the TCR of R_e for a uniform rise."""
        v = self.potential
        return float(np.sum(self.tcr * v.joule * self.volumes) / v.power)

    @property
    def film_share(self) -> float:
        """Share of the Joule power dissipated in the resistor film (the rest heats the leads)."""
        q = self.potential.joule * self.volumes
        return float(q[self.film].sum() / q.sum())

    @property
    def uniform_tcr(self) -> bool:
        """One TCR in every conductor: then the readout weight is the normalised Joule heat (reciprocity)."""
        a = self.tcr[self.conductors]
        return bool(np.ptp(a) <= 1e-12 * np.abs(a).max())


def conductivities(design: Design, pm: ProbeMesh) -> tuple[np.ndarray, np.ndarray] | None:
    """σ (S/m) and α (1/K) per element; zero outside the conductors; None if a conductor has no resistivity."""
    names, index = element_materials(design, pm)
    mats = [design.materials[n] for n in names]
    conductor = np.zeros(pm.mesh.n_elements, dtype=bool)
    for r in CONDUCTORS:
        conductor[pm.mesh.skfem.subdomains[r]] = True
    used = np.unique(index[conductor])
    if any(mats[i].resistivity_ohm_m is None for i in used):
        return None
    rho = np.array([m.resistivity_ohm_m or np.inf for m in mats])
    alpha = np.array([m.tcr_per_K or 0.0 for m in mats])
    return np.where(conductor, 1.0 / rho[index], 0.0), np.where(conductor, alpha[index], 0.0)


def solve_electrical(design: Design, pm: ProbeMesh, tets: P1Tets, sink: np.ndarray) -> Electrical | None:
    """Potential, R_e and Joule density of the sensor's conductors (None without resistivities).

    ``sink``: the root's nodes (the thermal sink), where each leg's end is a terminal.
    """
    found = conductivities(design, pm)
    if found is None:
        return None
    sigma, alpha = found
    sub = pm.mesh.skfem.subdomains
    plus, minus = (terminal_nodes(tets, sink, sub[r]) for r in CONDUCTORS)
    film = sub["tc_junction"] if design.resistor is not None else np.array([], dtype=np.int64)
    pot = solve_potential(tets, sigma, plus, minus)
    return Electrical(pot, alpha, np.flatnonzero(sigma > 0), np.asarray(film), tets.volumes)


def readout_functional(el: Electrical, tets: P1Tets) -> np.ndarray:
    """Weights w with w·T = ΔR_e/(R_e·α_eff): the α·q-weighted mean rise of the conductors (K per K)."""
    w = element_load(tets, el.tcr * el.potential.joule)
    if not abs(w.sum()) > 0:
        raise SolverError("the conductors' TCRs cancel (α_eff = 0): the resistance does not read temperature")
    return w / w.sum()


def joule_source(el: Electrical, tets: P1Tets) -> np.ndarray:
    """Nodal heat input (W) of 1 W of Joule heat, distributed as σ|∇φ|²."""
    f = element_load(tets, el.potential.joule)
    return f / f.sum()


def with_resistor_readout(prob: Problem, el: Electrical) -> Problem:
    """The problem whose sensor is the resistor's readout: its R_P is then R_tip (sensor rise per watt at the apex)."""
    from dataclasses import replace

    return replace(prob, sensor=readout_functional(el, prob.elements))
