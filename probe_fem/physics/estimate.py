"""A-posteriori estimate of the discretisation error of a linear functional J(T) = s·T (e.g. ΔT_TC = R_P·Q).

Goal-oriented (dual-weighted): with the dual problem K z = s (same sink), Galerkin orthogonality
gives the exact identity J(T) − J(T_h) = r_T(z − z_h), where r_T(v) = f(v) − a(T_h, v) is the
residual of the P1 solution.  **Hierarchical P2 enrichment**: z − z_h is approximated in the
space B of quadratic edge bubbles b_e = 4 φ_i φ_j (the P2 space is P1 ⊕ B) by the bubble
correction e_z ∈ B with a(e_z, b) = r_z(b) for all b ∈ B, and likewise e_T for the primal, so

    J(T) − J(T_h) ≈ r_T(e_z) = e_Tᵀ A_BB e_z = Σ_K η_K,    η_K = a_K(e_T, e_z)  (signed),

with |η_K| the refinement indicators.  Everything is in closed form on P1 tetrahedra (constant
∇φ_i; ∫_K φ_a φ_b = V/20·(1 + δ_ab)), reusing the element gradients and volumes of
:class:`P1Tets`; A_BB (edges × edges, SPD) is solved by Jacobi-preconditioned CG to a relative
residual of 1e-4 (the estimate then agrees with a 1e-6 solve to 5 digits on the reference).
Per-element k enters only through a_K: the residual a(T_h, b_e) carries the flux jumps across
material interfaces exactly, whatever the contrast.

The recovery-based estimate (volume-weighted nodal averaging of element gradients per material
region, η_K = ∫_K k (G_h T − ∇T_h)·(G_h z − ∇z_h)), :func:`recovery_estimate`, is kept for
comparison only: averaging gradients of differently oriented film pieces at the tip's edges can
give thin films a spurious signed share that cancels the rest.  The hierarchical estimate sees
only the PDE's residual; it relies on saturation (P2 better than P1), which singular film edges
weaken, so on coarse meshes it tends to underestimate.  Its effectivity on the bar and the
library's designs is in docs/verification.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from probe_fem.errors import SolverError
from probe_fem.physics.conduction import Problem
from probe_fem.physics.p1 import P1Tets
from probe_fem.threads import blas_limited

PAIRS = np.array([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)])  # the six edges of a tetrahedron


@dataclass(frozen=True)
class GoalEstimate:
    """Estimated error of a functional J = s·T and the per-element contributions.

    ``eta`` (per element, in the functional's unit, e.g. K for J = ΔT_TC) sums to ``error``,
    the signed estimate of J(T) − J(T_h); ``abs(eta)`` are the refinement indicators.
    """

    eta: np.ndarray
    error: float

    @property
    def absolute_sum(self) -> float:
        """Σ|η_K|: an upper bound of |error| that ignores cancellation between elements."""
        return float(np.abs(self.eta).sum())


@dataclass(frozen=True)
class Bubbles:
    """The edge-bubble space of a P1 mesh; ``fixed``: nodes held at a Dirichlet value (bubbles of
    edges with both ends fixed vanish there and are left out)."""

    tets: P1Tets
    fixed: np.ndarray

    @cached_property
    def _edges(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.tets.p.shape[1]
        a, b = self.tets.t[PAIRS[:, 0]], self.tets.t[PAIRS[:, 1]]
        key = (np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)).T.ravel()
        keys, inv = np.unique(key, return_inverse=True)
        return keys, inv.reshape(-1, 6)  # unique edge keys; element × local edge -> edge index

    @property
    def element_edges(self) -> np.ndarray:
        """Edge index of each element's six edges, ne × 6."""
        return self._edges[1]

    @property
    def n_edges(self) -> int:
        return self._edges[0].size

    @cached_property
    def free(self) -> np.ndarray:
        """Edges whose bubble is an unknown (not both ends fixed)."""
        n = self.tets.p.shape[1]
        keys = self._edges[0]
        fixed = np.zeros(n, bool)
        fixed[self.fixed] = True
        return ~(fixed[keys // n] & fixed[keys % n])

    def local_matrices(self, k: np.ndarray) -> np.ndarray:
        """a_K(b_p, b_q) for the six edge bubbles of every element, ne × 6 × 6 (W/K for k in W/(m·K)).

        ∇(φ_iφ_j) = φ_j g_i + φ_i g_j, so the entries are g·g products times ∫φ_aφ_b = V/20 (1 + δ_ab).
        """
        G = np.einsum("eik,ejk->eij", self.tets.gradients, self.tets.gradients)
        M = (np.ones((4, 4)) + np.eye(4)) / 20.0
        i, j = PAIRS[:, 0][:, None], PAIRS[:, 1][:, None]
        I, J = i.T, j.T
        A = G[:, i, I] * M[j, J] + G[:, i, J] * M[j, I] + G[:, j, I] * M[i, J] + G[:, j, J] * M[i, I]
        return 16.0 * (k * self.tets.volumes)[:, None, None] * A

    def residual(self, k: np.ndarray, u: np.ndarray, load: np.ndarray) -> np.ndarray:
        """r(b_e) = load(b_e) − a(u_h, b_e) per edge; a_K(u_h, b_e) = k V ∇u_h·(g_i + g_j)."""
        g = self.tets.gradients
        grad = np.einsum("eik,ei->ek", g, u[self.tets.t.T])
        loc = (k * self.tets.volumes)[:, None] * np.einsum("ek,epk->ep", grad, g[:, PAIRS[:, 0]] + g[:, PAIRS[:, 1]])
        return load - np.bincount(self.element_edges.ravel(), weights=loc.ravel(), minlength=self.n_edges)

    def volume_load(self, elements: np.ndarray, density: np.ndarray | float) -> np.ndarray:
        """∫ w b_e dV per edge for a density w constant per element over ``elements`` (∫_K b_e = V/5)."""
        w = np.broadcast_to(density, elements.shape) * self.tets.volumes[elements] / 5.0
        return np.bincount(self.element_edges[elements].ravel(), weights=np.repeat(w, 6), minlength=self.n_edges)

    def surface_load(self, triangles: np.ndarray, density: float) -> np.ndarray:
        """∫ q b_e dA per edge for a uniform flux density q over triangles (3 × nf node indices): qA/3 per edge."""
        p, n = self.tets.p, self.tets.p.shape[1]
        a, b, c = (p[:, triangles[m]] for m in range(3))
        area = 0.5 * np.linalg.norm(np.cross(b - a, c - a, axis=0), axis=0)
        keys = self._edges[0]
        out = np.zeros(self.n_edges)
        for m0, m1 in ((0, 1), (0, 2), (1, 2)):
            s, t = triangles[m0], triangles[m1]
            idx = np.searchsorted(keys, np.minimum(s, t).astype(np.int64) * n + np.maximum(s, t))
            np.add.at(out, idx, density * area / 3.0)
        return out


def _solve(A: sp.csr_matrix, r: np.ndarray, free: np.ndarray, rtol: float) -> np.ndarray:
    """Bubble correction e with A e = r on the free edges (Jacobi-preconditioned CG)."""
    Af = A[free][:, free]
    e = np.zeros(r.size)
    e[free], code = spla.cg(Af, r[free], rtol=rtol, maxiter=5000, M=sp.diags(1.0 / Af.diagonal()))
    if code != 0:
        raise SolverError(f"bubble error estimate: CG did not reach rtol={rtol:g}")
    return e


def goal_estimate(
    bubbles: Bubbles,
    k: np.ndarray,
    T: np.ndarray,
    z: np.ndarray,
    load_T: np.ndarray,
    load_z: np.ndarray,
    rtol: float = 1e-4,
) -> GoalEstimate:
    """Hierarchical dual-weighted estimate of J(T) − J(T_h) for the P1 primal ``T`` and dual ``z``.

    ``k``: conductivity per element, W/(m·K); ``load_T``, ``load_z``: the primal and dual loads
    on the bubbles (:meth:`Bubbles.volume_load`, :meth:`Bubbles.surface_load`), i.e. the same
    heat sources that made the P1 right-hand sides.  For T in K per Q W and z in K/W, η is in K.
    """
    local = bubbles.local_matrices(k)
    ee = bubbles.element_edges
    rows, cols = np.repeat(ee, 6, axis=1).ravel(), np.tile(ee, (1, 6)).ravel()
    A = sp.csr_matrix((local.ravel(), (rows, cols)), shape=(bubbles.n_edges,) * 2)
    eT = _solve(A, bubbles.residual(k, T, load_T), bubbles.free, rtol)
    ez = _solve(A, bubbles.residual(k, z, load_z), bubbles.free, rtol)
    eta = np.einsum("ep,epq,eq->e", eT[ee], local, ez[ee])
    return GoalEstimate(eta=eta, error=float(eta.sum()))


@blas_limited
def problem_estimate(
    prob: Problem, T: np.ndarray, z: np.ndarray, source: str = "apex", sensor: str = "tc_junction"
) -> GoalEstimate:
    """Estimate of (sensor mean of T) − (its P1 value) for a :class:`Problem` heated uniformly on ``source``.

    ``z`` solves K z = ``prob.sensor`` (the volume mean over ``sensor``); η in K for T in K.
    """
    m = prob.mesh.skfem
    bub = Bubbles(prob.elements, prob.sink)
    tri = m.facets[:, m.boundaries[source]]
    p = m.p
    area = 0.5 * np.linalg.norm(np.cross(p[:, tri[1]] - p[:, tri[0]], p[:, tri[2]] - p[:, tri[0]], axis=0), axis=0)
    sens = m.subdomains[sensor]
    load_T = bub.surface_load(tri, prob.power / area.sum())
    load_z = bub.volume_load(sens, 1.0 / prob.elements.volumes[sens].sum())
    return goal_estimate(bub, prob.k, T, z, load_T, load_z)


def element_gradients(tets: P1Tets, u: np.ndarray) -> np.ndarray:
    """Constant gradient of the P1 field ``u`` (nodal values) on every element, ne × 3 (unit of u per m)."""
    return np.einsum("eik,ei->ek", tets.gradients, u[tets.t.T])


def recovered_gradients(tets: P1Tets, grad: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Recovered gradient at the four nodes of every element, ne × 4 × 3.

    Volume-weighted average of ``grad`` (ne × 3) over the elements around each node, taken only
    over elements of the same region (``regions``: an integer label per element), so the
    average never crosses a material interface.
    """
    n = tets.p.shape[1]
    labels, reg = np.unique(regions, return_inverse=True)
    key = (reg[None, :] * n + tets.t).T.ravel()  # (element, local node) -> region-local node id
    size = labels.size * n
    w = np.repeat(tets.volumes, 4)
    denom = np.bincount(key, weights=w, minlength=size)
    sums = np.stack([np.bincount(key, weights=w * np.repeat(grad[:, c], 4), minlength=size) for c in range(3)], 1)
    return (sums[key] / denom[key, None]).reshape(-1, 4, 3)


def recovery_estimate(tets: P1Tets, k: np.ndarray, T: np.ndarray, z: np.ndarray, regions: np.ndarray) -> GoalEstimate:
    """The recovery-based alternative (kept for comparison; see the module docstring):
    η_K = ∫_K k (G_h T − ∇T_h)·(G_h z − ∇z_h), integrated exactly (linear × linear:
    V/20 (Σ a_i·b_i + Σa_i·Σb_j)); recovery per region of ``regions``."""
    gT, gz = element_gradients(tets, T), element_gradients(tets, z)
    eT = recovered_gradients(tets, gT, regions) - gT[:, None, :]
    ez = recovered_gradients(tets, gz, regions) - gz[:, None, :]
    integral = np.einsum("eik,eik->e", eT, ez) + np.einsum("ek,ek->e", eT.sum(axis=1), ez.sum(axis=1))
    eta = k * tets.volumes / 20.0 * integral
    return GoalEstimate(eta=eta, error=float(eta.sum()))


def element_size(tets: P1Tets) -> np.ndarray:
    """Longest edge of every element, m (what a mesher's target size controls)."""
    X = tets.p[:, tets.t]  # 3 × 4 × ne
    return np.max([np.linalg.norm(X[:, i] - X[:, j], axis=0) for i, j in PAIRS], axis=0)
