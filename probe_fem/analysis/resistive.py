"""Planning a resistive probe's measurement from its calibration: bias, self-heating, responsivity, noise, NEP.

The resistor carries a sensing current I (a current source, or a Wheatstone bridge of equal arms R_e
driven so that I flows in the sensor).  Heat Q entering at the tip, modulated at f, changes the
resistance by ΔR = R_e·α·R_tip·H_tip(f)·Q (α the TCR of R_e, H_tip normalised to 1 at DC), read as

    current bias:  ΔV = I·ΔR            bridge (equal arms):  ΔV = I·ΔR/2

The bias heats the sensor itself by ΔT_self = I²·R_e·R_self (the calibration's self-heating
resistance), which bounds I.  Noise at the amplifier input, one-sided: the resistor's Johnson noise
4k_BT·R_out (R_out = R_e either way: a current source is an open circuit; a balanced bridge of
equal arms has the output resistance R_e) plus the amplifier's w²(1 + f_c/f).  Responsivity
S(f) = |ΔV/Q| (V/W), noise-equivalent power NEP(f) = √S_V(f)/S(f) (W/√Hz), and a lock-in of time
constant set by a measurement of T seconds (equivalent noise bandwidth 1/(2T)) resolves
σ_Q = NEP/√(2T).  First order in α·ΔT; the bias current's 1/f (excess) noise in the film is left
out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from probe_fem.calibration.schema import Calibration, CalibrationError
from probe_fem.constants import K_B
from probe_fem.errors import InputError

READOUTS = ("current", "bridge")
GAIN = {"current": 1.0, "bridge": 0.5}  # ΔV/(I·ΔR)


class ResistivePlanError(InputError):
    """A resistive measurement that cannot be planned as asked."""

    kind = "plan"


@dataclass(frozen=True)
class Readout:
    """How the resistor is read: ``readout`` (current source or bridge), the bias and the amplifier (SI)."""

    readout: Literal["current", "bridge"] = "current"
    self_heating_K: float = 1.0  # the bias is chosen to heat the sensor by this much (ΔT_self)
    white_V_per_rtHz: float = 4e-9  # amplifier white voltage density
    corner_Hz: float = 3.0  # amplifier 1/f corner
    T_K: float = 300.0  # the resistor's temperature for its Johnson noise

    def __post_init__(self) -> None:
        if self.readout not in READOUTS:
            raise ResistivePlanError(f"readout = {self.readout!r}: allowed {', '.join(READOUTS)}")
        for name in ("self_heating_K", "T_K"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ResistivePlanError(f"{name} = {v!r}: allowed (0, inf)")
        for name in ("white_V_per_rtHz", "corner_Hz"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ResistivePlanError(f"{name} = {v!r}: allowed [0, inf)")


@dataclass(frozen=True)
class ResistivePlan:
    """The planned measurement: bias, self-heating, responsivity and NEP over frequency (SI)."""

    readout: Readout
    R_e: float  # Ω
    tcr: float  # 1/K
    R_tip: float  # K/W
    R_self: float  # K/W
    bias_A: float
    frequencies_Hz: np.ndarray
    responsivity_V_per_W: np.ndarray
    noise_V_per_rtHz: np.ndarray
    seconds: float

    @property
    def self_heating_K(self) -> float:
        return self.bias_A**2 * self.R_e * self.R_self

    @property
    def johnson_V_per_rtHz(self) -> float:
        return math.sqrt(4 * K_B * self.readout.T_K * self.R_e)

    @property
    def nep_W_per_rtHz(self) -> np.ndarray:
        return self.noise_V_per_rtHz / self.responsivity_V_per_W

    @property
    def best(self) -> int:
        """Index of the frequency with the lowest NEP."""
        return int(np.argmin(self.nep_W_per_rtHz))

    @property
    def sigma_Q_W(self) -> float:
        """σ of Q at the best frequency for a measurement of ``seconds`` (ENBW 1/(2T))."""
        return float(self.nep_W_per_rtHz[self.best] / math.sqrt(2 * self.seconds))

    def to_dict(self) -> dict[str, Any]:
        i = self.best
        return {
            "sensor": "resistor",
            "readout": self.readout.readout,
            "R_e_ohm": self.R_e,
            "tcr_per_K": self.tcr,
            "R_tip_K_per_W": self.R_tip,
            "R_self_K_per_W": self.R_self,
            "bias_A": self.bias_A,
            "self_heating_K": self.self_heating_K,
            "bias_power_W": self.bias_A**2 * self.R_e,
            "johnson_V_per_rtHz": self.johnson_V_per_rtHz,
            "amplifier": {"white_V_per_rtHz": self.readout.white_V_per_rtHz, "corner_Hz": self.readout.corner_Hz},
            "best_frequency_Hz": float(self.frequencies_Hz[i]),
            "responsivity_at_best_V_per_W": float(self.responsivity_V_per_W[i]),
            "nep_at_best_W_per_rtHz": float(self.nep_W_per_rtHz[i]),
            "seconds": self.seconds,
            "sigma_Q_W": self.sigma_Q_W,
            "curves": {
                "frequency_Hz": self.frequencies_Hz.tolist(),
                "responsivity_V_per_W": self.responsivity_V_per_W.tolist(),
                "nep_W_per_rtHz": self.nep_W_per_rtHz.tolist(),
            },
            "left_out": "excess (1/f) noise of the biased film; second order in TCR x rise",
        }


def plan_resistive(cal: Calibration, readout: Readout, freq_Hz: np.ndarray, seconds: float = 10.0) -> ResistivePlan:
    """Plan a resistive probe's measurement of heat entering at its tip (see the module docstring).

    Raises:
        CalibrationError: ``cal`` is not a resistive probe's, or lacks its tip transfer function.
        ResistivePlanError: frequencies or time outside (0, inf).
    """
    r, dyn = cal.resistor, cal.dynamics
    if r is None:
        raise CalibrationError(f"{cal.probe}: not a resistive probe's calibration (sensor = {cal.sensor!r})")
    if dyn is None or dyn.transfer_function is None:
        raise CalibrationError(f"{cal.probe}: the calibration has no dynamics; calibrate with dynamics to plan")
    f = np.asarray(freq_Hz, float)
    if f.size == 0 or not np.all(np.isfinite(f) & (f > 0)) or not (math.isfinite(seconds) and seconds > 0):
        raise ResistivePlanError("frequencies and seconds: allowed (0, inf)")
    rom = dyn.transfer_function.model()
    h = np.abs(rom.H(2 * np.pi * f)) / rom.dc  # |H_tip(f)| normalised to 1 at DC
    R_e, alpha, R_tip, R_self = r.R_e.value, r.tcr_per_K, cal.R_P.value, r.R_self.value
    bias = math.sqrt(readout.self_heating_K / (R_e * R_self))
    resp = GAIN[readout.readout] * bias * R_e * abs(alpha) * R_tip * h
    amp = readout.white_V_per_rtHz**2 * (1 + readout.corner_Hz / f)
    noise = np.sqrt(4 * K_B * readout.T_K * R_e + amp)
    return ResistivePlan(readout, R_e, alpha, R_tip, R_self, bias, f, resp, noise, seconds)
