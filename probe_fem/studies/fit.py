"""Inverse calibration: fit free design parameters to measured R_P, τ (and f−3dB) by least squares.

:func:`fit_design` takes Python values::

    from probe_fem.studies.fit import fit_design
    result = fit_design("probe.toml", free={"body_length": (10, 40), "k_au": None},
                        targets={"rp": (72800.0, 500.0), "tau": (10e-6, 3e-6)})
    result.values, result.uncertainties, result.correlation, result.residuals

It runs in named steps: :class:`FitProblem` (the base design's raw mapping, the free parameters and the
targets, checked: :mod:`probe_fem.studies.targets`), :class:`FitSettings`, then :func:`solve`.  Free
parameters (aliases such as ``body_length`` or dotted keys as written in the design) are varied in
the design's raw mapping, in its units, and every evaluation is a full FEM point
(:func:`probe_fem.studies.evaluate.evaluate_point`: mesh, steady, modes, reduced model).
The parameters (as x = ln(value/start)) are bounded and fitted with ``scipy.optimize.least_squares``
(trust-region reflective) to relative residuals ≈ (model − target)/σ.  Their 1σ uncertainties come
from the Jacobian at the solution, cov = (JᵀJ)⁻¹ (σ-weighted residuals, so no extra variance factor).
:func:`write_fitted_design` writes the fitted design as TOML in the same format and units as the
input, its comments kept, the fitted values and their provenance updated.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
from tomlkit.exceptions import TOMLKitError

from probe_fem.design.load import parse_design, read_toml
from probe_fem.design.schema import Design, DesignError
from probe_fem.errors import FitError
from probe_fem.studies.evaluate import evaluate_point
from probe_fem.studies.keys import apply_overrides
from probe_fem.studies.targets import (
    Bounds,
    FitInputError,
    FreeParameter,
    Problem,
    Target,
    free_parameters,
    targets_from,
)
from probe_fem.studies.toml_edit import dump_toml, edit_toml
from probe_fem.threads import blas_limited

DesignInput = Design | Mapping[str, Any] | str | Path
OnEvaluation = Callable[[dict[str, float], dict[str, Any]], None]  # (overrides, evaluated row)
EvaluateMany = Callable[[list[dict[str, float]]], list[dict[str, Any]]]  # overrides → rows, e.g. on dask


class EvaluationBudgetError(FitError):
    """The fit needed more FEM evaluations than ``max_evaluations`` allows."""

    def __init__(self, max_evaluations: int):
        self.max_evaluations = max_evaluations
        super().__init__(f"no fit within {max_evaluations} evaluations (raise max_evaluations)")


# ---------------------------------------------------------------- parse: the problem and the settings
def design_mapping(design: DesignInput) -> dict[str, Any]:
    """The raw mapping a fit varies, checked as a design: a file's or a mapping's keys and units as
    written (``body.length_um``); a :class:`Design`'s in SI (``body.length_m``, metres)."""
    if isinstance(design, Design):
        return _without_none(design.model_dump(mode="json"))
    if isinstance(design, (str, Path)):
        raw, source = read_toml(Path(design), DesignError), str(design)
    elif isinstance(design, Mapping):
        raw, source = copy.deepcopy(dict(design)), "design"
    else:
        kind = type(design).__name__
        raise FitInputError([Problem("design", f"give a Design, a design mapping or a design file's path, not {kind}")])
    parse_design(raw, source)  # a DesignError lists every problem
    return raw


def _without_none(data: Any) -> Any:
    """A dumped design as a design file has it: no key for an absent (None) value."""
    if isinstance(data, dict):
        return {k: _without_none(v) for k, v in data.items() if v is not None}
    return data


