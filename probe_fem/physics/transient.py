"""Transient conduction: heat capacity, thermal modes, step response by variable-step BDF2.

M dT/dt + K T = f(t) with T = 0 on the sink.  Everything works on the free
(non-sink) unknowns of a :class:`~probe_fem.physics.conduction.Problem`; outputs are the
thermocouple (sensor mean) and apex (source mean) rises.

* Modes: K v = λ M v, τᵢ = 1/λᵢ (s), M-orthonormal vᵢ; the modal weight of mode
  i at the thermocouple for apex heating is wᵢ = (s·vᵢ)(vᵢ·f)/(λᵢ R_P): the
  fraction of the steady rise R_P that relaxes with τᵢ (Σ over all modes = 1).
* Step: BDF2 with geometrically growing steps (no Crank–Nicolson ringing);
  one factorization of K + c·M per step size, reused within a stage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from probe_fem.physics.conduction import Problem
from probe_fem.physics.solvers import factorize


def capacity_matrix(prob: Problem, rho_c: np.ndarray) -> sp.csr_matrix:
    """Heat-capacity matrix (J/K) for volumetric heat capacity ρ·c_p per element (J/(m³·K))."""
    mesh = prob.mesh
    if rho_c.shape != (mesh.n_elements,) or not np.all(rho_c > 0):
        raise ValueError("rho_c must be a positive value per element")
    return prob.elements.mass(rho_c)  # consistent P1 mass in closed form (what intorder=2 integrates)


@dataclass
class ThermalSystem:
    """Condensed K, M and the unit-power source f and output functionals on the free unknowns."""

    K: sp.csc_matrix  # W/K
    M: sp.csc_matrix  # J/K
    f: np.ndarray  # source distribution for Q = 1 W
    sensor: np.ndarray  # thermocouple mean functional
    apex: np.ndarray  # apex-cap mean functional

    factor: object = None  # reusable x = factor(b) for K; None: factorized on first use

    @staticmethod
    def of(prob: Problem, M: sp.spmatrix) -> ThermalSystem:
        """The free-unknown system of an assembled problem; reuses the problem's factor of K."""
        free = prob.free
        return ThermalSystem(
            K=prob.K_free,
            M=sp.csc_matrix(M.tocsr()[free][:, free]),
            f=prob.f[free] / prob.power,
            sensor=prob.sensor[free],
            apex=prob.source_mean[free],
            factor=prob.factor,
        )

    @cached_property
    def solve_K(self):
        """Reusable factor of K (steady solves, eigen shift-invert, Krylov at ω = 0)."""
        return self.factor if self.factor is not None else factorize(self.K)

    @cached_property
    def steady(self) -> np.ndarray:
        """Steady rise for Q = 1 W (K/W per node)."""
        return self.solve_K(self.f)

    @property
    def R_P(self) -> float:
        """Steady thermocouple rise per watt, K/W."""
        return float(self.sensor @ self.steady)

    @property
    def R_apex(self) -> float:
        return float(self.apex @ self.steady)


@dataclass
class Modes:
    """Slowest thermal modes: time constants (s) and weights at the thermocouple and apex."""

    tau: np.ndarray
    weight_tc: np.ndarray
    weight_apex: np.ndarray
    seconds: float

    @property
    def dominant(self) -> int:
        """Index of the mode that carries the largest share of the thermocouple's step response."""
        return int(np.argmax(np.abs(self.weight_tc)))


def modes(ts: ThermalSystem, n: int = 10) -> Modes:
    """The ``n`` slowest modes of K v = λ M v (shift-invert about 0 with the factor of K)."""
    t0 = time.perf_counter()
    n = min(n, ts.K.shape[0] - 2)
    op = spla.LinearOperator(ts.K.shape, matvec=ts.solve_K, dtype=float)
    # a fixed start vector (the steady response: rich in the slow modes) makes the modes reproducible
    # bit for bit; ARPACK's default is a random one
    lam, V = spla.eigsh(ts.K, k=n, M=ts.M, sigma=0.0, which="LM", OPinv=op, v0=ts.steady)
    order = np.argsort(lam)
    lam, V = lam[order], V[:, order]
    fv = V.T @ ts.f
    return Modes(
        tau=1.0 / lam,
        weight_tc=(ts.sensor @ V) * fv / lam / ts.R_P,
        weight_apex=(ts.apex @ V) * fv / lam / ts.R_apex,
        seconds=time.perf_counter() - t0,
    )


