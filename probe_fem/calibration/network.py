"""The junction/probe/substrate resistance network (paper Fig. 1b) and when Q_P = ΔT_TC / R_P holds.

Nodes: the probe apex P, the substrate hot spot S, ground.  The probe conducts
from the apex to its heat sink (R_apex from the FEM), the junction couples P
and S (R_J), the substrate spreads heat from S (R_S).  Heat Q_P enters at P,
Q_S at S.  Heat crossing the junction, Q_J = (T_P − T_S)/R_J, leaves the probe
at its apex, so the thermocouple reads R_P·(Q_P − Q_J) and the paper's estimate
Q_P,est = ΔT_TC / R_P is off by

    ε = −Q_J / Q_P = (R_S·Q_S/Q_P − R_apex) / (R_apex + R_J + R_S).

With a lumped probe (R_apex = R_P) this is the paper's network: the exact probe
rise is ΔT_P = R_P·[Q_P·(R_J + R_S) + Q_S·R_S] / (R_P + R_J + R_S).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from probe_fem import paper
from probe_fem.constants import G0, G_TH0_PER_K
from probe_fem.constants import LORENZ_0 as L0
from probe_fem.errors import InputError
from probe_fem.physics.analytic import spreading_resistance  # noqa: F401  (part of the network API)


def thermal_conductance_quantum(T: float = 300.0) -> float:
    """g₀ = π² k_B² T / (3h), W/K (0.284 nW/K at 300 K)."""
    return G_TH0_PER_K * T


def wiedemann_franz(G: float, T: float = 300.0) -> float:
    """Electronic thermal conductance L₀·T·G (W/K) of a contact of electrical conductance G (S)."""
    if G <= 0 or T <= 0:
        raise InputError(f"conductance = {G} S, temperature = {T} K: both must be > 0")
    return L0 * T * G


def junction_resistance(G: float = 0.0, phonon: float = 0.0, T: float = 300.0) -> float:
    """R_J (K/W) of a junction: electronic part by Wiedemann–Franz from G (S) plus a phonon conductance (W/K)."""
    g = (wiedemann_franz(G, T) if G > 0 else 0.0) + phonon
    if g <= 0:
        raise InputError("junction: give an electrical conductance > 0 S or a thermal conductance > 0 W/K")
    return 1.0 / g


def probe_rise(Q_P, Q_S, R_probe: float, R_J: float, R_S: float):
    """Exact rise of the probe node (K) for heat Q_P at the probe and Q_S at the substrate (W)."""
    return R_probe * (np.asarray(Q_P) * (R_J + R_S) + np.asarray(Q_S) * R_S) / (R_probe + R_J + R_S)


def estimate_error(ratio, R_apex: float, R_J: float, R_S: float):
    """Relative error of Q_P,est = ΔT_TC/R_P against the true Q_P, for Q_S/Q_P = ``ratio``."""
    return (R_S * np.asarray(ratio, float) - R_apex) / (R_apex + R_J + R_S)


@dataclass(frozen=True)
class JunctionClass:
    """A kind of junction: electrical conductance (S) and phonon thermal conductance (W/K)."""

    name: str
    G: float
    phonon: float = 0.0

    @property
    def R_J(self) -> float:
        return junction_resistance(self.G, self.phonon)


# The paper's junctions. Molecules: phonon conductance at the high end of single-molecule values
# (alkanes 20-50 pW/K [lit]) so that the check is worst-case.
PAPER_JUNCTIONS = (
    JunctionClass("Au-Au", paper.CONDUCTANCE_G0["au"] * G0),
    JunctionClass("Au-BDNC-Au", paper.CONDUCTANCE_G0["bdnc"] * G0, 50e-12),  # + a molecular phonon conductance [est]
    JunctionClass("Au-BDA-Au", paper.CONDUCTANCE_G0["bda"] * G0, 50e-12),
)


@dataclass(frozen=True)
class NetworkCheck:
    """Worst-case estimate error for one junction over Q_S/Q_P in [0, ratio_max]."""

    junction: str
    R_J: float
    R_S: float
    R_apex: float
    R_P: float
    ratio_max: float
    tolerance: float

    @property
    def errors(self) -> tuple[float, float]:
        """ε at Q_S/Q_P = 0 and at ratio_max (ε is linear in the ratio: these bound it)."""
        e = estimate_error([0.0, self.ratio_max], self.R_apex, self.R_J, self.R_S)
        return float(e[0]), float(e[1])

    @property
    def worst(self) -> float:
        return max(abs(e) for e in self.errors)

    @property
    def ok(self) -> bool:
        return self.worst <= self.tolerance

    def to_dict(self) -> dict:
        e0, e1 = self.errors
        return {
            "junction": self.junction,
            "R_J_K_per_W": self.R_J,
            "R_S_K_per_W": self.R_S,
            "error_at_QS_over_QP_0": e0,
            "error_at_QS_over_QP_max": e1,
            "QS_over_QP_max": self.ratio_max,
            "worst_relative_error": self.worst,
            "tolerance": self.tolerance,
            "valid": self.ok,
        }


def check(
    junction: JunctionClass, R_apex: float, R_P: float, R_S: float, ratio_max: float = 4.0, tolerance: float = 1e-3
) -> NetworkCheck:
    """Network verdict for one junction class."""
    return NetworkCheck(junction.name, junction.R_J, R_S, R_apex, R_P, ratio_max, tolerance)


_UNITS = {"G0": G0, "S": 1.0, "mS": 1e-3, "uS": 1e-6, "nS": 1e-9, "W/K": 1.0, "nW/K": 1e-9, "pW/K": 1e-12, "K/W": 1.0}


def parse_quantity(text: str, kind: str) -> float:
    """'1G0', '0.002 G0', '7.7e-5S' (conductance) or '30pW/K' (thermal conductance) or '1e7K/W' -> SI."""
    allowed = {
        "conductance": ("G0", "S", "mS", "uS", "nS"),
        "thermal": ("W/K", "nW/K", "pW/K"),
        "resistance": ("K/W",),
    }[kind]
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([A-Za-z0-9/]*)\s*", text)
    unit = (m.group(2) if m else "") or allowed[0]
    if not m or unit not in allowed:
        raise InputError(f"{text!r}: expected a number with a unit from {', '.join(allowed)}")
    try:
        value = float(m.group(1)) * _UNITS[unit]
    except ValueError:
        raise InputError(f"{text!r}: not a number; expected a number with a unit from {', '.join(allowed)}") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{text!r}: allowed (0, inf) {unit}, finite")
    return value
