"""The probe's dynamic calibration: mode spectrum, step response, frequency response, modulation verdict.

Built on an assembled :class:`~probe_fem.model.steady.ProbeModel`; every figure is
cross-checked by a second method: the reduced model against direct complex
solves (frequency) and against BDF2 time stepping (step), the step's end value
against the steady R_P, and the mode spectrum against the reduced model's poles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from probe_fem.errors import SolverError
from probe_fem.mesh.probe import REGIONS, region_of_elements
from probe_fem.model.steady import ProbeModel
from probe_fem.physics import frequency, modulation, transient
from probe_fem.physics.pole_residue import PoleResidue
from probe_fem.progress import Stages


@dataclass
class DynamicReport:
    """Dynamic calibration quantities (SI)."""

    system: transient.ThermalSystem
    modes: transient.Modes
    step: transient.StepResponse
    rom: PoleResidue
    check: frequency.FrequencyCheck
    verdict: modulation.ModulationVerdict

    @property
    def t10(self) -> float:
        return self.step.crossing(0.1)

    @property
    def t63(self) -> float:
        return self.step.crossing(1 - np.exp(-1))

    @property
    def t90(self) -> float:
        return self.step.crossing(0.9)

    @property
    def f_3dB(self) -> float:
        return self.rom.f_3dB()

    @property
    def step_rom_error(self) -> float:
        """max |BDF2 − reduced model| over the step, relative to R_P (time-stepping error)."""
        return float(np.max(np.abs(self.rom.step(self.step.t) - self.step.tc)) / self.step.R_P)

    def to_dict(self) -> dict[str, Any]:
        m = self.modes
        return {
            "modes": {
                "tau_s": m.tau.tolist(),
                "weight_tc": m.weight_tc.tolist(),
                "weight_apex": m.weight_apex.tolist(),
                "dominant_index": m.dominant,
                "dominant_tau_s": float(m.tau[m.dominant]),
                "definition": "weight = share of the steady rise that relaxes with tau (all modes sum to 1)",
            },
            "step_response": {
                "t10_s": self.t10,
                "t63_s": self.t63,
                "t90_s": self.t90,
                "apex_t63_s": self.step.crossing(1 - np.exp(-1), "apex"),
                "final_relative_error_vs_R_P": self.step.final_error,
                "mean_delay_s": self.rom.mean_delay,
                "bdf2_vs_reduced_model": self.step_rom_error,
                "steps": int(self.step.t.size - 1),
                "factorizations": self.step.factorizations,
            },
            "frequency_response": {
                "f_3dB_Hz": self.f_3dB,
                "reduced_model_dim": self.rom.dim,
                "check_frequencies_Hz": self.check.freq.tolist(),
                "reduced_vs_direct_max_relative_error": self.check.max_error,
            },
            "modulation": self.verdict.to_dict(),
        }


def heat_capacity(model: ProbeModel) -> np.ndarray:
    """ρ·c_p per element, J/(m³·K)."""
    d, pm = model.design, model.probe
    per_region = np.array([d.materials[pm.materials[r]].heat_capacity for r in REGIONS])
    return per_region[region_of_elements(pm)]


def thermal_system(model: ProbeModel) -> transient.ThermalSystem:
    M = transient.capacity_matrix(model.problem, heat_capacity(model))
    return transient.ThermalSystem.of(model.problem, M)


def analyze(
    model: ProbeModel,
    n_modes: int = 10,
    frequency_Hz: float = modulation.PAPER_FREQUENCY,
    tolerance: float = 1e-3,
    wave: modulation.Waveform | None = None,
    stages: Stages | None = None,
) -> DynamicReport:
    """Modes, step response, reduced model (verified), modulation verdict for a meshed probe."""
    stages = stages or Stages(quiet=True)
    with stages("heat capacity"):
        ts = thermal_system(model)
    with stages("eigen", f"({n_modes} slowest modes)"):
        modes = transient.modes(ts, n_modes)
    with stages("frequency", "(reduced model on the factor of K + direct checks)"):
        # shifts 0 (reuses the factor of K) and 1000/τ₁ (the sub-µs apex response): one new factor
        rom = frequency.reduced_model(ts, np.array([1e3 / modes.tau[0]]), depth=12)
        f3 = rom.f_3dB()
        chk = frequency.verify(ts, rom, np.array([frequency_Hz, f3, 10 * f3, 100 * f3, 1000 * f3]))
        if chk.max_error > 1e-3:
            raise SolverError(f"reduced model differs from direct solves by {chk.max_error:.1e} (> 1e-3)")
    with stages("step response", "(BDF2)"):
        step = transient.step_response(
            ts, t_first=modes.tau[-1] / 1000, t_end=30 * modes.tau[0], steps_per_stage=24, growth=4.0
        )
    with stages("modulation"):
        verdict = modulation.check(rom, frequency_Hz, tolerance, wave)
    return DynamicReport(system=ts, modes=modes, step=step, rom=rom, check=chk, verdict=verdict)
