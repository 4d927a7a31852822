"""Frequency response ΔT_TC(ω)/Q(ω) = sᵀ(K + iωM)⁻¹f: direct complex solves and a reduced model.

The reduced model is a rational-Krylov Galerkin projection: the basis holds
(K + σⱼM)⁻¹f and (K + σⱼM)⁻¹s for real shifts σⱼ spread over the probe's
relaxation rates (σ = 0 included, so the steady value is exact).  The projected
pencil (Kᵣ, Mᵣ) is symmetric positive definite, so the model is a sum of
first-order relaxations, H(s) = Σⱼ rⱼ/(λⱼ + s): stable, and it gives the step
and periodic responses in closed form (see :mod:`probe_fem.physics.modulation`).  It is
always verified against direct complex solves (``verify``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse.linalg as spla

from probe_fem.physics.pole_residue import PoleResidue
from probe_fem.physics.solvers import factorize
from probe_fem.physics.transient import ThermalSystem


def reduced_model(ts: ThermalSystem, rates: np.ndarray, depth: int = 2) -> PoleResidue:
    """Rational-Krylov reduced model: for σ = 0 and each real shift in ``rates`` (1/s), a block Krylov
    sequence of (K + σM)⁻¹M applied to (K + σM)⁻¹[f, s, apex], ``depth`` blocks deep, orthonormalised
    (twice-iterated Gram–Schmidt) into one basis; then a Galerkin projection of K and M."""
    return reduced_model_and_space(ts, rates, depth)[0]


@dataclass
class Subspace:
    """The reduced model's orthonormal basis ``V`` (n × m) with the projected K, M (W/K, J/K) and f."""

    V: np.ndarray
    Kr: np.ndarray
    Mr: np.ndarray
    fr: np.ndarray

    def solution(self, w: float) -> np.ndarray:
        """V (Kr + iωMr)⁻¹ Vᵀf: the reduced model's nodal rise (K/W) at ω (rad/s), in the full space."""
        return self.V @ np.linalg.solve(self.Kr + 1j * w * self.Mr, self.fr.astype(complex))


def reduced_model_and_space(ts: ThermalSystem, rates: np.ndarray, depth: int = 2) -> tuple[PoleResidue, Subspace]:
    """:func:`reduced_model` and the :class:`Subspace` it projects on (n × dim floats: not kept in reports)."""
    t0 = time.perf_counter()
    basis = _Basis(ts.K.shape[0])
    for sigma in np.concatenate([[0.0], np.asarray(rates, float)]):
        solve = ts.solve_K if sigma == 0 else factorize(ts.K + sigma * ts.M)
        block = [solve(b) for b in (ts.f, ts.sensor, ts.apex)]
        for _ in range(depth):
            block = [solve(ts.M @ q) for q in (basis.add(x) for x in block) if q is not None]
            if not block:
                break
    V = basis.matrix
    Kr, Mr = V.T @ (ts.K @ V), V.T @ (ts.M @ V)
    lam, Y = sla.eigh((Kr + Kr.T) / 2, (Mr + Mr.T) / 2)
    fy = Y.T @ (V.T @ ts.f)
    rom = PoleResidue(
        lam=lam,
        r=(Y.T @ (V.T @ ts.sensor)) * fy,
        r_apex=(Y.T @ (V.T @ ts.apex)) * fy,
        dim=V.shape[1],
        seconds=time.perf_counter() - t0,
    )
    return rom, Subspace(V, Kr, Mr, V.T @ ts.f)


class _Basis:
    """Growing orthonormal basis; :meth:`add` returns the new unit vector, or None if x is dependent."""

    def __init__(self, n: int, rtol: float = 1e-10):
        self.cols: list[np.ndarray] = []
        self.n, self.rtol = n, rtol

    @property
    def matrix(self) -> np.ndarray:
        return np.column_stack(self.cols)

    def add(self, x: np.ndarray) -> np.ndarray | None:
        norm0 = np.linalg.norm(x)
        if norm0 == 0:
            return None
        x = x / norm0
        if self.cols:
            V = self.matrix
            for _ in range(2):
                x = x - V @ (V.T @ x)
        nx = np.linalg.norm(x)
        if nx < self.rtol:
            return None
        self.cols.append(x / nx)
        return self.cols[-1]


#: normwise backward error ‖f − A T‖₂ / (‖A‖₁‖T‖₂ + ‖f‖₂) at which an iterative solve counts as direct: a
#: solution of the full system perturbed by 1e-15 relative (SuperLU's factorization reaches ~1e-17 here)
BACKWARD_ERROR = 1e-15


