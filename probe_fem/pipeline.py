"""The one calibrate pipeline: design → two meshes → steady (+ dynamics) → calibration → files.

:func:`calibrate` is what the ``probe-fem calibrate`` command, the examples and the
test fixtures all call.  It meshes the design twice (the requested sizes and a 2×
coarser copy, whose R_P difference is the discretisation uncertainty), solves the
steady problem, optionally the dynamics, and builds the :class:`Calibration`.
With ``accuracy`` the calibration mesh comes from the goal-oriented adaptive loop
(:func:`probe_fem.model.adapt.adapt`) and the uncertainty of the FEM R_P is its a-posteriori
estimate; the 2× coarser mesh (the same adaptive size field with every size doubled) is still
solved and its difference reported beside it.
:meth:`CalibrationRun.write` writes what the command writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from probe_fem import paper
from probe_fem._version import software_versions
from probe_fem.calibration.build import SensorReports, build
from probe_fem.calibration.schema import Calibration
from probe_fem.design import Design, load_design
from probe_fem.errors import InputError
from probe_fem.io import staged_outputs, write_json, write_vtu
from probe_fem.mesh.cache import checked_cache, default_cache
from probe_fem.mesh.probe import region_of_elements
from probe_fem.model.adapt import AdaptiveResult, adapt
from probe_fem.model.dynamics import DynamicReport, analyze, discretization
from probe_fem.model.resistor import self_heating_dynamics, solve_resistor
from probe_fem.model.steady import ProbeModel, SteadyReport, build_model, build_models, solve_steady
from probe_fem.plots.dynamics import plot_bode, plot_step
from probe_fem.plots.fields import plot_heat_path
from probe_fem.progress import Stages
from probe_fem.threads import blas_limited

DEFAULT_CACHE = "default"  # the user's mesh cache folder (see probe_fem.mesh.cache.default_cache)


@dataclass
class CalibrationRun:
    """Everything one calibration produced (SI units throughout).

    ``calibration`` is the :class:`Calibration` that analyses consume; ``steady`` the report of
    the calibration mesh and ``coarse`` that of the 2× coarser mesh; ``temperature`` the nodal
    rise (K) for ``steady.power`` W at the apex; ``dynamics`` is None if not asked for;
    ``adaptive`` is the adaptive loop's result when an accuracy was asked for, else None.
    """

    design: Design
    model: ProbeModel
    steady: SteadyReport
    temperature: np.ndarray
    coarse: SteadyReport
    dynamics: DynamicReport | None
    calibration: Calibration
    seconds: dict[str, float] = field(default_factory=dict)
    adaptive: AdaptiveResult | None = None
    sensor: SensorReports | None = None  # the electrical side (R_TC of a thermocouple, a resistor's reports)

    def results(self) -> dict[str, Any]:
        """The content of ``results.json``: every number with its unit in the key."""
        out: dict[str, Any] = {
            "design": self.design.name,
            "design_fingerprint": self.design.fingerprint(),
            "refine": self.model.refine,
            "published": {"R_P_K_per_W": paper.R_P_K_PER_W, "uncertainty_K_per_W": paper.R_P_UNCERTAINTY_K_PER_W},
            **self.steady.to_dict(),
        }
        if self.adaptive is not None:
            out["adaptive"] = {
                **self.adaptive.to_dict(),
                "coarse_comparison": {
                    "definition": "the final adaptive size field with every size doubled",
                    "dofs": self.coarse.dofs,
                    "R_P_K_per_W": self.coarse.R_P,
                    "difference_K_per_W": abs(self.steady.R_P - self.coarse.R_P),
                },
            }
        if self.dynamics is not None:
            out["dynamics"] = self.dynamics.to_dict()
        out.update(_sensor_results(self.sensor))
        out["software"] = self.calibration.software
        out["wall_time_s"] = dict(self.seconds)
        return out

    RESULT_FILES = ("results.json", "temperature.vtu", "heat_path.png", "step_response.png", "bode.png")

    def write(self, folder: str | Path, calib: str | Path | None = None) -> list[Path]:
        """Write the calibration (JSON; default ``folder/calibration.json``), ``results.json``,
        ``temperature.vtu`` (ParaView) and the figures into ``folder``; all of them or none.

        Each file is first written to a temporary in its own target's folder (so on the target's
        filesystem: a calibration file on another disk or in /dev/shm is renamed, never copied across
        devices) and all are renamed into place at the end, so an interruption (Ctrl-C) while writing
        leaves the previous results as they were.  Returns the paths written, the calibration file first.
        """
        final = Path(folder)
        target = Path(calib) if calib else final / "calibration.json"
        writers = self._writers()
        if target.resolve() in {(final / name).resolve() for name, _ in writers}:
            raise InputError(f"calibration file {str(target)!r} is also one of the results in {str(final)!r}")
        with staged_outputs() as stage:
            self.calibration.save(stage.path(target))
            for name, write in writers:
                write(stage.path(final / name))
        return [target] + [final / name for name, _ in writers]

    def _writers(self) -> list[tuple[str, Callable[[Path], Path]]]:
        """(file name in the results folder, writer of that file to a given path)."""
        m, q = self.model.probe.mesh.skfem, self.steady.power
        point = {"dT_K": self.temperature, "dT_per_W_K_per_W": self.temperature / q}
        cell = {"region": region_of_elements(self.model.probe)}
        files: list[tuple[str, Callable[[Path], Path]]] = [
            ("results.json", lambda p: write_json(p, self.results())),
            ("temperature.vtu", lambda p: write_vtu(p, m.p, m.t, point, cell)),
            ("heat_path.png", lambda p: plot_heat_path(self.model, self.temperature, p)),
        ]
        dyn = self.dynamics
        if dyn is not None:
            files += [("step_response.png", lambda p: plot_step(dyn, p)), ("bode.png", lambda p: plot_bode(dyn, p))]
        return files


@blas_limited
def calibrate(
    design: Design | str | Path | None = None,
    refine: float = 1.0,
    *,
    dynamics: bool = True,
    network: bool = True,
    cache: str | None = DEFAULT_CACHE,
    progress: bool | Stages = False,
    solver: str = "auto",
    verify_step: bool = False,
    accuracy: float | None = None,
) -> CalibrationRun:
    """Calibrate a probe design; the one pipeline behind ``probe-fem calibrate``.

    Args:
        design: a validated :class:`Design`, a TOML path, or None for the embedded NTISTP design.
        refine: divides every mesh size of the design (2 halves the element edge lengths); with
            ``accuracy``, the adaptive loop's first mesh is the design's sizes divided by refine/2.
        dynamics: also compute modes, step and frequency response and the modulation verdict.
        network: record the junction/probe network validity in the calibration.
        cache: folder of cached meshes; ``"default"`` for the user's cache, None to always re-mesh.
        progress: show stage progress on stderr (True), or a :class:`Stages` to report into.
        solver: ``"auto"``, ``"direct"`` or ``"amg"`` for the steady solves.
        verify_step: also step the full model in time (BDF2) as a second method for the step response.
        accuracy: target relative error of R_P (e.g. 1e-3): mesh adaptively until the a-posteriori
            estimate is within it (or the loop's limits are reached: then ``run.adaptive.met`` is
            False and the calibration says so); the estimate becomes the FEM uncertainty of R_P.

    Returns:
        A :class:`CalibrationRun`; ``run.calibration.R_P.value`` is R_P in K/W.

    Raises:
        InputError: the design is invalid, or the default mesh cache ($PROBE_FEM_CACHE) cannot be a
            folder (raised before any meshing).
        MeshError, SolverError: meshing or a solve failed.
    """
    d = design if isinstance(design, Design) else load_design(design)
    if accuracy is not None and d.environment is not None:
        raise InputError(
            f"accuracy = {accuracy:g} with [environment]: the a-posteriori estimate covers surfaces without "
            "exchange only; calibrate without accuracy (the 2× mesh comparison gives the FEM uncertainty)"
        )
    stages = progress if isinstance(progress, Stages) else Stages(quiet=not progress)
    folder = checked_cache(default_cache()) if cache == DEFAULT_CACHE else cache
    ad = None
    if accuracy is None:
        coarse_model, model = build_models(d, [refine / 2, refine], stages, folder)
        coarse, _ = solve_steady(coarse_model, method=solver)
        stages.note(f"coarse mesh (sizes ×2) for the discretisation estimate: R_P = {coarse.R_P:,.1f} K/W")
        report, T = solve_steady(model, stages=stages, method=solver)
    else:
        ad = adapt(d, accuracy, start_refine=refine / 2, stages=stages, cache=folder, method=solver)
        model, report, T = ad.model, ad.report, ad.T
        # the same size field with every size doubled: what "2× coarser" means for an adaptive mesh
        coarse_model = build_model(d, ad.refine / 2, stages, folder, background=ad.background)
        coarse, _ = solve_steady(coarse_model, method=solver)
        stages.note(f"adaptive sizes ×2 for comparison: R_P = {coarse.R_P:,.1f} K/W")
    dyn = None
    if dynamics:
        dyn = analyze(model, stages=stages, verify_step=verify_step)
        with stages("coarse dynamics", "(discretisation change of each figure)"):
            dyn.discretization = discretization(dyn, coarse_model)
    sensor = _sensor_reports(model, coarse_model, report, coarse, dyn, stages, solver)
    cal = build(
        d, report, coarse.R_P, model.refine, dyn, software_versions(), network=network, adaptive=ad, sensor=sensor
    )
    report.seconds = dict(stages.seconds)
    return CalibrationRun(d, model, report, T, coarse, dyn, cal, dict(stages.seconds), ad, sensor)


def _sensor_reports(
    model: ProbeModel,
    coarse_model: ProbeModel,
    report: SteadyReport,
    coarse: SteadyReport,
    dyn: DynamicReport | None,
    stages: Stages,
    solver: str,
) -> SensorReports | None:
    """A thermocouple's leg resistance, or a resistor's steady reports (both meshes) and self-heating dynamics."""
    if model.electrical is None:
        return None
    if model.design.resistor is None:
        return SensorReports(thermocouple_ohm=model.electrical.resistance)
    with stages("self-heating", "(Joule heat of the sensing current)"):
        fine, _ = solve_resistor(model, report, solver)
        low, _ = solve_resistor(coarse_model, coarse, solver)
        self_dyn = None if dyn is None else self_heating_dynamics(model, dyn.system, float(dyn.modes.tau[0]))
    return SensorReports(fine=fine, coarse=low, dynamics=self_dyn)


def _sensor_results(s: SensorReports | None) -> dict[str, Any]:
    """The ``electrical`` (thermocouple) or ``resistor`` section of ``results.json``."""
    if s is None:
        return {}
    if s.fine is None:
        return {"electrical": {"thermocouple_resistance_ohm": s.thermocouple_ohm}}
    out = {**s.fine.to_dict(), "coarse_mesh": s.coarse.to_dict() if s.coarse else None}
    if s.dynamics is not None:
        freq = np.array([1.0, 10.0, 100.0, 1e3, 1e4, 1e5])
        out["self_heating_dynamics"] = {**s.dynamics.to_dict(), "ac_drive": s.dynamics.third_harmonic(freq, s.fine)}
    return {"resistor": out}
