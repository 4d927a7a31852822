"""Electrical conduction in thin films: ∇·(σ∇φ) = 0 in the conductors, two terminals at fixed potentials.

Insulators carry no current: only the elements with σ > 0 are assembled and the potential is
solved on their nodes (the rest of the mesh is left at 0 V).  With P1 elements the field is
constant per element, so the Joule power density σ|∇φ|² is per element and its integral equals
φᵀGφ (G the conductance matrix) and the terminal current times the voltage; the two agree to
round-off, which :attr:`Potential.power_error` reports.  A uniform field is exact: a straight bar
has R_e = ρL/A to round-off on any mesh.  Units: σ in S/m, φ in V, R_e in Ω.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from probe_fem.errors import SolverError
from probe_fem.physics.p1 import P1Tets
from probe_fem.physics.solvers import factorize


@dataclass(frozen=True)
class Potential:
    """The solved potential for 1 V between the terminals (``plus`` at 1 V, ``minus`` at 0 V)."""

    phi: np.ndarray  # V per node (0 on nodes of no conductor)
    current: float  # A through the terminals for 1 V (from the reaction at the + terminal)
    joule: np.ndarray  # W/m³ per element for 1 V: σ|∇φ|² (0 in insulators)
    power: float  # W for 1 V: ∫ σ|∇φ|² dV

    @property
    def resistance(self) -> float:
        """R_e = V / I, Ω."""
        return 1.0 / self.current

    @property
    def power_error(self) -> float:
        """|∫σ|∇φ|² − V·I| / (V·I): the Joule power against the terminals' power."""
        return abs(self.power - self.current) / self.current


def terminal_nodes(tets: P1Tets, boundary_nodes: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Nodes of ``boundary_nodes`` that belong to ``elements``: a conductor's face on a boundary."""
    return np.intersect1d(boundary_nodes, np.unique(tets.t[:, elements]))


def solve_potential(tets: P1Tets, sigma: np.ndarray, plus: np.ndarray, minus: np.ndarray) -> Potential:
    """Potential with ``plus`` nodes at 1 V and ``minus`` at 0 V in the conductors (``sigma`` > 0, S/m per element).

    Raises:
        SolverError: a terminal is empty or touches the other, or some conductor is not connected to a
            terminal (the conductance matrix of the free nodes is singular).
    """
    if plus.size == 0 or minus.size == 0 or np.intersect1d(plus, minus).size:
        raise SolverError(f"terminals must be non-empty and apart ({plus.size} and {minus.size} nodes)")
    conductors = np.flatnonzero(sigma > 0)
    G = tets.stiffness(sigma)
    nodes = np.unique(tets.t[:, conductors])
    _check_connected(tets.t[:, conductors], nodes, plus, minus)
    fixed = np.union1d(plus, minus)
    free = np.setdiff1d(nodes, fixed)
    phi = np.zeros(tets.p.shape[1])
    phi[plus] = 1.0
    rhs = -(G[free][:, plus] @ np.ones(plus.size))
    try:
        phi[free] = factorize(sp.csc_matrix(G[free][:, free]))(rhs)
    except RuntimeError as exc:  # SuperLU: "factor is exactly singular"
        raise SolverError(f"no potential: a conductor is not connected to a terminal ({exc})") from None
    if not np.all(np.isfinite(phi)):
        raise SolverError("the potential is not finite: a conductor is not connected to a terminal")
    current = float((G[plus] @ phi).sum())
    grad = np.einsum("eik,ei->ek", tets.gradients, phi[tets.t.T])
    joule = sigma * np.sum(grad**2, axis=1)
    return Potential(phi=phi, current=current, joule=joule, power=float(joule @ tets.volumes))


def _check_connected(t: np.ndarray, nodes: np.ndarray, plus: np.ndarray, minus: np.ndarray) -> None:
    """Every piece of conductor (elements ``t``, 4 × ne, on ``nodes``) touches both terminals."""
    from scipy.sparse.csgraph import connected_components

    local = np.searchsorted(nodes, t)  # node indices within ``nodes``
    ring = sp.coo_matrix((np.ones(3 * t.shape[1]), (local[[0, 0, 0]].ravel(), local[1:].ravel())), (nodes.size,) * 2)
    n, label = connected_components(ring, directed=False)
    at = np.searchsorted(nodes, plus), np.searchsorted(nodes, minus)
    bad = set(range(n)) - (set(label[at[0]]) & set(label[at[1]]))
    if bad:
        sizes = np.bincount(label, minlength=n)[sorted(bad)]
        raise SolverError(
            f"the conductors fall apart into {n} pieces and {len(bad)} of them ({', '.join(map(str, sizes))} nodes) "
            "do not join the two terminals: the films carrying the current are not connected"
        )


def element_load(tets: P1Tets, density: np.ndarray) -> np.ndarray:
    """∫ q φ_i dV per node (W) for a density constant per element (W/m³): a quarter of q_e·V_e to each node."""
    return np.bincount(tets.t.T.ravel(), weights=np.repeat(density * tets.volumes / 4.0, 4), minlength=tets.p.shape[1])
