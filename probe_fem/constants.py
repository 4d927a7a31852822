"""Physical constants (SI), all derived from :mod:`scipy.constants` in this one place."""

from __future__ import annotations

import math

from scipy import constants as _c

K_B: float = _c.k  # Boltzmann constant, J/K
AVOGADRO: float = _c.Avogadro  # 1/mol
H_PLANCK: float = _c.h  # Planck constant, J·s
E_CHARGE: float = _c.e  # elementary charge, C
SIGMA_SB: float = _c.Stefan_Boltzmann  # W/(m²·K⁴)

G0: float = 2 * E_CHARGE**2 / H_PLANCK  # conductance quantum 2e²/h, S (7.748e-5)
LORENZ_0: float = math.pi**2 * K_B**2 / (3 * E_CHARGE**2)  # Sommerfeld Lorenz number, W·Ω/K² (2.443e-8)
G_TH0_PER_K: float = math.pi**2 * K_B**2 / (3 * H_PLANCK)  # thermal conductance quantum / T, W/K² (9.464e-13)