@dataclass(frozen=True)
class FitProblem:
    """What a fit varies and matches: the base design's raw mapping (units as written), the free
    parameters (start and bounds in those units) and the targets (SI, with their 1σ)."""

    raw: dict[str, Any]
    free: tuple[FreeParameter, ...]
    targets: tuple[Target, ...]

    @classmethod
    def create(
        cls, design: DesignInput, free: Mapping[str, Bounds | None] | Sequence[str], targets: Mapping[str, Any]
    ) -> FitProblem:
        """Check and resolve the arguments of :func:`fit_design`; :class:`FitInputError` lists every problem."""
        raw = design_mapping(design)
        params, problems = free_parameters(raw, free)
        goals, more = targets_from(targets)
        problems += more
        if not problems and len(params) > len(goals):
            problems.append(
                Problem(
                    "free",
                    f"{len(params)} parameters but targets gives {len(goals)}: the fit needs at least as many "
                    "targets as free parameters",
                )
            )
        if problems:
            raise FitInputError(problems)
        return cls(raw, tuple(params), tuple(goals))

    @property
    def start(self) -> np.ndarray:
        """Start values (the design's), design units."""
        return np.array([p.start for p in self.free])

    def x_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of the fitted variables x = ln(value/start)."""
        low, high = np.array([p.low for p in self.free]), np.array([p.high for p in self.free])
        return np.log(low / self.start), np.log(high / self.start)

    def values(self, x: np.ndarray) -> np.ndarray:
        """Parameter values (design units) at fitted variables x."""
        return self.start * np.exp(x)

    def overrides(self, x: np.ndarray) -> dict[str, float]:
        """Dotted key → value at x, as :func:`~probe_fem.studies.evaluate.evaluate_point` takes them."""
        return {p.key: float(v) for p, v in zip(self.free, self.values(x))}

    def misfit(self, row: Mapping[str, Any]) -> np.ndarray:
        """Relative misfit of an evaluated point in units of each target's relative uncertainty:
        ln(y/y*)·y*/σ ≈ (y − y*)/σ near the target.  With log parameters the model is close to
        linear (R_P ∝ L/(k·t)), so Gauss–Newton steps land."""
        return np.array([math.log(row[t.column] / t.value) * t.value / t.sigma for t in self.targets])

    def where(self, x: np.ndarray) -> str:
        return ", ".join(f"{p.key} = {v:.6g}" for p, v in zip(self.free, self.values(x)))


def _count(n: Any) -> bool:
    return isinstance(n, Integral) and not isinstance(n, bool) and int(n) >= 1


def _setting_problems(settings: FitSettings) -> list[Problem]:
    s = settings
    checks = [
        ("refine", s.refine > 0 and math.isfinite(s.refine), "must be > 0 (a mesh-size factor)"),
        ("n_modes", _count(s.n_modes), "must be an integer >= 1"),
        ("diff_step", 0 < s.diff_step <= 0.5, "allowed (0, 0.5]: a step in ln(value)"),
        ("match", 0 <= s.match < math.inf, "must be >= 0 (in units of each target's σ)"),
        ("xtol", 0 < s.xtol < 1, "allowed (0, 1): a relative step"),
        ("max_evaluations", _count(s.max_evaluations), "must be an integer >= 1"),
    ]
    return [Problem(name, f"{getattr(s, name)!r}: {text}") for name, ok, text in checks if not ok]


@dataclass(frozen=True)
class FitSettings:
    """How a fit evaluates points and when it stops (see :func:`fit_design`); checked when made."""

    refine: float = 1.0  # mesh refinement factor of every evaluation
    n_modes: int = 6  # slowest modes computed per evaluation
    diff_step: float = 1e-2  # finite-difference step in x = ln(value/start), i.e. relative
    match: float = 0.1  # stop when every residual is below this, in units of its σ
    xtol: float = 1e-4  # stop when a step changes the parameters by less than this (relative)
    max_evaluations: int = 60  # FEM evaluations at most (the Jacobian at the fit comes on top)

    def __post_init__(self) -> None:
        problems = _setting_problems(self)
        if problems:
            raise FitInputError(problems)


# ---------------------------------------------------------------- compute: evaluations, residual, Jacobian
class _Points:
    """The fit's FEM evaluations by fitted variables x: each point once, new points together (all at
    once when ``evaluate_many`` is given), within the budget; successes and failures in order."""

    def __init__(
        self, problem: FitProblem, settings: FitSettings, on_evaluation: OnEvaluation | None, many: EvaluateMany | None
    ):
        self.problem, self.settings = problem, settings
        self._on_evaluation, self._many = on_evaluation, many
        self.rows: dict[tuple[float, ...], dict[str, Any]] = {}
        self.history: list[dict[str, Any]] = []
        self.failed: list[dict[str, Any]] = []  # trial designs that could not be evaluated

    @staticmethod
    def _key(x: np.ndarray) -> tuple[float, ...]:
        return tuple(np.round(x, 12))

    def evaluate(self, xs: Sequence[np.ndarray]) -> None:
        """Evaluate the points not evaluated yet; :class:`EvaluationBudgetError` past the budget."""
        todo: dict[tuple[float, ...], dict[str, float]] = {}
        for x in xs:
            if (k := self._key(x)) not in self.rows and k not in todo:
                todo[k] = self.problem.overrides(x)
        if len(self.rows) + len(todo) > self.settings.max_evaluations + len(self.problem.free):
            raise EvaluationBudgetError(self.settings.max_evaluations)
        ovs, s = list(todo.values()), self.settings
        rows = (
            self._many(ovs)
            if self._many and ovs
            else [evaluate_point(self.problem.raw, ov, s.refine, s.n_modes) for ov in ovs]
        )
        for (k, ov), row in zip(todo.items(), rows):
            self._record(k, ov, row)

    def _record(self, k: tuple[float, ...], ov: dict[str, float], row: dict[str, Any]) -> None:
        self.rows[k] = row
        if row["status"] == "ok":
            self.history.append({**ov, **{t.column: row[t.column] for t in self.problem.targets}})
        else:
            self.failed.append({**ov, "error": row["error"]})
        if self._on_evaluation:
            self._on_evaluation(ov, row)

    def row(self, x: np.ndarray) -> dict[str, Any]:
        """The evaluated point at x (``status`` "ok" or "failed")."""
        self.evaluate([x])
        return self.rows[self._key(x)]

    def misfit(self, x: np.ndarray) -> np.ndarray | None:
        """:meth:`FitProblem.misfit` at x; ``None`` where the design cannot be evaluated."""
        row = self.row(x)
        return self.problem.misfit(row) if row["status"] == "ok" else None


def _shifted(x: np.ndarray, i: int, step: float) -> np.ndarray:
    out = x.copy()
    out[i] += step
    return out


def _jacobian(points: _Points, x: np.ndarray) -> np.ndarray:
    """d misfit / dx by forward differences with the fit's step, the forward points of every column
    evaluated together (in parallel where possible); backward where the forward point is out of bounds
    or cannot be evaluated (e.g. the mesher fails there)."""
    r0, h = points.misfit(x), points.settings.diff_step
    if r0 is None:
        raise FitError(f"the design at {points.problem.where(x)} cannot be evaluated: {points.row(x)['error']}")
    _, hi = points.problem.x_bounds()
    points.evaluate([_shifted(x, i, h) for i in range(len(x)) if x[i] + h <= hi[i]])
    columns = []
    for i in range(len(x)):
        for step in (h, -h) if x[i] + h <= hi[i] else (-h,):
            ri = points.misfit(_shifted(x, i, step))
            if ri is not None:
                columns.append((ri - r0) / step)
                break
        else:
            raise FitError(
                f"no derivative along {points.problem.free[i].key} at {points.problem.where(x)}: the designs a "
                f"step away cannot be evaluated ({points.failed[-1]['error']})"
            )
    return np.column_stack(columns)


def _residual(points: _Points, weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The residual the solver sees: misfit/weight; zero once every target is matched (so the step is
    taken and the gradient vanishes: the solver stops there); NaN where the design cannot be evaluated
    (the trust region rejects the step and shrinks)."""
    r = points.misfit(x)
    if r is None:
        return np.full(len(weight), np.nan)
    if np.all(np.abs(r) < points.settings.match):
        return np.zeros(len(weight))
    return r / weight


