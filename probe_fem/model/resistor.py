"""A resistive probe's calibration: self-heating against heat entering at the tip, steady and dynamic.

A resistor is heater and thermometer at once: it is calibrated by heating itself (R_self, its
mean rise per watt of its own Joule heat), while a measurement wants the response to heat entering
at the apex (R_tip, the sensor's rise per watt at the apex).  R_tip/R_self is the factor a model
must supply; R_apex,self (the apex's rise per watt of Joule heat) is what heats a sample.  The
"sensor" is the readout functional of :mod:`probe_fem.model.electrical`, so the calibration's R_P
of a resistive design is R_tip, and the same mesh-convergence and adaptive machinery drives it.

AC (3ω) drive: a current I₀cos ωt dissipates P̄ = I₀²R_e/2 (1 + cos 2ωt); the sensor's rise at
2ω is P̄·R_self·H_self(2ω) (H normalised to 1 at DC) and the voltage gains a 3ω component of
amplitude ½·I₀·R_e·α_eff·|ΔT₂ω|.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from probe_fem.errors import SolverError
from probe_fem.model.electrical import Electrical, joule_source
from probe_fem.model.steady import ProbeModel, SteadyReport
from probe_fem.physics import conduction, frequency, transient
from probe_fem.physics.pole_residue import PoleResidue


@dataclass
class ResistorReport:
    """Steady calibration of a resistive probe on one mesh (SI units)."""

    R_e: float  # Ω
    tcr: float  # 1/K, α_eff of R_e
    R_self: float  # K/W: sensor rise per watt of Joule heat
    R_tip: float  # K/W: sensor rise per watt at the apex (the calibration's R_P)
    R_apex_self: float  # K/W: apex rise per watt of Joule heat
    film_share: float  # share of the Joule heat in the resistor film
    joule_error: float  # |∫σ|∇φ|² − V·I| / V·I
    balance_error: float  # heat balance of the Joule-heated solve
    uniform_tcr: bool  # one TCR in every conductor: then R_tip = R_apex_self exactly (reciprocity)

    @property
    def ratio(self) -> float:
        """R_tip / R_self."""
        return self.R_tip / self.R_self

    @property
    def dR_dT(self) -> float:
        """Temperature sensitivity of R_e for a uniform rise, Ω/K."""
        return self.R_e * self.tcr

    @property
    def reciprocity_error(self) -> float | None:
        """|R_tip − R_apex,self| / R_tip when the TCR is uniform (a check: round-off), else None."""
        return abs(self.R_tip - self.R_apex_self) / self.R_tip if self.uniform_tcr else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "R_e_ohm": self.R_e,
            "tcr_per_K": self.tcr,
            "dR_dT_ohm_per_K": self.dR_dT,
            "R_self_K_per_W": self.R_self,
            "R_tip_K_per_W": self.R_tip,
            "R_apex_self_K_per_W": self.R_apex_self,
            "R_tip_over_R_self": self.ratio,
            "joule_share_in_film": self.film_share,
            "checks": {
                "joule_vs_terminal_power_relative_error": self.joule_error,
                "self_heating_heat_balance_relative_error": self.balance_error,
                "reciprocity_relative_error": self.reciprocity_error,
            },
            "definitions": {
                "sensor_rise": "dR_e/(R_e alpha_eff): TCR- and Joule-weighted mean rise of the conductors",
                "R_self": "sensor rise per watt of the resistor's own Joule heat (leads included)",
                "R_tip": "sensor rise per watt deposited at the apex",
                "R_apex_self": "apex-cap mean rise per watt of Joule heat",
            },
        }


def _electrical(model: ProbeModel) -> Electrical:
    if model.design.resistor is None or model.electrical is None:
        raise SolverError(f"design {model.design.name!r} has no resistor sensor")
    return model.electrical


def solve_resistor(model: ProbeModel, steady: SteadyReport, method: str = "auto") -> tuple[ResistorReport, np.ndarray]:
    """R_e, α_eff, R_self, R_tip, R_apex,self and their checks; and the rise (K) per watt of Joule heat.

    ``steady``: the apex-heated report of the same model (its R_P is R_tip).
    """
    el = _electrical(model)
    prob = model.problem
    res = conduction.solve(prob, f=joule_source(el, prob.elements), method=method)
    report = ResistorReport(
        R_e=el.resistance,
        tcr=el.tcr_effective,
        R_self=float(prob.sensor @ res.T),
        R_tip=steady.R_P,
        R_apex_self=float(prob.source_mean @ res.T),
        film_share=el.film_share,
        joule_error=el.potential.power_error,
        balance_error=res.balance_error,
        uniform_tcr=el.uniform_tcr,
    )
    return report, res.T


@dataclass
class SelfHeatingDynamics:
    """The self-heating path's reduced model (outputs: sensor ``tc``, apex ``apex``), checked against direct solves."""

    rom: PoleResidue
    check: frequency.FrequencyCheck

    @property
    def f_3dB(self) -> float:
        return self.rom.f_3dB()

    @property
    def t63(self) -> float:
        return self.rom.crossing(1 - np.exp(-1))

    def third_harmonic(self, freq: np.ndarray, steady: ResistorReport) -> dict[str, list[float]]:
        """2ω rise per watt of mean power and V₃ω/I₀³ (V/A³) for a drive current at ``freq`` (Hz)."""
        h = self.rom.H(2 * np.pi * 2 * np.asarray(freq, float)) / self.rom.dc  # normalised to 1 at DC
        dT2 = steady.R_self * np.abs(h)  # K per W of mean power
        return {
            "drive_frequency_Hz": [float(f) for f in freq],
            "rise_2omega_K_per_W": dT2.tolist(),
            "phase_2omega_deg": np.degrees(np.angle(h)).tolist(),
            # P̄ = I₀²R_e/2, V₃ω = ½·I₀·R_e·α·P̄·R_self|H| = I₀³·R_e²·α·R_self|H|/4
            "V3omega_per_I0_cubed_V_per_A3": (steady.R_e**2 * steady.tcr * dT2 / 4).tolist(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "f_3dB_Hz": self.f_3dB,
            "t63_s": self.t63,
            "apex_t63_s": self.rom.crossing(1 - np.exp(-1), "apex"),
            "reduced_vs_direct_max_relative_error": self.check.max_error,
            "check_frequencies_Hz": self.check.freq.tolist(),
        }


def self_heating_dynamics(model: ProbeModel, ts: transient.ThermalSystem, tau_1: float) -> SelfHeatingDynamics:
    """Reduced model of the Joule-heated probe (same K, M and outputs as ``ts``, the Joule source), verified.

    ``tau_1``: the slowest time constant (s), which sets the second Krylov shift as for the apex path.
    """
    el = _electrical(model)
    prob = model.problem
    ts_self = replace(ts, f=joule_source(el, prob.elements)[prob.free])
    rom, space = frequency.reduced_model_and_space(ts_self, np.array([1e3 / tau_1]), depth=12)
    f3 = rom.f_3dB()
    chk = frequency.verify(ts_self, rom, np.array([f3 / 10, f3, 10 * f3, 100 * f3]), space)
    if chk.max_error > 1e-3:
        raise SolverError(f"self-heating reduced model differs from direct solves by {chk.max_error:.1e} (> 1e-3)")
    return SelfHeatingDynamics(rom, chk)
