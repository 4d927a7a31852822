"""From measured dissipation back to the junction: a Breit–Wigner transmission fitted to Q_P(±V).

Data: Q_P,Avg at +V and −V for several amplitudes V_M (with σ), optionally the mean currents and
the zero-bias conductance G and Seebeck coefficient S measured separately.  Model: paper Eq. 1
with τ(E) = BW(ε, Γ) + τ_b (a single level, optionally on a flat background) and the bias
division η (μ_P = η·eV).  Weighted least squares in (ε, ln Γ, η[, τ_b]); the fit starts from
levels on both sides of E_F (HOMO: ε < 0, LUMO: ε > 0) and reports the best solution of each
branch, so the answer says which the data prefer and by how much (Δχ²).  Uncertainties and
correlations from the Jacobian at the optimum; predictions (Q_P(±V), Q_S, the exact asymmetry
Q_P(−V) − Q_P(+V) of Eq. 1, S) carry bands from the same covariance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from probe_fem.analysis.junction_data import JunctionData, JunctionDataError
from probe_fem.analysis.landauer import BreitWigner, Junction, Transmission
from probe_fem.constants import G0
from probe_fem.errors import FitError


@dataclass(frozen=True)
class LevelOnBackground(Transmission):
    """A Breit–Wigner level (ε, Γ in eV) on a flat background τ_b (total clamped to [0, 1])."""

    level: float
    gamma: float
    background: float = 0.0
    name: str = "level+background"

    def __call__(self, E: np.ndarray) -> np.ndarray:
        return np.clip(BreitWigner(self.level, self.gamma)(E) + self.background, 0.0, 1.0)


PARAMS = ("level_eV", "gamma_eV", "division", "background")


@dataclass
class JunctionFit:
    """The best fit, the best of the other branch, and predictions with 1σ bands (SI, eV)."""

    values: dict[str, float]
    sigma: dict[str, float]
    correlation: np.ndarray
    names: list[str]
    chi2: float
    dof: int
    branch: str  # "HOMO" (ε < 0) or "LUMO" (ε > 0)
    other_branch_chi2: float | None
    seebeck_V_per_K: float
    seebeck_sigma_V_per_K: float
    conductance_G0: float
    predictions: dict[str, Any] = field(default_factory=dict)

    @property
    def delta_chi2(self) -> float | None:
        """χ² of the other branch's best fit minus this one's (how much the data prefer this branch)."""
        return None if self.other_branch_chi2 is None else self.other_branch_chi2 - self.chi2

    def to_dict(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "delta_chi2_other_branch": self.delta_chi2,
            "chi2": self.chi2,
            "dof": self.dof,
            "chi2_per_dof": self.chi2 / self.dof if self.dof > 0 else None,
            "parameters": {k: {"value": self.values[k], "sigma": self.sigma[k]} for k in self.names},
            "correlation": {"order": self.names, "matrix": self.correlation.tolist()},
            "seebeck_V_per_K": {"value": self.seebeck_V_per_K, "sigma": self.seebeck_sigma_V_per_K},
            "conductance_G0": self.conductance_G0,
            "predictions": self.predictions,
        }


def _junction(p: dict[str, float], T: float) -> Junction:
    return Junction(
        LevelOnBackground(p["level_eV"], p["gamma_eV"], p.get("background", 0.0)), T=T, division=p["division"]
    )


def _unpack(x: np.ndarray, names: list[str]) -> dict[str, float]:
    p = dict(zip(names, x))
    p["gamma_eV"] = math.exp(p["gamma_eV"])  # fitted as ln Γ
    return p


def _model(p: dict[str, float], data: JunctionData) -> dict[str, np.ndarray]:
    j = _junction(p, data.T_K)
    V = data.bias_V
    c = j.currents(np.concatenate([V, -V]), n=2001)
    n = V.size
    return {
        "q_plus": c["Q_P"][:n],
        "q_minus": c["Q_P"][n:],
        "i_plus": c["I"][:n],
        "i_minus": c["I"][n:],
        "q_s_plus": c["Q_S"][:n],
        "q_s_minus": c["Q_S"][n:],
        "G": np.array([j.conductance]),
        "S": np.array([j.seebeck_exact]),
    }


def _residuals(x: np.ndarray, names: list[str], data: JunctionData) -> np.ndarray:
    m = _model(_unpack(x, names), data)
    r = [(m["q_plus"] - data.q_plus_W) / data.sigma_plus_W, (m["q_minus"] - data.q_minus_W) / data.sigma_minus_W]
    if data.i_plus_A is not None and data.i_minus_A is not None and data.sigma_i_A is not None:
        r += [(m["i_plus"] - data.i_plus_A) / data.sigma_i_A, (m["i_minus"] - data.i_minus_A) / data.sigma_i_A]
    if data.conductance is not None:
        r.append((m["G"] - data.conductance.value) / data.conductance.sigma)
    if data.seebeck is not None:
        r.append((m["S"] - data.seebeck.value) / data.seebeck.sigma)
    return np.concatenate(r)


def fit_junction(
    data: JunctionData, background: bool = False, levels_eV: tuple[float, ...] = (-1.2, -0.5, 0.5, 1.2)
) -> JunctionFit:
    """Fit a Breit–Wigner level (and the bias division, optionally a flat background) to ``data``.

    Starts from each level in ``levels_eV`` (both signs: the HOMO and LUMO branches), with Γ from
    the measured conductance when given; returns the best fit and the other branch's best χ².
    Raises :class:`JunctionDataError` when there are fewer data than parameters.
    """
    names = ["level_eV", "gamma_eV", "division"] + (["background"] if background else [])
    if data.points < len(names):
        raise JunctionDataError(
            f"{data.source}: {data.points} data points for {len(names)} parameters "
            f"({', '.join(names)}): give more biases, the currents, G or S"
        )  # a symmetric junction (Q_P(+V) = Q_P(−V)) is a valid answer (S ≈ 0): not refused
    best = _best_per_branch(data, names, levels_eV, background)
    if not best:
        raise FitError(f"{data.source}: no start point converged")
    branch = min(best, key=lambda k: best[k][0])
    chi2, sol = best[branch]
    other = [best[k][0] for k in best if k != branch]
    cov_x, cov = _covariances(sol, names, data.source)
    sig = np.sqrt(np.diag(cov))
    out = JunctionFit(
        values=_unpack(sol.x, names),
        sigma=dict(zip(names, sig)),
        correlation=cov / np.outer(sig, sig),
        names=names,
        chi2=chi2,
        dof=data.points - len(names),
        branch=branch,
        other_branch_chi2=min(other) if other else None,
        seebeck_V_per_K=0.0,
        seebeck_sigma_V_per_K=0.0,
        conductance_G0=0.0,
    )
    _predict(out, sol.x, cov_x, names, data)
    return out


def _best_per_branch(
    data: JunctionData, names: list[str], levels_eV: tuple[float, ...], background: bool
) -> dict[str, tuple[float, Any]]:
    """The lowest-χ² least-squares solution per branch (HOMO: ε < 0, LUMO: ε > 0) over the start levels;
    Γ starts where a level at ε gives τ(E_F) = the measured conductance."""
    from scipy.optimize import least_squares

    lo = [-5.0, math.log(1e-4), 0.05] + ([0.0] if background else [])
    hi = [5.0, math.log(5.0), 0.95] + ([0.99] if background else [])
    tau0 = min(max(data.conductance.value / G0 if data.conductance else 0.01, 1e-6), 0.99)
    best: dict[str, tuple[float, Any]] = {}
    for eps in levels_eV:
        gamma = 2 * abs(eps) * math.sqrt(tau0 / (1 - tau0))
        x0 = np.array([eps, math.log(min(max(gamma, 1.1e-4), 4.9)), 0.5] + ([0.0] if background else []))
        try:
            sol = least_squares(
                _residuals, x0, args=(names, data), bounds=(lo, hi), method="trf", x_scale="jac", max_nfev=200
            )
        except (ValueError, FloatingPointError):
            continue
        chi2 = float(np.sum(sol.fun**2))
        key = "LUMO" if sol.x[0] > 0 else "HOMO"
        if key not in best or chi2 < best[key][0]:
            best[key] = (chi2, sol)
    return best


def _covariances(sol: Any, names: list[str], source: str) -> tuple[np.ndarray, np.ndarray]:
    """(covariance of the fitted x with ln Γ, covariance of the reported values with Γ) from the Jacobian."""
    JTJ = sol.jac.T @ sol.jac
    if np.linalg.cond(JTJ) > 1e14:
        raise FitError(
            f"{source}: the data do not determine {', '.join(names)} (singular Jacobian); "
            "fix the division or add G, S or the currents"
        )
    cov_x = np.linalg.inv(JTJ)
    p = _unpack(sol.x, names)
    scale = np.array([p["gamma_eV"] if n == "gamma_eV" else 1.0 for n in names])  # ln Γ → Γ: σ_Γ = Γ·σ_lnΓ
    return cov_x, cov_x * np.outer(scale, scale)


def _predict(out: JunctionFit, x: np.ndarray, cov_x: np.ndarray, names: list[str], data: JunctionData) -> None:
    """Predictions at the data's biases with 1σ bands by linear propagation of the fit's covariance."""

    def flat(xx: np.ndarray) -> np.ndarray:
        m = _model(_unpack(xx, names), data)
        return np.concatenate(
            [m["q_plus"], m["q_minus"], m["q_s_plus"], m["q_s_minus"], m["q_minus"] - m["q_plus"], m["S"], m["G"]]
        )

    y0 = flat(x)
    D = np.empty((y0.size, x.size))
    for i in range(x.size):
        h = 1e-6 * max(1.0, abs(x[i]))
        xp = x.copy()
        xp[i] += h
        D[:, i] = (flat(xp) - y0) / h
    band = np.sqrt(np.einsum("ij,jk,ik->i", D, cov_x, D))
    n = data.bias_V.size
    parts = {
        "Q_P_plus_W": slice(0, n),
        "Q_P_minus_W": slice(n, 2 * n),
        "Q_S_plus_W": slice(2 * n, 3 * n),
        "Q_S_minus_W": slice(3 * n, 4 * n),
        "asymmetry_exact_W": slice(4 * n, 5 * n),
    }
    out.predictions = {
        "bias_V": data.bias_V.tolist(),
        **{k: {"value": y0[s].tolist(), "sigma": band[s].tolist()} for k, s in parts.items()},
    }
    out.seebeck_V_per_K, out.seebeck_sigma_V_per_K = float(y0[5 * n]), float(band[5 * n])
    out.conductance_G0 = float(y0[5 * n + 1] / G0)
    # Eq. 2 (linear response) beside the exact asymmetry, only meaningful where e|V| ≪ 2πk_BT
    j = _junction(_unpack(x, names), data.T_K)
    linear = -j.asymmetry_linear(data.bias_V, exact=True)
    exact = y0[4 * n : 5 * n]
    out.predictions["asymmetry_eq2_W"] = linear.tolist()
    out.predictions["eq2_over_exact"] = (linear / np.where(exact == 0, np.nan, exact)).tolist()
