"""Landauer heat dissipation in the electrodes of an atomic or molecular junction (paper Eq. 1).

    Q_P(V) = (2/h) ∫ (μ_P − E) τ(E) [f_P − f_S] dE,   Q_S(V) = (2/h) ∫ (E − μ_S) τ(E) [f_P − f_S] dE,
    I(V) = (2e/h) ∫ τ(E) [f_P − f_S] dE,              Q_P + Q_S = I·V.

Sign convention of the paper: positive bias = probe grounded, substrate at the
higher electrical potential, so the substrate's electrochemical potential is
lower: μ_P − μ_S = eV.  Energies are measured from the zero-bias Fermi level;
the bias drops symmetrically by default (μ_P = +eV/2, μ_S = −eV/2; ``division``
moves that split), and τ(E, V) ≈ τ(E, 0) as in the paper.

Linear regime (Eq. 2): Q_P(V) − Q_P(−V) ≈ Q_P(V) − Q_S(V) ≈ 2·G·T·S·V with the
Mott thermopower S = −(π² k_B² T / 3e) τ'(E_F)/τ(E_F): τ' > 0 (LUMO, BDNC) gives
S < 0 and more heat in the probe at negative bias; τ' < 0 (HOMO, BDA) the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from probe_fem.constants import E_CHARGE, G0, H_PLANCK, K_B
from probe_fem.errors import InputError

EV = E_CHARGE  # J per eV


class Transmission:
    """τ(E) with E in eV from the Fermi level; subclasses give ``__call__`` and ``derivative``."""

    name = "transmission"

    def __call__(self, E: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def derivative(self, E: np.ndarray, h: float = 1e-5) -> np.ndarray:
        """dτ/dE (1/eV), central difference unless a subclass knows better."""
        return (self(E + h) - self(E - h)) / (2 * h)


@dataclass(frozen=True)
class Flat(Transmission):
    """Energy-independent transmission (atomic Au contact: τ ≈ 1 per channel)."""

    tau: float = 1.0
    name: str = "flat"

    def __call__(self, E):
        return np.full_like(np.asarray(E, float), self.tau)

    def derivative(self, E, h=1e-5):
        return np.zeros_like(np.asarray(E, float))


@dataclass(frozen=True)
class BreitWigner(Transmission):
    """Single level at ``level`` eV with total broadening ``gamma`` eV (symmetric coupling): peak τ = 1."""

    level: float
    gamma: float
    name: str = "breit-wigner"

    def __post_init__(self):
        if self.gamma <= 0:
            raise InputError(f"gamma = {self.gamma} eV: must be > 0")

    def __call__(self, E):
        g2 = (self.gamma / 2) ** 2
        return g2 / ((np.asarray(E, float) - self.level) ** 2 + g2)

    def derivative(self, E, h=1e-5):
        g2 = (self.gamma / 2) ** 2
        d = np.asarray(E, float) - self.level
        return -2 * d * g2 / (d**2 + g2) ** 2


@dataclass(frozen=True)
class Table(Transmission):
    """Tabulated τ(E) (e.g. a DFT result), linearly interpolated; τ is clamped at the table's ends."""

    E: np.ndarray
    tau: np.ndarray
    name: str = "table"

    @staticmethod
    def load(path: str | Path) -> Table:
        """Two columns, E − E_F (eV) and τ, whitespace or comma separated, '#' comments."""
        p = Path(path)
        try:
            text = p.read_text().replace(",", " ")
            data = np.loadtxt(text.splitlines(), ndmin=2)
        except (OSError, ValueError) as exc:
            raise InputError(f"{p}: cannot read a two-column transmission table ({exc})") from None
        if data.shape[1] != 2 or data.shape[0] < 3:
            raise InputError(f"{p}: need >= 3 rows of two columns (E - E_F in eV, tau); found shape {data.shape}")
        E, tau = data[:, 0], data[:, 1]
        if np.any(np.diff(E) <= 0) or np.any(tau < 0) or not np.all(np.isfinite(data)):
            raise InputError(f"{p}: energies must increase strictly and tau must be finite and >= 0")
        return Table(E=E, tau=tau)

    def __call__(self, E):
        return np.interp(np.asarray(E, float), self.E, self.tau)


def fermi(E: np.ndarray, mu: float, T: float) -> np.ndarray:
    """Fermi–Dirac occupation (E, μ in eV)."""
    return 0.5 * (1 - np.tanh((E - mu) / (2 * K_B * T / EV)))