@dataclass
class StepResponse:
    """Rise per watt (K/W) at the thermocouple and apex after Q steps from 0 to 1 W at t = 0."""

    t: np.ndarray  # s
    tc: np.ndarray
    apex: np.ndarray
    R_P: float  # steady value of ``tc``
    R_apex: float
    factorizations: int
    seconds: float

    def crossing(self, fraction: float, which: str = "tc") -> float:
        """First time (s) the response reaches ``fraction`` of its steady value (log-time interpolation)."""
        y = (self.tc / self.R_P) if which == "tc" else (self.apex / self.R_apex)
        i = int(np.argmax(y >= fraction))
        if y[i] < fraction:
            raise ValueError(f"response never reaches {fraction:.0%} of steady state within t = {self.t[-1]:g} s")
        if i == 0:
            return float(self.t[0])
        lt = np.interp(fraction, [y[i - 1], y[i]], np.log([self.t[i - 1], self.t[i]]))
        return float(np.exp(lt))

    @property
    def final_error(self) -> float:
        """|ΔT_TC(t_end) − R_P| / R_P."""
        return abs(self.tc[-1] - self.R_P) / self.R_P


def step_response(
    ts: ThermalSystem, t_first: float, t_end: float, steps_per_stage: int = 12, growth: float = 2.0
) -> StepResponse:
    """Variable-step BDF2 for a unit heat step at the apex.

    The step starts at ``t_first`` (s) and is multiplied by ``growth`` every
    ``steps_per_stage`` steps until ``t_end`` (s): one factorization per step size
    plus one per size change (the BDF2 coefficient differs there).
    """
    t0 = time.perf_counter()
    cache: dict[float, object] = {}

    def solver(c: float):
        if c not in cache:
            cache[c] = factorize(ts.K + c * ts.M)
        return cache[c]

    T_prev = np.zeros_like(ts.f)
    dt = t_first
    # first step: backward Euler from T = 0
    T = solver(1 / dt)(ts.f)
    times, tc, apex = [0.0, dt], [0.0, ts.sensor @ T], [0.0, ts.apex @ T]
    t, dt_prev, k = dt, dt, 1
    while t < t_end * (1 - 1e-12):
        if k % steps_per_stage == 0:
            dt = dt * growth
        dt = min(dt, t_end - t)
        w = dt / dt_prev
        a0 = (1 + 2 * w) / (1 + w)
        rhs = ts.f + ts.M @ ((1 + w) * T - w**2 / (1 + w) * T_prev) / dt
        T_prev, T = T, solver(a0 / dt)(rhs)
        t += dt
        dt_prev, k = dt, k + 1
        times.append(t)
        tc.append(ts.sensor @ T)
        apex.append(ts.apex @ T)
    return StepResponse(
        t=np.array(times),
        tc=np.array(tc),
        apex=np.array(apex),
        R_P=ts.R_P,
        R_apex=ts.R_apex,
        factorizations=len(cache),
        seconds=time.perf_counter() - t0,
    )


def simulate(ts: ThermalSystem, q: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-step BDF2 (backward Euler first step) for heat ``q[n]`` (W) held over step n, from T = 0.

    Returns the thermocouple and apex rises (K) at the end of every step.
    """
    first, rest = factorize(ts.K + ts.M / dt), factorize(ts.K + 1.5 * ts.M / dt)
    T_prev = np.zeros_like(ts.f)
    T = first(q[0] * ts.f)
    tc, apex = [ts.sensor @ T], [ts.apex @ T]
    for qn in q[1:]:
        T_prev, T = T, rest(qn * ts.f + ts.M @ (2 * T - 0.5 * T_prev) / dt)
        tc.append(ts.sensor @ T)
        apex.append(ts.apex @ T)
    return np.array(tc), np.array(apex)
