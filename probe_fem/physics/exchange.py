"""Boundary exchange q = h (T − T_ambient) on a mesh's exposed surface: the Robin term ∫ h φ_i φ_j dS.

Works on any tetrahedral mesh (the analytic fins of the tests and the probe share it).  ``h`` is given
at the three edge midpoints of every triangle: that rule (degree 2) integrates the P1 products exactly
for a constant h, and to second order for a varying one; the heat leaving through a matrix H for a rise
T is 1ᵀ H T (W).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

# basis values of the triangle's three nodes at its edge midpoints (01, 12, 20)
_MIDPOINTS = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])


@dataclass(frozen=True)
class Surface:
    """Exterior triangles of a tetrahedral mesh: nodes (3 × nf), the element behind each, its area (m²),
    outward unit normal (3 × nf) and edge midpoints (3 coord × 3 midpoint × nf, m)."""

    tri: np.ndarray
    element: np.ndarray
    area: np.ndarray
    normal: np.ndarray
    midpoints: np.ndarray

    def select(self, keep: np.ndarray) -> Surface:
        """The triangles where ``keep`` is true."""
        return Surface(
            self.tri[:, keep], self.element[keep], self.area[keep], self.normal[:, keep], self.midpoints[..., keep]
        )


def exterior(p: np.ndarray, t: np.ndarray) -> Surface:
    """The faces of the tetrahedra ``t`` (4 × ne) that belong to one tetrahedron only, with outward normals."""
    local = ((0, 1, 2, 3), (0, 1, 3, 2), (0, 2, 3, 1), (1, 2, 3, 0))  # face nodes, then the opposite node
    faces = np.hstack([t[list(f[:3])] for f in local])
    opposite = np.concatenate([t[f[3]] for f in local])
    element = np.tile(np.arange(t.shape[1]), 4)
    key = np.sort(faces, axis=0).astype(np.int64)
    n = p.shape[1]
    if n < 2**21:  # one int64 per face: a 1-D sort, ~10× faster than unique over columns
        key = (key[0] * n + key[1]) * n + key[2]
    _, first, count = np.unique(key, axis=None if key.ndim == 1 else 1, return_index=True, return_counts=True)
    once = first[count == 1]
    tri, opp = faces[:, once], opposite[once]
    a, b, c = (p[:, tri[i]] for i in range(3))
    n = np.cross(b - a, c - a, axis=0)
    flip = np.einsum("ij,ij->j", n, p[:, opp] - a) > 0
    tri[1, flip], tri[2, flip] = tri[2, flip].copy(), tri[1, flip].copy()
    n[:, flip] *= -1
    area = 0.5 * np.linalg.norm(n, axis=0)
    a, b, c = (p[:, tri[i]] for i in range(3))
    mids = np.stack([(a + b) / 2, (b + c) / 2, (c + a) / 2], axis=1)
    return Surface(tri, element[once], area, n / (2 * area), mids)


def robin(n_nodes: int, surface: Surface, h_mid: np.ndarray) -> sp.csr_matrix:
    """∫ h φ_i φ_j dS (W/K) with ``h_mid`` (3 × nf, W/(m²·K)) at each triangle's edge midpoints."""
    local = np.einsum("qf,qi,qj->fij", h_mid * surface.area / 3.0, _MIDPOINTS, _MIDPOINTS)
    rows = np.repeat(surface.tri.T, 3, axis=1).ravel()
    cols = np.tile(surface.tri.T, (1, 3)).ravel()
    return sp.coo_matrix((local.ravel(), (rows, cols)), shape=(n_nodes, n_nodes)).tocsr()


def heat_through(H: sp.csr_matrix, T: np.ndarray) -> float:
    """Heat (W) leaving through the exchange H for the rise T (K): ∫ h T dS = 1ᵀ H T."""
    return float((H @ T).sum())
