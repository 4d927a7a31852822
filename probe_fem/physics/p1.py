"""P1 tetrahedra in closed form: the element geometry computed once, matrices assembled by one bincount.

P1 gradients are constant per element, so the stiffness is exactly k_e·V_e·G_e G_eᵀ and the
consistent mass ρc_e·V_e/20·(1 + δ_ij) — what scikit-fem integrates with one (stiffness) and
a second-order (mass) quadrature rule, without its per-call basis and quadrature work.  The CSR
pattern and the map from element entries to it are built once, so a new coefficient vector
(another material value in a study) costs one weighted ``bincount``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class P1Tets:
    """Nodes ``p`` (3 × n, m) and tetrahedra ``t`` (4 × ne) of a mesh, with what every assembly reuses."""

    p: np.ndarray
    t: np.ndarray

    @cached_property
    def _edges(self) -> np.ndarray:
        X = self.p[:, self.t]  # 3 x 4 x ne
        return np.moveaxis(X[:, 1:, :] - X[:, :1, :], 2, 0)  # ne x 3 (coord) x 3 (edge)

    @cached_property
    def volumes(self) -> np.ndarray:
        """Element volumes, m³."""
        return np.abs(np.linalg.det(self._edges)) / 6.0

    @cached_property
    def gradients(self) -> np.ndarray:
        """∇φ_i of the four basis functions per element, ne × 4 × 3 (1/m)."""
        inv = np.linalg.inv(self._edges)  # rows: gradients of the barycentrics 1..3
        g = np.empty((inv.shape[0], 4, 3))
        g[:, 1:, :] = inv
        g[:, 0, :] = -inv.sum(axis=1)
        return g

    @cached_property
    def _pattern(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """The CSR pattern (n × n) and, for every element entry (e, i, j), its index in the CSR data."""
        n, ne = self.p.shape[1], self.t.shape[1]
        rows = np.repeat(self.t.T, 4, axis=1).ravel()  # e, i, j -> t[i, e]
        cols = np.tile(self.t.T, (1, 4)).ravel()  # e, i, j -> t[j, e]
        key = rows.astype(np.int64) * n + cols
        unique, where = np.unique(key, return_inverse=True)
        indptr = np.searchsorted(unique // n, np.arange(n + 1))
        pattern = sp.csr_matrix((np.zeros(unique.size), (unique % n).astype(np.int32), indptr), shape=(n, n))
        assert where.size == 16 * ne
        return pattern, where

    def _assemble(self, local: np.ndarray) -> sp.csr_matrix:
        pattern, where = self._pattern
        data = np.bincount(where, weights=local.ravel(), minlength=pattern.nnz)
        return sp.csr_matrix((data, pattern.indices, pattern.indptr), shape=pattern.shape)

    def stiffness(self, k: np.ndarray) -> sp.csr_matrix:
        """∫ k ∇φ_i·∇φ_j for a conductivity per element (W/(m·K)) → W/K."""
        g = self.gradients
        return self._assemble((k * self.volumes)[:, None, None] * np.einsum("eik,ejk->eij", g, g))

    def mass(self, c: np.ndarray) -> sp.csr_matrix:
        """∫ c φ_i φ_j for a volumetric heat capacity per element (J/(m³·K)) → J/K (consistent mass)."""
        local = (np.ones((4, 4)) + np.eye(4)) / 20.0
        return self._assemble((c * self.volumes)[:, None, None] * local[None, :, :])

    def volume_weights(self, elements: np.ndarray) -> np.ndarray:
        """∫ φ_i over ``elements`` per node (m³): each element gives a quarter of its volume to each node."""
        w = np.repeat(self.volumes[elements] / 4.0, 4)
        return np.bincount(self.t[:, elements].T.ravel(), weights=w, minlength=self.p.shape[1])


def surface_weights(p: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """∫ φ_i over triangles (3 × nf node indices) per node (m²): a third of each area to each node."""
    a, b, c = (p[:, triangles[i]] for i in range(3))
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a, axis=0), axis=0)
    return np.bincount(triangles.T.ravel(), weights=np.repeat(area / 3.0, 3), minlength=p.shape[1])
