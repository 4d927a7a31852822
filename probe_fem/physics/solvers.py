"""Sparse symmetric positive-definite solves, sized to the problem.

* ``direct``: a reusable factor (transient, eigen, frequency).  PARDISO (MKL,
  via the optional ``pypardiso``, installed by ``pip install "probe-fem[fast]"``)
  when it is installed and the matrix is real with more than
  :data:`PARDISO_FROM` unknowns — ~4× faster than SuperLU at 74k unknowns
  here; otherwise SuperLU in symmetric mode (minimum-degree ordering on AᵀA + A,
  no pivoting).  :func:`direct_backend` names the one in use; outputs report it.
  The default below :data:`DIRECT_LIMIT` unknowns.
* ``amg``: conjugate gradients preconditioned by pyamg smoothed aggregation,
  relative residual ``rtol`` (default 1e-12) — for large meshes, where a direct
  factor would not fit in memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from probe_fem.errors import SolverError

DIRECT_LIMIT = 250_000
PARDISO_FROM = 30_000


def _pardiso():
    try:
        import pypardiso  # noqa: F401
    except ImportError:
        return None
    return pypardiso


def direct_backend(n: int, complex_: bool = False) -> str:
    """Name of the direct solver used for an n×n matrix."""
    return "PARDISO (MKL)" if (not complex_ and n > PARDISO_FROM and _pardiso()) else "SuperLU"


@dataclass
class SolveInfo:
    """What solved the system, how long it took (s) and, for CG, the iterations."""

    method: str
    n: int
    seconds: float
    iterations: int = 0


def choose(n: int, method: str = "auto") -> str:
    """The solver for ``n`` unknowns: ``direct`` below :data:`DIRECT_LIMIT`, else ``amg``."""
    if method not in ("auto", "direct", "amg"):
        raise ValueError(f"solver method = {method!r}: allowed auto, direct, amg")
    return ("direct" if n <= DIRECT_LIMIT else "amg") if method == "auto" else method


def factorize(A: sp.spmatrix) -> Callable[[np.ndarray], np.ndarray]:
    """Factor of a symmetric (positive-definite, or complex-symmetric) matrix; returns x = solve(b)."""
    if direct_backend(A.shape[0], np.iscomplexobj(A.data)) == "PARDISO (MKL)":
        solver = _pardiso().PyPardisoSolver(mtype=2)  # real symmetric positive definite
        upper = sp.triu(A, format="csr")
        solver.factorize(upper)
        return lambda b: solver.solve(upper, b)
    lu = spla.splu(sp.csc_matrix(A), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    return lu.solve


def solve_spd(A: sp.spmatrix, b: np.ndarray, method: str = "auto", rtol: float = 1e-12) -> tuple[np.ndarray, SolveInfo]:
    """Solve A x = b for symmetric positive-definite ``A``."""
    kind = choose(A.shape[0], method)
    t0 = time.perf_counter()
    if kind == "direct":
        x = factorize(A)(b)
        return x, SolveInfo(f"direct ({direct_backend(A.shape[0])})", A.shape[0], time.perf_counter() - t0)
    import pyamg

    ml = pyamg.smoothed_aggregation_solver(sp.csr_matrix(A), symmetry="hermitian")
    count = [0]

    def step(_):
        count[0] += 1

    x, code = spla.cg(A, b, rtol=rtol, maxiter=5000, M=ml.aspreconditioner(cycle="V"), callback=step)
    if code != 0:
        raise SolverError(f"AMG-CG did not reach rtol={rtol:g} in {count[0]} iterations")
    return x, SolveInfo("amg-cg (pyamg SA)", A.shape[0], time.perf_counter() - t0, count[0])