def _weighted_jacobian(points: _Points, weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    return _jacobian(points, x) / weight[:, None]


def _stage_weights(problem: FitProblem) -> list[np.ndarray]:
    """Weights of the fit's stages.  With as many targets as parameters the solution does not depend on
    the weights, and equal weights on the relative misfits avoid the narrow curved valley that a tight
    target (R_P ± 0.7 %) next to a loose one (τ ± 30 %) makes; then (always) the σ-weighted problem."""
    stages = (
        [np.array([t.value / t.sigma for t in problem.targets])] if len(problem.targets) == len(problem.free) else []
    )
    return [*stages, np.ones(len(problem.targets))]


def _least_squares(points: _Points, x: np.ndarray, weight: np.ndarray) -> Any:
    """One bounded trust-region-reflective stage from x (``scipy.optimize.OptimizeResult``)."""
    from scipy.optimize import least_squares

    lo, hi = points.problem.x_bounds()
    return least_squares(
        partial(_residual, points, weight),
        x,
        jac=partial(_weighted_jacobian, points, weight),
        bounds=(lo, hi),
        method="trf",
        x_scale=1.0,
        xtol=points.settings.xtol,
        ftol=1e-8,
        gtol=1e-8,
        max_nfev=points.settings.max_evaluations,
    )


def _uncertainties(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1σ of x (the relative uncertainties of the values) and the correlation, from cov = (JᵀJ)⁻¹."""
    JTJ = J.T @ J
    if np.linalg.cond(JTJ) > 1e12:
        raise FitError(
            "the targets do not determine the free parameters (singular Jacobian): "
            "free fewer parameters or add a target"
        )
    cov = np.linalg.inv(JTJ)
    sd = np.sqrt(np.diag(cov))
    return sd, cov / np.outer(sd, sd)


@blas_limited
def solve(
    problem: FitProblem,
    settings: FitSettings | None = None,
    on_evaluation: OnEvaluation | None = None,
    evaluate_many: EvaluateMany | None = None,
) -> FitResult:
    """Least-squares fit of ``problem`` (each evaluation a full FEM point, in this process unless
    ``evaluate_many`` evaluates a list of override mappings at once, e.g. on a dask cluster:
    :func:`probe_fem.studies.runner.dask_evaluator`).  See :func:`fit_design`."""
    settings = settings or FitSettings()
    points = _Points(problem, settings, on_evaluation, evaluate_many)
    x = np.zeros(len(problem.free))
    if points.misfit(x) is None:
        raise FitError(f"the start design cannot be evaluated: {points.row(x)['error']}")
    success, message = False, ""
    for weight in _stage_weights(problem):
        res = _least_squares(points, x, weight)
        x, success, message = res.x, bool(res.success), str(res.message)
    r = points.misfit(x)
    if r is not None and np.all(np.abs(r) < settings.match):
        success, message = True, f"every target matched to within {settings.match:g} σ"
    return _result(points, x, success, message)


def _result(points: _Points, x: np.ndarray, success: bool, message: str) -> FitResult:
    sd, correlation = _uncertainties(_jacobian(points, x))
    fitted = points.problem.values(x)
    return FitResult(
        free=points.problem.free,
        targets=points.problem.targets,
        fitted=fitted,
        sigma=sd * fitted,
        correlation=correlation,
        model=points.row(x),
        evaluations=len(points.rows),
        success=success,
        message=message,
        history=tuple(points.history),
        failed=tuple(points.failed),
    )


def fit_design(
    design: DesignInput,
    free: Mapping[str, Bounds | None] | Sequence[str],
    targets: Mapping[str, tuple[float, float]],
    *,
    refine: float = 1.0,
    n_modes: int = 6,
    diff_step: float = 1e-2,
    match: float = 0.1,
    xtol: float = 1e-4,
    max_evaluations: int = 60,
    on_evaluation: OnEvaluation | None = None,
    evaluate_many: EvaluateMany | None = None,
) -> FitResult:
    """Fit free parameters of ``design`` to measured targets by least squares, each evaluation a FEM point.

    ``design``: a design file's path, its mapping (as read from TOML) or a :class:`Design`.  ``free``:
    ``{name: (low, high)}`` (or ``None``: [start/2, 2·start]; a list of names for all defaults), a name
    being an alias (``"body_length"``, ``"k_au"``: :data:`~probe_fem.studies.targets.ALIASES`) or a
    dotted key as written in the design (``"body.length_um"``; a Design's keys are SI: ``"body.length_m"``),
    the bounds in the same units; the start is the design's value.  ``targets``: ``{"rp": (value, σ),
    "tau": …, "f3db": …}`` in K/W, s and Hz, at least as many as free parameters.

    The fit works in x = ln(value/start) on relative residuals (:meth:`FitProblem.misfit`);
    ``diff_step`` is the finite-difference step in x (1 %: a geometry change remeshes, and a larger step
    keeps mesh noise out of the derivative).  It stops when every residual is below ``match`` (in units
    of its σ), or when a step changes the parameters by less than ``xtol`` (a remeshed geometry moves R_P
    and τ by ~1e-4 relative, so finer steps chase noise).  A trial design that cannot be evaluated is a
    rejected step (the trust region shrinks; listed in :attr:`FitResult.failed`).  ``on_evaluation(overrides,
    row)`` is called after each evaluation; ``evaluate_many`` evaluates a list of overrides at once (the
    Jacobian's columns then run together).

    Raises :class:`~probe_fem.studies.targets.FitInputError` (an ``InputError``) naming the argument
    (``free['body_length'] = (20, 30): …``), :class:`~probe_fem.design.DesignError` for a design that
    does not load, :class:`~probe_fem.errors.FitError` when the fit cannot finish.
    """
    settings = FitSettings(refine, n_modes, diff_step, match, xtol, max_evaluations)
    problem = FitProblem.create(design, free, targets)
    return solve(problem, settings, on_evaluation, evaluate_many)


# ---------------------------------------------------------------- report: the result
@dataclass(frozen=True)
class FitResult:
    """Fitted values (design units) with 1σ uncertainties and their correlation, and the model at the fit."""

    free: tuple[FreeParameter, ...]
    targets: tuple[Target, ...]
    fitted: np.ndarray  # per free parameter, design units
    sigma: np.ndarray  # 1σ per free parameter, design units: (JᵀJ)⁻¹ of the σ-weighted residuals
    correlation: np.ndarray  # of the fitted parameters, in the order of ``free``
    model: dict[str, Any]  # the evaluated point at the fit (evaluate_point's row, SI)
    evaluations: int
    success: bool
    message: str
    history: tuple[dict[str, Any], ...] = ()  # every evaluated design: overrides and the target columns
    failed: tuple[dict[str, Any], ...] = ()  # trial designs that could not be evaluated, with the error

    @property
    def values(self) -> dict[str, float]:
        """Dotted key (as written in the design) → fitted value, design units."""
        return {p.key: float(v) for p, v in zip(self.free, self.fitted)}

    @property
    def uncertainties(self) -> dict[str, float]:
        """Dotted key → 1σ uncertainty of the fitted value, design units."""
        return {p.key: float(s) for p, s in zip(self.free, self.sigma)}

    @property
    def residuals(self) -> dict[str, float]:
        """Target name → (model − target)/σ at the fit."""
        return {t.name: (self.model[t.column] - t.value) / t.sigma for t in self.targets}

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (``fit.json``)."""
        residuals = self.residuals
        return {
            "free": [
                {
                    "key": p.key,
                    "alias": p.alias,
                    "unit": p.unit,
                    "start": p.start,
                    "fitted": float(v),
                    "uncertainty_1sigma": float(s),
                    "bounds": [p.low, p.high],
                }
                for p, v, s in zip(self.free, self.fitted, self.sigma)
            ],
            "correlation": self.correlation.tolist(),
            "targets": [
                {
                    "name": t.name,
                    "column": t.column,
                    "target": t.value,
                    "uncertainty": t.sigma,
                    "model": self.model[t.column],
                    "residual_sigmas": residuals[t.name],
                }
                for t in self.targets
            ],
            "model_at_fit": {k: v for k, v in self.model.items() if k != "error"},
            "evaluations": self.evaluations,
            "success": self.success,
            "message": self.message,
            "failed_trial_designs": list(self.failed),
            "uncertainty_method": "cov = (J^T J)^-1 of the sigma-weighted residuals at the solution",
        }


# ---------------------------------------------------------------- write: the fitted design
def fitted_design_text(source_text: str, raw: dict, result: FitResult, name: str, note: str) -> tuple[str, bool]:
    """Text of the fitted design and whether the input layout was kept (else a regenerated file).

    Sets the fitted values, ``name``, ``provenance`` ("fitted: …") for each
    fitted key and ``origin = "fitted"`` for a fitted material property.  The
    text is checked by parsing it back: it must equal the expected mapping.
    """
    edits: dict[tuple[str, ...], Any] = {("name",): name}
    for p, v in zip(result.free, result.fitted):
        path = tuple(p.key.split("."))
        edits[path] = float(f"{v:.6g}")
        edits[("provenance", p.key)] = f"fitted: {note}"
        if path[0] == "materials":
            edits[(*path[:2], "origin")] = "fitted"
    expected = apply_overrides(raw, {})
    for path, v in edits.items():
        node = expected
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = v
    try:
        text = edit_toml(source_text, edits)
        if tomllib.loads(text) == expected:
            return text, True
    except (TOMLKitError, TypeError, tomllib.TOMLDecodeError):
        pass
    text = dump_toml(expected)
    if tomllib.loads(text) != expected:
        raise FitError("could not write the fitted design as TOML that reads back unchanged")
    return text, False


def write_fitted_design(
    target: str | Path, source_text: str, raw: dict, result: FitResult, name: str, note: str
) -> tuple[Path, bool]:
    """Validate and write the fitted design atomically; returns the path and whether the layout was kept."""
    from probe_fem.io import atomic_path

    text, kept = fitted_design_text(source_text, raw, result, name, note)
    try:
        parse_design(tomllib.loads(text), str(target))
    except DesignError as exc:
        raise FitError(f"the fitted design is not valid: {exc}") from None
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target), kept
