"""Modulation check: how faithfully per-phase averages of ΔT_TC follow a piecewise-constant heating.

The paper applies three-level bias pulses (+V, 0, −V), each held a third of the
period T_P = 1/12.25 s, and reads ΔT_TC,Avg(±V) as the mean rise during the ±V
phase relative to the 0 V phase.  Joule-like heating is positive in both bias
phases (Q(+V) and Q(−V) may differ: that asymmetry is the measurement).

With the probe as a sum of first-order relaxations H(s) = Σ r_j/(λ_j + s)
(:class:`~probe_fem.physics.pole_residue.PoleResidue`), the periodic steady state of each
relaxation under piecewise-constant Q is exact: per phase p of length d_p,
x → x_eq,p + (x − x_eq,p)·e^{−λ d_p}, closed over one period.  The error of a
demodulated value is |ΔT_Avg(±) − R_P·Q(±)| / (R_P·Q(±)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from probe_fem import paper
from probe_fem.errors import InputError, SolverError
from probe_fem.physics.pole_residue import PoleResidue

PAPER_FREQUENCY = paper.MODULATION_FREQUENCY_HZ  # Hz


@dataclass(frozen=True)
class Waveform:
    """Piecewise-constant heat per phase (W) with phase fractions of the period (sum 1)."""

    levels: tuple[float, ...] = (1.0, 0.0, 0.8)  # Q(+V), Q(0), Q(−V): default 20 % asymmetry
    fractions: tuple[float, ...] = (1 / 3, 1 / 3, 1 / 3)
    names: tuple[str, ...] = ("+V", "0", "-V")

    def __post_init__(self):
        if len(self.levels) != len(self.fractions) or len(self.levels) != len(self.names):
            raise InputError("waveform: levels, fractions and names must have the same length")
        if not np.isclose(sum(self.fractions), 1.0) or min(self.fractions) <= 0:
            raise InputError(f"waveform.fractions = {self.fractions}: must be positive and sum to 1")


def phase_averages(rom: PoleResidue, wave: Waveform, frequency: float, dead_time: float = 0.0) -> np.ndarray:
    """Periodic-steady-state mean ΔT_TC (K) in each phase, for heating ``wave`` at ``frequency`` (Hz).

    ``dead_time`` (s) is left out at the start of every phase (samples discarded while the
    electronics settle): the mean is over [t_edge + dead_time, next edge).
    """
    if frequency <= 0:
        raise InputError(f"frequency = {frequency}: must be > 0 Hz")
    d = np.asarray(wave.fractions) / frequency  # phase durations, s
    if not 0 <= dead_time < d.min():
        raise InputError(f"dead_time = {dead_time:g} s: allowed [0, {d.min():g}) s, shorter than the shortest phase")
    q = np.asarray(wave.levels, float)
    lam, r = rom.lam, rom.r
    E = np.exp(-np.outer(d, lam))  # phases x modes
    x_eq = np.outer(q, r / lam)
    # state at the start of phase 1 from periodicity: x1 = A x1 + B
    x = np.zeros_like(lam)
    A = np.ones_like(lam)
    for p in range(len(d)):
        x = x_eq[p] + (x - x_eq[p]) * E[p]
        A = A * E[p]
    x = x / (1 - A)  # B/(1-A), since x held B after starting from 0
    means = []
    for p in range(len(d)):
        # mean of e^{-λt} over [t_ex, d): (e^{-λ t_ex} - e^{-λ d}) / (λ (d - t_ex))
        w = d[p] - dead_time
        frac = np.exp(-lam * dead_time) * -np.expm1(-lam * w) / (lam * w)
        means.append(np.sum(x_eq[p] + (x - x_eq[p]) * frac))
        x = x_eq[p] + (x - x_eq[p]) * E[p]
    return np.array(means)


def demodulation_error(rom: PoleResidue, wave: Waveform, frequency: float, reference: int = 1) -> dict[str, float]:
    """Relative error of ΔT_Avg(phase) − ΔT_Avg(reference) against R_P·(Q_phase − Q_reference), per phase."""
    avg = phase_averages(rom, wave, frequency)
    q = np.asarray(wave.levels, float)
    out = {}
    for p, name in enumerate(wave.names):
        if p == reference:
            continue
        quasi = rom.dc * (q[p] - q[reference])
        out[name] = float(abs((avg[p] - avg[reference]) - quasi) / abs(quasi))
    return out


def worst_error(rom: PoleResidue, wave: Waveform, frequency: float) -> float:
    return max(demodulation_error(rom, wave, frequency).values())


def max_frequency(rom: PoleResidue, wave: Waveform, tolerance: float = 1e-3) -> float:
    """Highest modulation frequency (Hz) at which every demodulated value stays within ``tolerance``."""
    from scipy.optimize import brentq  # imported on use: scipy.optimize takes ~0.3 s to load

    if not 0 < tolerance < 1:
        raise InputError(f"tolerance = {tolerance}: allowed (0, 1)")
    g = lambda lf: worst_error(rom, wave, np.exp(lf)) - tolerance  # noqa: E731
    lo = np.log(rom.lam.min() / (2 * np.pi) * 1e-6)
    hi = lo
    while g(hi) < 0:
        hi += np.log(2.0)
        if hi > np.log(rom.lam.max() * 1e3):
            raise SolverError("demodulation error stays below tolerance at all frequencies")
    return float(np.exp(brentq(g, hi - np.log(2.0), hi, xtol=1e-9)))


@dataclass
class ModulationVerdict:
    """Demodulation errors at one frequency and the highest frequency within tolerance."""

    frequency: float
    tolerance: float
    errors: dict[str, float]
    max_frequency: float
    waveform: Waveform

    @property
    def ok(self) -> bool:
        return max(self.errors.values()) <= self.tolerance

    def to_dict(self) -> dict:
        return {
            "frequency_Hz": self.frequency,
            "tolerance": self.tolerance,
            "relative_errors": self.errors,
            "worst_relative_error": max(self.errors.values()),
            "max_frequency_within_tolerance_Hz": self.max_frequency,
            "quasi_static": self.ok,
            "waveform": {
                "levels_W": list(self.waveform.levels),
                "fractions": list(self.waveform.fractions),
                "phases": list(self.waveform.names),
            },
        }


def check(
    rom: PoleResidue, frequency: float = PAPER_FREQUENCY, tolerance: float = 1e-3, wave: Waveform | None = None
) -> ModulationVerdict:
    """Modulation verdict at ``frequency`` (Hz) for a relative ``tolerance``."""
    wave = wave or Waveform()
    return ModulationVerdict(
        frequency=frequency,
        tolerance=tolerance,
        errors=demodulation_error(rom, wave, frequency),
        max_frequency=max_frequency(rom, wave, tolerance),
        waveform=wave,
    )
