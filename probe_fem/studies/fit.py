"""Inverse calibration: fit free design parameters to measured R_P, τ (and f−3dB) by least squares.

Free parameters (:mod:`probe_fem.studies.targets`: aliases such as ``body_length`` or dotted keys
as written in the design file) are varied in the design's raw TOML mapping (units as written) and
every evaluation is a full FEM point
(:func:`probe_fem.studies.evaluate.evaluate_point`: mesh, steady, modes, reduced model).
The parameters (as ln(value/start)) are bounded and fitted with
``scipy.optimize.least_squares`` (trust-region reflective) to residuals
(model − target)/σ (as relative residuals, see :func:`fit`).  Their 1σ uncertainties come from the Jacobian at the
solution, cov = (JᵀJ)⁻¹ (σ-weighted residuals, so no extra variance factor).
The fitted design is written as TOML in the same format and units as the
input, its comments kept, the fitted values and their provenance updated.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tomlkit.exceptions import TOMLKitError

from probe_fem.design.load import parse_design
from probe_fem.design.schema import DesignError
from probe_fem.errors import FitError
from probe_fem.studies.evaluate import evaluate_point
from probe_fem.studies.keys import apply_overrides
from probe_fem.studies.targets import FreeParameter, Target
from probe_fem.studies.toml_edit import dump_toml, edit_toml
from probe_fem.threads import blas_limited


@dataclass
class FitResult:
    """Fitted values (file units) with 1σ uncertainties, and the model at the fit."""

    free: list[FreeParameter]
    targets: list[Target]
    fitted: np.ndarray
    sigma: np.ndarray
    correlation: np.ndarray
    model: dict[str, float]  # the point's result row at the fit
    evaluations: int
    success: bool
    message: str
    history: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)  # trial designs that could not be evaluated

    @property
    def overrides(self) -> dict[str, float]:
        return {p.key: float(v) for p, v in zip(self.free, self.fitted)}

    def residuals(self) -> dict[str, float]:
        """(model − target)/σ per target."""
        return {t.name: (self.model[t.column] - t.value) / t.sigma for t in self.targets}

    def to_dict(self) -> dict[str, Any]:
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
                    "residual_sigmas": self.residuals()[t.name],
                }
                for t in self.targets
            ],
            "model_at_fit": {k: v for k, v in self.model.items() if k != "error"},
            "evaluations": self.evaluations,
            "success": self.success,
            "message": self.message,
            "failed_trial_designs": self.failed,
            "uncertainty_method": "cov = (J^T J)^-1 of the sigma-weighted residuals at the solution",
        }


class _Matched(Exception):
    """Raised inside the residual when every target is matched: the fit is done at ``x``."""

    def __init__(self, x: np.ndarray):
        super().__init__("matched")
        self.x = x


@blas_limited
def fit(
    base_raw: dict,
    free: list[FreeParameter],
    targets: list[Target],
    refine: float = 1.0,
    n_modes: int = 6,
    diff_step: float = 1e-2,
    match: float = 0.1,
    xtol: float = 1e-4,
    max_evaluations: int = 60,
    on_evaluation: Callable[[dict[str, float], dict[str, Any]], None] | None = None,
    evaluate_many: Callable[[list[dict[str, float]]], list[dict[str, Any]]] | None = None,
) -> FitResult:
    """Least-squares fit of ``free`` to ``targets`` (each evaluation a full FEM point, in this process).

    The fit works in x = ln(value/start) and on relative residuals
    ln(y/y*)·y*/σ (≈ (y − y*)/σ near the target), where the model is close to
    linear (R_P ∝ L/(k·t)); ``diff_step`` is the finite-difference step in x,
    i.e. relative (1 % by default: a geometry change remeshes, and a larger step
    keeps mesh noise out of the derivative).  1σ uncertainties: (JᵀJ)⁻¹ in x,
    times the fitted value.  The fit
    stops when every residual is below ``match`` (in units of its σ), or when a
    step changes the parameters by less than ``xtol`` (relative; a remeshed
    geometry moves R_P and τ by ~1e-4 relative, so finer steps chase noise).  A trial design that
    cannot be evaluated (the mesher fails, the geometry is invalid) is a rejected step: the trust
    region shrinks and the fit goes on; such designs are listed in ``FitResult.failed``.
    ``evaluate_many`` evaluates a list of override mappings at once (e.g. on a dask cluster, see
    :func:`probe_fem.studies.runner.dask_evaluator`): the Jacobian's columns then run in parallel.
    """
    from scipy.optimize import least_squares

    if len(free) > len(targets):
        raise FitError(
            f"{len(free)} free parameters but {len(targets)} target(s): the fit needs at least as many "
            "targets as free parameters"
        )
    p0 = np.array([p.start for p in free])
    lo = np.log(np.array([p.low for p in free]) / p0)  # parameters: x = ln(value / start)
    hi = np.log(np.array([p.high for p in free]) / p0)
    cache: dict[tuple, dict[str, Any]] = {}
    history: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []

    def overrides(x: np.ndarray) -> dict[str, float]:
        return {p.key: float(v) for p, v in zip(free, p0 * np.exp(x))}

    def rows_at(xs: list[np.ndarray]) -> None:
        """Evaluate the points not yet cached (all at once when ``evaluate_many`` is given)."""
        todo: dict[tuple, dict[str, float]] = {}
        for x in xs:
            k = tuple(np.round(x, 12))
            if k not in cache and k not in todo:
                todo[k] = overrides(x)
        if len(cache) + len(todo) > max_evaluations + len(free):
            raise FitError(f"no fit within {max_evaluations} evaluations (raise --max-evaluations)")
        ovs = list(todo.values())
        rows = (
            evaluate_many(ovs)
            if evaluate_many and ovs
            else [evaluate_point(base_raw, ov, refine, n_modes) for ov in ovs]
        )
        for (k, ov), row in zip(todo.items(), rows):
            cache[k] = row
            if row["status"] == "ok":
                history.append({**ov, **{t.column: row[t.column] for t in targets}})
            else:
                failed.append({**ov, "error": row["error"]})
            if on_evaluation:
                on_evaluation(ov, row)

    def row_at(x: np.ndarray) -> dict[str, Any]:
        """The evaluated point at scaled parameters ``x`` (status "ok" or "failed"), cached."""
        rows_at([x])
        return cache[tuple(np.round(x, 12))]

    def r_at(x: np.ndarray) -> np.ndarray | None:
        row = row_at(x)
        if row["status"] != "ok":
            return None
        # relative misfit in units of the relative uncertainty: ln(y/y*)·y*/σ ≈ (y − y*)/σ near the target;
        # with log parameters the model is close to linear (R_P ∝ L/(k·t)), so Gauss–Newton steps land
        return np.array([math.log(row[t.column] / t.value) * t.value / t.sigma for t in targets])

    weight = np.ones(len(targets))  # residuals seen by the solver: r / weight (see the two stages below)

    def residual(x: np.ndarray) -> np.ndarray:
        r = r_at(x)
        if r is None:  # a trial design that cannot be evaluated: NaN makes the trust region reject the step
            return np.full(len(targets), np.nan)
        if np.all(np.abs(r) < match):
            raise _Matched(np.array(x, float))
        return r / weight

    def jacobian(x: np.ndarray) -> np.ndarray:
        """Forward differences with the fit's relative step; backward where the forward point is out of bounds
        or cannot be evaluated (e.g. the mesher fails there)."""
        r0 = r_at(x)
        if r0 is None:
            raise FitError(f"the design at {_where(free, p0 * np.exp(x))} cannot be evaluated: {row_at(x)['error']}")
        J = np.empty((len(targets), len(free)))
        forward = []  # the forward points of every column, evaluated together (in parallel if possible)
        for i in range(len(free)):
            if x[i] + diff_step <= hi[i]:
                forward.append(x.copy())
                forward[-1][i] += diff_step
        rows_at(forward)
        for i in range(len(free)):
            h = diff_step
            for step in (h, -h) if x[i] + h <= hi[i] else (-h,):
                xi = x.copy()
                xi[i] += step
                ri = r_at(xi)
                if ri is not None:
                    J[:, i] = (ri - r0) / step
                    break
            else:
                raise FitError(
                    f"no derivative along {free[i].key} at {_where(free, p0 * np.exp(x))}: the designs a step "
                    f"away cannot be evaluated ({failed[-1]['error']})"
                )
        return J

    x0 = np.zeros(len(free))
    if r_at(x0) is None:
        raise FitError(f"the start design cannot be evaluated: {row_at(x0)['error']}")
    # Stage 1 (as many targets as parameters): the solution does not depend on the weights, and equal
    # weights on the relative misfits avoid the narrow curved valley a tight target (R_P ± 0.7 %) next to
    # a loose one (τ ± 30 %) makes.  Stage 2 (always): the σ-weighted problem from there.
    stages = []
    if len(targets) == len(free):
        stages.append(np.array([t.value / t.sigma for t in targets]))
    stages.append(np.ones(len(targets)))
    x = x0
    try:
        for w in stages:
            weight[:] = w
            res = least_squares(
                residual,
                x,
                jac=lambda x: jacobian(x) / weight[:, None],
                bounds=(lo, hi),
                method="trf",
                x_scale=1.0,
                xtol=xtol,
                ftol=1e-8,
                gtol=1e-8,
                max_nfev=max_evaluations,
            )
            x = res.x
        J, success, message = jacobian(x), bool(res.success), str(res.message)
    except _Matched as m:
        x, success, message = m.x, True, f"every target matched to within {match:g} σ"
        J = jacobian(x)
    JTJ = J.T @ J
    if np.linalg.cond(JTJ) > 1e12:
        raise FitError(
            "the targets do not determine the free parameters (singular Jacobian): "
            "free fewer parameters or add a target"
        )
    cov = np.linalg.inv(JTJ)
    sd = np.sqrt(np.diag(cov))
    fitted = p0 * np.exp(x)
    return FitResult(
        free=free,
        targets=targets,
        fitted=fitted,
        sigma=sd * fitted,
        correlation=cov / np.outer(sd, sd),
        model=row_at(x),
        evaluations=len(cache),
        success=success,
        message=message,
        history=history,
        failed=failed,
    )


def _where(free: list[FreeParameter], values: np.ndarray) -> str:
    return ", ".join(f"{p.key} = {v:.6g}" for p, v in zip(free, values))


# ---------------------------------------------------------------- writing the fitted design
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
