"""Goal-oriented adaptive meshing for R_P: mesh to an accuracy, not to sizes.

Loop (:func:`adapt`): mesh with the design's feature sizes (coarsened by ``start_refine``),
solve the steady problem and its dual (the thermocouple-heated solve K z = s, on the same
factor), estimate the error of R_P (:mod:`probe_fem.physics.estimate`); while the estimated
relative error is above the target, give every element of the current mesh a new target
size and remesh with those sizes as gmsh's background field.

New sizes equidistribute the indicators: on a P1 mesh |η_K| ∝ h_K⁵ (both error gradients
are O(h), integrated over a volume O(h³)), and the mesh minimising the element count N for a
total Σ|η_K| has the same η_K = μ on every element: h_new = h_K (μ/|η_K|)^{1/5}, clipped to
[0.5, 2] h_K per iteration (singularities do not follow the h⁵ law) and to [``h_min``,
``h_max``] = [apex size / 8, 4 × far size] of the design's feature sizes; h_K is the longest edge.

μ is not taken from the h⁵ law's prediction of the error (:func:`target_sizes`), which is
optimistic on these meshes (singular film edges, pollution): it is chosen so that the predicted
element count Σ (h_K/h_new)³ is a chosen multiple of the current one (:func:`sizes_for_count`).
That multiple is what the error needs on the observed law error ∝ dofs^−:data:`RATE` (the
``safety`` × accuracy aim, corrected by the ratio of the last mesh's actual to predicted dofs),
but at most :data:`MAX_GROWTH`: small steps let the equidistribution converge (the prediction
counts longest edges, so a predicted ×4 gives fewer dofs than ×4).  Sizes are snapped to
1/32-octave steps, so solver round-off cannot change the meshes.

``met`` means the *estimate* is within the accuracy; how the estimate compares with the true
error on the library's designs is in docs/verification.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from probe_fem.design.schema import Design
from probe_fem.errors import InputError
from probe_fem.mesh.sizing import Background, mesh_settings
from probe_fem.model.steady import ProbeModel, SteadyReport, build_model, solve_steady
from probe_fem.physics import conduction
from probe_fem.physics.estimate import GoalEstimate, element_size, problem_estimate
from probe_fem.progress import Stages
from probe_fem.threads import blas_limited

ACCURACY_RANGE = (1e-5, 0.5)  # relative errors of R_P that can be asked for
MAX_GROWTH = 4.0  # largest predicted element multiple per iteration (Σ (h_K/h_new)³ / N)
RATE = 0.65  # error ∝ dofs^−RATE, to size the step towards the target (measured on the reference)
GROWTH_LIMITS = (0.5, 2.0)  # h_new / h_K per iteration
SIZE_STEPS_PER_OCTAVE = 32


@dataclass(frozen=True)
class AdaptStep:
    """One iteration of the loop: mesh size, R_P (K/W), its estimated error (K/W, signed) and the
    wall time (s) of the iteration: meshing, assembly, solve, dual solve and estimate."""

    dofs: int
    elements: int
    R_P: float
    estimate: float  # estimate of R_P(exact) − R_P(h), K/W
    seconds: float

    @property
    def relative(self) -> float:
        """|estimate| / R_P."""
        return abs(self.estimate) / self.R_P

    def to_dict(self) -> dict[str, Any]:
        return {
            "dofs": self.dofs,
            "tetrahedra": self.elements,
            "R_P_K_per_W": self.R_P,
            "estimated_error_K_per_W": self.estimate,
            "estimated_relative_error": self.relative,
            "wall_time_s": self.seconds,
        }


@dataclass
class AdaptiveResult:
    """The last mesh of the loop with its solution, the estimate and the history.

    ``met`` is True when the estimated relative error is within ``accuracy``; otherwise
    ``stopped`` says why the loop ended (iterations or dofs exhausted).  ``background`` and
    ``refine`` rebuild the final mesh (``background`` None: the design's feature sizes).
    """

    model: ProbeModel
    report: SteadyReport
    T: np.ndarray  # nodal temperature rise, K, for report.power W
    estimate: GoalEstimate  # η per element in K (for report.power W)
    accuracy: float
    met: bool
    stopped: str
    history: list[AdaptStep] = field(default_factory=list)
    background: Background | None = None
    refine: float = 1.0

    @property
    def error(self) -> float:
        """Estimated R_P(exact) − R_P(h), K/W (signed)."""
        return self.estimate.error / self.report.power

    @property
    def relative_error(self) -> float:
        """|estimated error| / R_P."""
        return abs(self.error) / self.report.R_P

    def to_dict(self) -> dict[str, Any]:
        """The ``adaptive`` section of ``results.json``."""
        return {
            "target_relative_error": self.accuracy,
            "met": self.met,
            "stopped": self.stopped,
            "estimated_error_K_per_W": self.error,
            "estimated_relative_error": self.relative_error,
            "estimator": "dual-weighted, hierarchical P2 edge bubbles (probe_fem.physics.estimate)",
            "history": [s.to_dict() for s in self.history],
        }


def dual_solution(model: ProbeModel, method: str = "auto") -> np.ndarray:
    """z with K z = s (the thermocouple-heated solve, K/W): the influence of heat anywhere on ΔT_TC."""
    prob = model.problem
    return conduction.solve(prob, f=prob.sensor, method=method).T


def estimate_model(model: ProbeModel, T: np.ndarray, method: str = "auto") -> GoalEstimate:
    """Goal-oriented error estimate of ΔT_TC (K) for the steady solution ``T`` of ``model``."""
    return problem_estimate(model.problem, T, dual_solution(model, method))


def target_sizes(
    h: np.ndarray, eta: np.ndarray, tolerance: float, h_min: float, h_max: float
) -> tuple[np.ndarray, float]:
    """New target size per element (m) for a total Σ|η| ≈ ``tolerance`` (unit of η); and the predicted element count.

    ``h``: current sizes (m); ``eta``: indicators.  Equidistribution (see the module docstring).
    """
    a = np.maximum(np.abs(eta), np.finfo(float).tiny)
    mu = (tolerance / np.sum(a**0.6)) ** 2.5
    lo, hi = GROWTH_LIMITS
    ratio = np.clip((mu / a) ** 0.2, lo, hi)
    size = np.clip(h * ratio, h_min, h_max)
    # snapped to 1/32-octave steps (2.2 %): round-off in the solves (PARDISO is not bitwise
    # reproducible) then cannot change the size field, so the same design gives the same meshes
    size = np.exp2(np.round(np.log2(size) * SIZE_STEPS_PER_OCTAVE) / SIZE_STEPS_PER_OCTAVE)
    return size, float(np.sum((h / size) ** 3))


def sizes_for_count(
    h: np.ndarray, eta: np.ndarray, count: float, h_min: float, h_max: float
) -> tuple[np.ndarray, float]:
    """Equidistributed sizes (as :func:`target_sizes`) for a predicted element count ``count``.

    The tolerance is bisected (in log) until Σ (h/size)³ ≈ ``count``; returns the sizes and
    their predicted count (clipping may make ``count`` unreachable: then the nearest end).
    """
    a = np.maximum(np.abs(eta), np.finfo(float).tiny)
    s06 = float(np.sum(a**0.6))
    lo_g, hi_g = GROWTH_LIMITS
    # tolerances at which every element is at the lower / upper growth limit
    lo = np.log(s06 * lo_g**2 * float(a.min()) ** 0.4) - 1.0
    hi = np.log(s06 * hi_g**2 * float(a.max()) ** 0.4) + 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if target_sizes(h, eta, float(np.exp(mid)), h_min, h_max)[1] > count:
            lo = mid
        else:
            hi = mid
    return target_sizes(h, eta, float(np.exp(hi)), h_min, h_max)


@blas_limited
def adapt(
    design: Design,
    accuracy: float,
    *,
    max_iterations: int = 10,
    max_dofs: int = 400_000,
    start_refine: float = 0.5,
    safety: float = 0.8,
    stages: Stages | None = None,
    cache: str | None = None,
    method: str = "auto",
) -> AdaptiveResult:
    """Refine the mesh of ``design`` until the estimated relative error of R_P is ≤ ``accuracy``.

    Args:
        design: a validated design.
        accuracy: target |ΔR_P|/R_P (e.g. 1e-3 for 0.1 %).
        max_iterations: solves at most (the first mesh counts).
        max_dofs: a next mesh predicted above this many unknowns is not built; the loop stops.
        start_refine: the first mesh is the design's feature sizes divided by this.
        safety: size each step for ``safety`` × accuracy on the law error ∝ dofs^−RATE (at most
            :data:`MAX_GROWTH` × the elements per step).
        stages: progress and timings; cache: mesh cache folder for the first (feature-sized) mesh.
        method: steady solver (``auto``, ``direct``, ``amg``).

    Returns:
        The final mesh and solution; ``met`` False (and ``stopped`` saying why) if the target
        was not reached — never a silent success.

    Raises:
        InputError: ``accuracy`` outside :data:`ACCURACY_RANGE` (before any meshing).
    """
    _check_accuracy(accuracy)
    stages = stages or Stages(quiet=True)
    ms = mesh_settings(design)
    step = _Stepper(accuracy, safety, max_dofs, ms.size_apex_m / 8, 4 * ms.size_far_m)
    background: Background | None = None
    t0 = time.perf_counter()
    model = build_model(design, start_refine, stages, cache)
    history: list[AdaptStep] = []
    while True:
        report, T, est, rel = _solve_and_estimate(model, stages, method, accuracy, len(history) + 1)
        met, stopped, size = rel <= accuracy, "", None
        if not met and len(history) + 1 >= max_iterations:
            stopped = "max_iterations"
        elif not met:
            size, stopped = step.next_sizes(model, report, est, rel, stages)
        history.append(
            AdaptStep(report.dofs, report.elements, report.R_P, est.error / report.power, time.perf_counter() - t0)
        )
        if met or stopped:
            if not met:
                stages.note(f"adaptive: NOT converged to {accuracy:.3%} ({stopped})")
            return AdaptiveResult(
                model, report, T, est, accuracy, met, stopped or "met", history, background, model.refine
            )
        assert size is not None  # neither met nor stopped: the stepper gave the next sizes
        p = model.probe.mesh.skfem
        background = Background(points=p.p, tets=p.t, size=size)
        t0 = time.perf_counter()
        model = build_model(design, stages=stages, background=background)


def _check_accuracy(accuracy: float) -> None:
    lo, hi = ACCURACY_RANGE
    if not lo <= accuracy <= hi:
        raise InputError(f"accuracy = {accuracy!r}: allowed [{lo:g}, {hi:g}] (a relative error of R_P)")


def _solve_and_estimate(
    model: ProbeModel, stages: Stages, method: str, accuracy: float, n: int
) -> tuple[SteadyReport, np.ndarray, GoalEstimate, float]:
    """Steady solve and error estimate of the ``n``-th adaptive mesh; the last item is |error|/R_P."""
    report, T = solve_steady(model, stages=stages, method=method)
    with stages("estimate", "(dual solve, P2 edge bubbles)"):
        est = estimate_model(model, T, method)
    rel = abs(est.error) / report.power / report.R_P
    stages.note(
        f"adaptive {n}: {report.dofs:,} dofs, R_P = {report.R_P:,.1f} K/W, estimated error "
        f"{est.error / report.power:+,.1f} K/W ({rel:.3%}, target {accuracy:.3%})"
    )
    return report, T, est, rel


@dataclass
class _Stepper:
    """Sizes of the next mesh: the element count the error law asks for, corrected by the last miss."""

    accuracy: float
    safety: float
    max_dofs: int
    h_min: float
    h_max: float
    predicted_dofs: float = 0.0  # dofs predicted for the current mesh
    miss: float = 1.0  # actual / predicted dofs of the last step

    def next_sizes(self, model: ProbeModel, report: SteadyReport, est, rel: float, stages: Stages):
        """(target size per element, m; why the loop stops, or "")."""
        if self.predicted_dofs > 0:
            self.miss = report.dofs / self.predicted_dofs
        # dofs multiple the aim needs on the law, in predicted terms; at least ×1.25, at most MAX_GROWTH
        growth = float(np.clip((rel / (self.safety * self.accuracy)) ** (1 / RATE) / self.miss, 1.25, MAX_GROWTH))
        size, predicted = sizes_for_count(
            element_size(model.problem.elements), est.eta, growth * report.elements, self.h_min, self.h_max
        )
        self.predicted_dofs = predicted * report.dofs / report.elements
        dofs_next = self.predicted_dofs * self.miss
        stages.note(
            f"adaptive: next mesh ×{growth:.2f} elements (predicted), expected {dofs_next:,.0f} dofs "
            f"(aim {self.safety * self.accuracy:.3%})"
        )
        if dofs_next > self.max_dofs:
            return size, f"max_dofs (next mesh predicted at {dofs_next:,.0f} dofs > {self.max_dofs:,})"
        return size, ""
