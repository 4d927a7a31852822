"""The probe's dynamic calibration: mode spectrum, step response, frequency response, modulation verdict.

Built on an assembled :class:`~probe_fem.model.steady.ProbeModel`.  The figures come from the
reduced model (a sum of relaxations, exact in time), which is always checked against direct
complex solves; BDF2 time stepping of the full model is an opt-in second method for the step
(``verify_step``).  :func:`discretization` compares the figures with a 2× coarser mesh's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from probe_fem.errors import SolverError
from probe_fem.mesh.probe import element_materials
from probe_fem.model.steady import ProbeModel
from probe_fem.physics import frequency, modulation, transient
from probe_fem.physics.pole_residue import PoleResidue
from probe_fem.progress import Stages


@dataclass
class DynamicReport:
    """Dynamic calibration quantities (SI)."""

    system: transient.ThermalSystem
    modes: transient.Modes
    rom: PoleResidue
    check: frequency.FrequencyCheck
    verdict: modulation.ModulationVerdict
    step: transient.StepResponse | None = None  # BDF2 of the full model, when asked for
    discretization: dict[str, float] | None = None  # relative change of each figure from a 2x coarser mesh

    @property
    def t10(self) -> float:
        return self.rom.crossing(0.1)

    @property
    def t63(self) -> float:
        return self.rom.crossing(1 - np.exp(-1))

    @property
    def t90(self) -> float:
        return self.rom.crossing(0.9)

    @property
    def t999(self) -> float:
        return self.rom.crossing(0.999)

    def figures(self) -> dict[str, float]:
        """The dynamic figures the calibration reports (s, Hz; the modulation error is relative)."""
        return {
            "dominant_tau_s": float(self.modes.tau[self.modes.dominant]),
            "t10_s": self.t10,
            "t63_s": self.t63,
            "t90_s": self.t90,
            "t999_s": self.t999,
            "f_3dB_Hz": self.f_3dB,
            "mean_delay_s": self.rom.mean_delay,
            "modulation_worst_error": max(self.verdict.errors.values()),
        }

    @property
    def f_3dB(self) -> float:
        return self.rom.f_3dB()

    @property
    def step_rom_error(self) -> float | None:
        """max |BDF2 − reduced model| over the step, relative to R_P (time-stepping error); None without BDF2."""
        if self.step is None:
            return None
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
                "source": "reduced model (exact sum of relaxations)",
                "t10_s": self.t10,
                "t63_s": self.t63,
                "t90_s": self.t90,
                "t999_s": self.t999,
                "apex_t63_s": self.rom.crossing(1 - np.exp(-1), "apex"),
                "mean_delay_s": self.rom.mean_delay,
                "min_relative_value": float(np.min(self.rom.step(_early_times(self.rom)) / self.rom.dc)),
                **(
                    {
                        "bdf2_vs_reduced_model": self.step_rom_error,
                        "bdf2_final_relative_error_vs_R_P": self.step.final_error,
                        "bdf2_steps": int(self.step.t.size - 1),
                        "bdf2_factorizations": self.step.factorizations,
                    }
                    if self.step is not None
                    else {}
                ),
            },
            "discretization_relative_change": self.discretization,
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
    names, index = element_materials(d, pm)
    return np.array([d.materials[n].heat_capacity for n in names])[index]


def thermal_system(model: ProbeModel) -> transient.ThermalSystem:
    M = transient.capacity_matrix(model.problem, heat_capacity(model))
    return transient.ThermalSystem.of(model.problem, M)


def _early_times(rom: PoleResidue) -> np.ndarray:
    return np.geomspace(1e-4 / rom.lam.max(), 50 / rom.lam.min(), 600)


def reduced(model: ProbeModel, n_modes: int = 10) -> tuple[transient.ThermalSystem, transient.Modes, PoleResidue]:
    """Thermal system, slowest modes and the reduced model (not yet verified) of a meshed probe."""
    ts = thermal_system(model)
    modes = transient.modes(ts, n_modes)
    # shifts 0 (reuses the factor of K) and 1000/τ₁ (the sub-µs apex response): one new factor
    return ts, modes, frequency.reduced_model(ts, np.array([1e3 / modes.tau[0]]), depth=12)


def discretization(fine: DynamicReport, coarse_model: ProbeModel, n_modes: int = 10) -> dict[str, float]:
    """Relative change of each dynamic figure between the 2× coarser mesh and the calibration mesh."""
    _, modes, rom = reduced(coarse_model, n_modes)
    v = fine.verdict
    coarse = DynamicReport(
        fine.system, modes, rom, fine.check, modulation.check(rom, v.frequency, v.tolerance, v.waveform)
    )
    a, b = fine.figures(), coarse.figures()
    return {k: abs(a[k] - b[k]) / abs(a[k]) for k in a}


def analyze(
    model: ProbeModel,
    n_modes: int = 10,
    frequency_Hz: float = modulation.PAPER_FREQUENCY,
    tolerance: float = 1e-3,
    wave: modulation.Waveform | None = None,
    stages: Stages | None = None,
    verify_step: bool = False,
) -> DynamicReport:
    """Modes, reduced model (verified against direct solves), step response and modulation verdict.

    ``verify_step`` adds BDF2 time stepping of the full model as a second method for the step.
    """
    stages = stages or Stages(quiet=True)
    with stages("heat capacity"):
        ts = thermal_system(model)
    with stages("eigen", f"({n_modes} slowest modes)"):
        modes = transient.modes(ts, n_modes)
    with stages("frequency", "(reduced model on the factor of K + direct checks)"):
        # shifts 0 (reuses the factor of K) and 1000/τ₁ (the sub-µs apex response): one new factor
        rom, space = frequency.reduced_model_and_space(ts, np.array([1e3 / modes.tau[0]]), depth=12)
        f3 = rom.f_3dB()
        chk = frequency.verify(ts, rom, np.array([frequency_Hz, f3, 10 * f3, 100 * f3, 1000 * f3]), space)
        if chk.max_error > 1e-3:
            raise SolverError(f"reduced model differs from direct solves by {chk.max_error:.1e} (> 1e-3)")
    step = None
    with stages("step response", "(reduced model" + (" and BDF2)" if verify_step else ")")):
        rom.crossing(0.999)  # the step's figures are closed-form crossings of the reduced model
        if verify_step:
            step = transient.step_response(
                ts, t_first=modes.tau[-1] / 1000, t_end=30 * modes.tau[0], steps_per_stage=24, growth=4.0
            )
    with stages("modulation"):
        verdict = modulation.check(rom, frequency_Hz, tolerance, wave)
    return DynamicReport(system=ts, modes=modes, rom=rom, check=chk, verdict=verdict, step=step)


def capacity_shares(model: ProbeModel) -> dict[str, float]:
    """Heat capacity (J/K) of each part of the probe (tip, body, insulating film; as the resistance breakdown)."""
    from probe_fem.model.steady import PARTS, part_of_elements

    c = heat_capacity(model) * model.problem.elements.volumes
    part = part_of_elements(model)
    return {name: float(c[part == i].sum()) for i, name in enumerate(PARTS)}
