"""Heat exchange of a surface with its surroundings: gas conduction across a gap and linearised radiation.

Gas across a gap ``g`` at pressure ``p`` (the temperature-jump, or Smoluchowski, form)::

    h_gas = k / (g + 2 β λ),   β = (2 − a)/a · 2γ / ((γ + 1) Pr),   λ = k_B T / (√2 π d² p)

bridges the continuum limit (λ ≪ g: h → k/g, independent of p) and the free-molecular limit
(λ ≫ g: h → k/(2βλ) ∝ p).  ``a`` is the thermal accommodation coefficient.  Radiation to surroundings
at T, linearised: h_rad = 4 ε σ T³ (≈ 6.1·ε W/(m²·K) at 300 K; the linearisation is exact to
(3/2)·ΔT/T, 0.5 % for a 1 K rise at 300 K).  SI units throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from probe_fem.constants import AVOGADRO, K_B, SIGMA_SB


@dataclass(frozen=True)
class Gas:
    """A gas near 300 K: conductivity W/(m·K), molar mass kg/mol, heat-capacity ratio, Prandtl number,
    kinetic (collision) diameter m, and where the values come from."""

    k_W_mK: float
    molar_mass_kg_mol: float
    gamma: float
    prandtl: float
    diameter_m: float
    origin: str


GASES: dict[str, Gas] = {
    "air": Gas(
        0.0263, 0.02897, 1.400, 0.707, 3.66e-10, "literature: Incropera & DeWitt, air at 300 K; d from viscosity"
    ),
    "N2": Gas(0.0259, 0.02801, 1.400, 0.716, 3.70e-10, "literature: Incropera & DeWitt, N2 at 300 K; d from viscosity"),
    "He": Gas(0.152, 0.004003, 1.667, 0.680, 2.19e-10, "literature: Incropera & DeWitt, He at 300 K; d from viscosity"),
    "Ar": Gas(
        0.0177, 0.03995, 1.667, 0.670, 3.64e-10, "literature: Lemmon & Jacobsen 2004, Ar at 300 K; d from viscosity"
    ),
}


def mean_free_path(gas: Gas, pressure_Pa: float, temperature_K: float) -> float:
    """λ = k_B T / (√2 π d² p), m (infinite in vacuum); 68 nm for air at 1 atm and 300 K."""
    if pressure_Pa <= 0:
        return math.inf
    return K_B * temperature_K / (math.sqrt(2) * math.pi * gas.diameter_m**2 * pressure_Pa)


def jump_coefficient(gas: Gas, accommodation: float) -> float:
    """Temperature-jump coefficient β = (2 − a)/a · 2γ/((γ + 1) Pr) (dimensionless; 2.0 for air at a = 0.9)."""
    return (2 - accommodation) / accommodation * 2 * gas.gamma / ((gas.gamma + 1) * gas.prandtl)


def gas_h(gas: Gas, gap_m: np.ndarray, pressure_Pa: float, temperature_K: float, accommodation: float) -> np.ndarray:
    """Gas conductance per area across gaps ``gap_m`` (≥ 0), W/(m²·K): k / (g + 2βλ); zero in vacuum."""
    lam = mean_free_path(gas, pressure_Pa, temperature_K)
    if math.isinf(lam):
        return np.zeros_like(np.asarray(gap_m, dtype=float))
    return gas.k_W_mK / (np.asarray(gap_m, dtype=float) + 2 * jump_coefficient(gas, accommodation) * lam)


def free_molecular_h(gas: Gas, pressure_Pa: float, temperature_K: float, accommodation: float) -> float:
    """Kinetic theory's conductance per area between two plates with no collisions between them, W/(m²·K):
    a/(2 − a) · (γ + 1)/(γ − 1) · p · √(k_B / (8π m T)) (molecular flux × energy carried per kelvin).

    A second method for :func:`gas_h`'s low-pressure limit k/(2βλ), which comes from the conductivity
    and the collision diameter instead of the molecular mass."""
    m = gas.molar_mass_kg_mol / AVOGADRO
    a, g = accommodation, gas.gamma
    return a / (2 - a) * (g + 1) / (g - 1) * pressure_Pa * math.sqrt(K_B / (8 * math.pi * m * temperature_K))


def radiation_h(emissivity: np.ndarray | float, temperature_K: float) -> np.ndarray:
    """Linearised radiation to surroundings at ``temperature_K``: 4 ε σ T³, W/(m²·K)."""
    return 4 * np.asarray(emissivity, dtype=float) * SIGMA_SB * temperature_K**3
