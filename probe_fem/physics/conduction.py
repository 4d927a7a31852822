"""Steady heat conduction: K T = f with T = T0 on the sink, flux Q on the source, adiabatic elsewhere
or, with :func:`with_exchange`, losing q = h·T to the surroundings (:mod:`probe_fem.physics.exchange`).

Works on any :class:`~probe_fem.mesh.core.Mesh` with named sets, so the analytic
bars of the tests and the probe share one path.  Temperatures are rises above
the sink (K); conductivities are per element (W/(m·K)).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from probe_fem.mesh.core import Mesh
from probe_fem.physics.p1 import P1Tets, surface_weights
from probe_fem.physics.solvers import SolveInfo, choose, direct_backend, factorize, solve_spd


@dataclass
class Problem:
    """Assembled steady problem: stiffness, source vector, sink dofs and sensor functional."""

    mesh: Mesh
    k: np.ndarray  # W/(m·K) per element
    K: sp.csr_matrix  # W/K
    f: np.ndarray  # W, nodal heat input for the total power ``power``
    power: float  # W
    sink: np.ndarray  # dof indices held at the sink temperature
    sensor: np.ndarray  # mean-over-sensor-volume functional (dimensionless weights)
    source_mean: np.ndarray  # mean-over-source-surface functional
    elements: P1Tets  # element geometry and CSR pattern, reused by every later assembly (mass, new k)
    exchange: dict[str, sp.csr_matrix] = field(default_factory=dict)  # W/K per heat path to the surroundings
    K_conduction: sp.csr_matrix | None = None  # K without the exchange (None: K has none)

    @property
    def conduction_K(self) -> sp.csr_matrix:
        """The conduction part of :attr:`K` (W/K)."""
        return self.K if self.K_conduction is None else self.K_conduction

    @cached_property
    def free(self) -> np.ndarray:
        """Unknowns not held at the sink temperature."""
        return np.setdiff1d(np.arange(self.K.shape[0]), self.sink)

    @cached_property
    def K_free(self) -> sp.csc_matrix:
        """Conduction matrix condensed to the free unknowns (W/K)."""
        return sp.csc_matrix(self.K[self.free][:, self.free])

    @cached_property
    def factor(self):
        """Direct factor of :attr:`K_free`, made once: steady, reciprocity, eigen and Krylov solves share it."""
        return factorize(self.K_free)


def element_volumes(mesh: Mesh) -> np.ndarray:
    """Volume of every tetrahedron, m³."""
    return P1Tets(mesh.skfem.p, mesh.skfem.t).volumes


def volume_mean_functional(mesh: Mesh, elements: np.ndarray, tets: P1Tets | None = None) -> np.ndarray:
    """Weights w with w·T = volume mean of the P1 field T over ``elements``."""
    w = (tets or P1Tets(mesh.skfem.p, mesh.skfem.t)).volume_weights(elements)
    return w / w.sum()


def boundary_triangles(mesh: Mesh, *boundaries: str) -> list[np.ndarray]:
    """Node indices (3 × nf) of the triangles of each named boundary.

    The boundary is stored as indices into scikit-fem's facets: the tetrahedra's faces with sorted
    nodes, unique, in lexicographic order.  The same numbering comes from one sort of int64 face keys,
    ~10× faster than scikit-fem's unique over columns, which a mesh loaded from the cache would
    otherwise build here (0.3 s of a warm ``calibrate``).
    """
    m = mesh.skfem
    n = m.p.shape[1]
    if getattr(m, "_facets", None) is not None or n >= 2**21:  # built (a fresh mesh), or keys n³ overflow int64
        return [m.facets[:, m.boundaries[b]] for b in boundaries]
    faces = np.sort(np.hstack([m.t[[0, 1, 2]], m.t[[0, 1, 3]], m.t[[0, 2, 3]], m.t[[1, 2, 3]]]), axis=0)
    unique = np.unique((faces[0].astype(np.int64) * n + faces[1]) * n + faces[2])
    keys = [unique[m.boundaries[b]] for b in boundaries]
    return [np.stack([k // (n * n), k // n % n, k % n]) for k in keys]


def surface_mean_functional(mesh: Mesh, boundary: str | np.ndarray) -> np.ndarray:
    """Weights w with w·T = area mean of T over the named boundary, or over triangles (3 × nf node indices)."""
    tri = boundary_triangles(mesh, boundary)[0] if isinstance(boundary, str) else boundary
    w = surface_weights(mesh.skfem.p, tri)
    return w / w.sum()


def assemble(
    mesh: Mesh,
    k: np.ndarray,
    power: float,
    source: str = "apex",
    sink: str = "root",
    sensor: str = "tc_junction",
    tets: P1Tets | None = None,
) -> Problem:
    """Assemble conduction with per-element ``k`` (W/(m·K)) and ``power`` (W) spread uniformly on ``source``.

    ``tets``: the element geometry of this mesh from an earlier assembly (a study point that changes
    only material values reuses it: the new matrix is one weighted sum over the same pattern).
    """
    if k.shape != (mesh.n_elements,) or not np.all(k > 0):
        raise ValueError("k must be a positive value per element")
    tets = tets if tets is not None else P1Tets(mesh.skfem.p, mesh.skfem.t)
    source_tri, sink_tri = boundary_triangles(mesh, source, sink)
    source_mean = surface_mean_functional(mesh, source_tri)
    return Problem(
        mesh=mesh,
        k=k,
        K=tets.stiffness(k),
        f=power * source_mean,
        power=power,
        sink=np.unique(sink_tri),
        sensor=volume_mean_functional(mesh, mesh.skfem.subdomains[sensor], tets),
        source_mean=source_mean,
        elements=tets,
    )


def with_exchange(prob: Problem, exchange: dict[str, sp.csr_matrix]) -> Problem:
    """The problem with boundary exchange to the surroundings, one matrix per heat path (W/K), replacing
    any it had: K = conduction + Σ exchange (temperatures are rises above the surroundings and the sink)."""
    K0 = prob.conduction_K
    if not exchange:
        return replace(prob, K=K0, exchange={}, K_conduction=None)
    K = K0 + sum(exchange.values(), sp.csr_matrix(K0.shape))
    return replace(prob, K=K.tocsr(), exchange=dict(exchange), K_conduction=K0)


@dataclass
class SteadyResult:
    """Steady temperature rise and the heat balance."""

    T: np.ndarray  # K above the sink, per node
    heat_in: float  # W injected on the source
    heat_out: float  # W leaving: through the sink (reaction) and every exchange path
    info: SolveInfo
    heat_paths: dict[str, float] = field(default_factory=dict)  # W: "sink" and each exchange path

    @property
    def balance_error(self) -> float:
        """|heat_out − heat_in| / heat_in."""
        return abs(self.heat_out - self.heat_in) / self.heat_in


def solve(prob: Problem, f: np.ndarray | None = None, method: str = "auto") -> SteadyResult:
    """Solve K T = f with T = 0 on the sink; ``f`` defaults to the problem's source vector."""
    f = prob.f if f is None else f
    free = prob.free
    T = np.zeros(prob.K.shape[0])
    if choose(free.size, method) == "direct":
        t0 = time.perf_counter()
        T[free] = prob.factor(f[free])
        info = SolveInfo(f"direct ({direct_backend(free.size)})", free.size, time.perf_counter() - t0)
    else:
        T[free], info = solve_spd(prob.K_free.tocsr(), f[free], method=method)
    reaction = prob.K[prob.sink] @ T - f[prob.sink]
    paths = {"sink": float(-reaction.sum())} | {name: float((H @ T).sum()) for name, H in prob.exchange.items()}
    return SteadyResult(T=T, heat_in=float(f.sum()), heat_out=sum(paths.values()), info=info, heat_paths=paths)


def dissipation(prob: Problem, T: np.ndarray, elements: np.ndarray) -> float:
    """∫ k |∇T|² dV over ``elements`` (W·K); summed over all elements it equals Q · ⟨T⟩_source.

    Uses the element gradients and volumes the assembly already computed (``prob.elements``).
    """
    tets = prob.elements
    g = np.einsum("eik,ei->ek", tets.gradients[elements], T[tets.t[:, elements].T])  # ∇T per element
    return float(np.sum(prob.k[elements] * np.sum(g**2, axis=1) * tets.volumes[elements]))