def direct(ts: ThermalSystem, omega: np.ndarray, space: Subspace | None = None) -> np.ndarray:
    """Thermocouple response (K/W) from solves of the full system (K + iωM) T = f at each ω (rad/s).

    Below the slowest relaxation rate the fixed point T ← K⁻¹(f − iωM T) on the factor of K converges
    (contraction ω·τ₁) to round-off.  Otherwise GMRES preconditioned by the real factor of K + ωM
    (:func:`shifted_solve`) solves it to the backward error of a direct solver, starting from
    ``space``'s Galerkin solution when given; if it stalls, a complex factorization solves it.
    """
    out = []
    for w in np.atleast_1d(omega):
        T = _low_frequency(ts, float(w))
        if T is None:
            T = shifted_solve(ts, float(w), None if space is None else space.solution(float(w)))
        if T is None:
            T = factorize((ts.K + 1j * w * ts.M).astype(complex))(ts.f.astype(complex))
        out.append(ts.sensor @ T)
    return np.array(out)


def shifted_solve(
    ts: ThermalSystem,
    w: float,
    guess: np.ndarray | None = None,
    eta: float = BACKWARD_ERROR,
    max_iter: int = 60,
    passes: int = 3,
) -> np.ndarray | None:
    """(K + iωM) T = f for ω in rad/s by GMRES preconditioned by the real factor P of K + ωM; None if it stalls.

    The eigenvalues of (K + iωM)P⁻¹ are (λ + iω)/(λ + ω) for the relaxation rates λ: the straight
    segment from i to 1, at distance 1/√2 from 0, so GMRES gains ~0.4 digits an iteration whatever the
    mesh.  The answer is accepted only when the true residual of the full system gives a backward error
    ≤ ``eta``, as a direct solver's would; each of ``passes`` rounds of up to ``max_iter`` iterations
    solves for the remaining residual.  A ``guess`` (e.g. the reduced model's field) only saves
    iterations: it is accepted as it is when its own residual passes that test, and P is then not made.
    """
    n = ts.K.shape[0]
    A = (ts.K + 1j * w * ts.M).tocsr()
    f = ts.f.astype(complex)
    norm_A, norm_f = float(abs(A).sum(axis=0).max()), float(np.linalg.norm(f))  # ‖A‖₁ ≥ ‖A‖₂ (A symmetric)
    T = np.zeros(n, complex) if guess is None else np.asarray(guess, complex)
    r = f - A @ T
    if guess is not None and np.linalg.norm(r) <= eta * (norm_A * np.linalg.norm(T) + norm_f):
        return T
    precondition = factorize(ts.K + w * ts.M)
    size = float(np.linalg.norm(T)) if guess is not None else float(np.linalg.norm(precondition(ts.f)))
    for _ in range(passes):  # ‖P⁻¹f‖₂ ≈ ‖T‖₂ within √2
        T = T + _gmres(A, precondition, r, eta * (norm_A * size + norm_f) / 2, max_iter)
        r = f - A @ T
        if np.linalg.norm(r) <= eta * (norm_A * np.linalg.norm(T) + norm_f):
            return T
    return None


def _gmres(A, precondition, b: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """scipy's GMRES from 0 for A x = b, preconditioned by ``precondition`` ≈ A⁻¹: at most ``max_iter``
    iterations in one cycle, stopping when ‖b − A x‖₂ ≤ ``tol`` (the caller checks the true residual)."""
    n = b.size
    M = spla.LinearOperator((n, n), matvec=precondition, dtype=complex)
    x, _ = spla.gmres(A, b, rtol=0.0, atol=tol, restart=max_iter, maxiter=1, M=M)
    return x


def _low_frequency(ts: ThermalSystem, w: float, rtol: float = 1e-15, max_iter: int = 40) -> np.ndarray | None:
    solve = ts.solve_K

    def K_inv_M(x: np.ndarray) -> np.ndarray:  # the real factor on a complex vector
        y = ts.M @ x
        return solve(y.real) + 1j * solve(y.imag)

    x0 = solve(ts.f).astype(complex)
    x, previous = x0, float("inf")
    for _ in range(max_iter):
        new = x0 - 1j * w * K_inv_M(x)
        size = float(np.linalg.norm(new - x) / np.linalg.norm(new))
        x = new
        if size < rtol:
            return x
        if size > 0.5 * previous:  # not contracting fast enough: leave it to a factorization
            return None
        previous = size
    return None


@dataclass
class FrequencyCheck:
    """Reduced model against direct solves at check frequencies (Hz)."""

    freq: np.ndarray
    direct: np.ndarray
    reduced: np.ndarray
    seconds: float

    @property
    def max_error(self) -> float:
        """max |H_rom − H_direct| / |H_direct|."""
        return float(np.max(np.abs(self.reduced - self.direct) / np.abs(self.direct)))


def verify(ts: ThermalSystem, rom: PoleResidue, freq: np.ndarray, space: Subspace | None = None) -> FrequencyCheck:
    """Compare the reduced model with solves of the full system at ``freq`` (Hz) (see :func:`direct`).

    ``space``: the reduced model's :class:`Subspace`, whose Galerkin field starts each iterative solve;
    each answer still has to satisfy the full system to a backward error of :data:`BACKWARD_ERROR`.
    """
    t0 = time.perf_counter()
    w = 2 * np.pi * np.asarray(freq, float)
    d = direct(ts, w, space)
    return FrequencyCheck(freq=np.asarray(freq, float), direct=d, reduced=rom.H(w), seconds=time.perf_counter() - t0)