@dataclass(frozen=True)
class Junction:
    """A two-terminal junction: transmission, temperature (K) and bias division."""

    transmission: Transmission
    T: float = 300.0
    division: float = 0.5  # fraction of eV that raises μ_P

    def potentials(self, V: float) -> tuple[float, float]:
        """(μ_P, μ_S) in eV for bias V (V); μ_P − μ_S = eV."""
        return self.division * V, -(1 - self.division) * V

    def currents(self, V, n: int = 4001) -> dict[str, np.ndarray]:
        """I (A), Q_P, Q_S, Q_total (W) at each bias V (V)."""
        V = np.atleast_1d(np.asarray(V, float))
        kT = K_B * self.T / EV
        mp, ms = self.division * V, -(1 - self.division) * V  # (μ_P, μ_S) per bias, as potentials()
        lo, hi = np.minimum(mp, ms) - 40 * kT, np.maximum(mp, ms) + 40 * kT
        E = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, n)[None, :]  # one grid per bias
        window = self.transmission(E) * (fermi(E, mp[:, None], self.T) - fermi(E, ms[:, None], self.T))
        I = 2 * E_CHARGE / H_PLANCK * np.trapezoid(window, E, axis=1) * EV
        qp = 2 / H_PLANCK * np.trapezoid((mp[:, None] - E) * window, E, axis=1) * EV**2
        qs = 2 / H_PLANCK * np.trapezoid((E - ms[:, None]) * window, E, axis=1) * EV**2
        return {"I": I, "Q_P": qp, "Q_S": qs, "Q_total": I * V}

    @property
    def conductance(self) -> float:
        """Zero-bias conductance G = G0·∫τ(−∂f/∂E) dE (S)."""
        kT = K_B * self.T / EV
        E = np.linspace(-40 * kT, 40 * kT, 8001)
        minus_df = 1 / (4 * kT * np.cosh(E / (2 * kT)) ** 2)
        return float(G0 * np.trapezoid(self.transmission(E) * minus_df, E))

    @property
    def seebeck(self) -> float:
        """Mott thermopower S = −(π² k_B² T/3e)·τ'(E_F)/τ(E_F) (V/K), from the model's own τ'(E_F)."""
        t, dt = self.transmission(np.array([0.0]))[0], self.transmission.derivative(np.array([0.0]))[0]
        return float(-(np.pi**2 * K_B**2 * self.T / (3 * E_CHARGE)) * dt / t / EV)

    @property
    def seebeck_exact(self) -> float:
        """Linear-response thermopower −L₁/(e·T·L₀), Lₙ = ∫(E−E_F)ⁿ τ (−∂f/∂E) dE (V/K); Mott is its low-T limit."""
        kT = K_B * self.T / EV
        E = np.linspace(-40 * kT, 40 * kT, 8001)
        w = self.transmission(E) / (4 * kT * np.cosh(E / (2 * kT)) ** 2)
        return float(-np.trapezoid(E * w, E) / np.trapezoid(w, E) / self.T)  # eV/(e·K) = V/K

    def asymmetry_linear(self, V, exact: bool = False) -> np.ndarray:
        """Eq. 2: 2·G·T·S·V (W), with the Mott S (default) or the exact linear-response S."""
        S = self.seebeck_exact if exact else self.seebeck
        return 2 * self.conductance * self.T * S * np.asarray(V, float)


def _single_level(level: float, G_over_G0: float) -> BreitWigner:
    """Breit–Wigner level with the broadening that gives τ(E_F) = G/G0."""
    # τ(0) = (Γ/2)² / (ε² + (Γ/2)²)  ⇒  Γ/2 = |ε| sqrt(τ0 / (1 − τ0))
    return BreitWigner(level=level, gamma=2 * abs(level) * np.sqrt(G_over_G0 / (1 - G_over_G0)))


PRESETS: dict[str, Transmission] = {
    # LUMO 1.0 eV above E_F (tau' > 0), tau(E_F) = 0.002: BDNC-like
    "bdnc": _single_level(+1.0, 0.002),
    # HOMO 0.8 eV below E_F (tau' < 0), tau(E_F) = 0.005: BDA-like
    "bda": _single_level(-0.8, 0.005),
    # flat tau = 1: a single-atom Au contact, 1 G0
    "au": Flat(1.0),
}


def preset(name: str) -> Junction:
    """The paper-like junctions: ``bdnc``, ``bda``, ``au``."""
    if name not in PRESETS:
        raise InputError(f"model = {name!r}: allowed {', '.join(PRESETS)}")
    return Junction(PRESETS[name])
