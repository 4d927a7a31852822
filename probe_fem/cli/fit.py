"""``probe-fem fit [DESIGN]``: fit free design parameters to measured targets, print the fit, write the design.

The command parses its flags into the Python values of :mod:`probe_fem.studies.fit` (``--free`` and
``--bounds NAME=LOW:HIGH`` → ``{name: (low, high) or None}``; ``--target-*`` → targets) and names its
flags in every problem (one line each, exit code 2, nothing written); then it runs
:func:`probe_fem.studies.fit.solve` with one progress note per FEM evaluation, prints the fitted values
and residuals, and writes the fitted design TOML and ``fit.json``.  The parser is in
:mod:`probe_fem.cli.studies`.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.table import Table

from probe_fem.cli.common import EXIT_BAD_INPUT, EXIT_FAILED
from probe_fem.cli.common import error as _error
from probe_fem.io import check_writable, parse_toml, read_text

if TYPE_CHECKING:
    from probe_fem.design import Design
    from probe_fem.progress import Stages
    from probe_fem.studies.fit import FitProblem, FitResult
    from probe_fem.studies.targets import Bounds, Problem, Target

_SHOWN = {"rp": (1.0, "K/W"), "tau": (1e6, "µs"), "f3db": (1e-3, "kHz")}  # display factor from SI, unit


@dataclass(frozen=True)
class _Inputs:
    """The parsed command: the design file (path, text, raw mapping), the fit problem, the output folder."""

    path: Path
    text: str
    problem: FitProblem
    out: Path


def cmd_fit(args: argparse.Namespace, design: Design, console: Console) -> int:
    """Parse → fit → report → write; the exit code (0: converged, 1: not converged or failed, 2: bad input)."""
    from probe_fem.errors import FitError

    inputs = _parse(args, design)
    if isinstance(inputs, int):
        return inputs
    t0 = time.perf_counter()
    try:
        result = _compute(args, inputs.problem)
    except FitError as exc:
        _error(f"fit: {_flag_message(exc)}")
        return EXIT_FAILED
    seconds = time.perf_counter() - t0
    _report(console, design.name, result, seconds)
    return _write(args, design, inputs, result, seconds, console)


# ---------------------------------------------------------------- parse: flags → Python values
def _parse(args: argparse.Namespace, design: Design) -> _Inputs | int:
    """The design file and the fit problem from the flags, or ``EXIT_BAD_INPUT`` after one line per problem."""
    from probe_fem.design import DesignError
    from probe_fem.design.load import embedded_design_path

    targets = [t for t in (args.target_rp, args.target_tau, args.target_f3db) if t is not None]
    if not targets:
        _error("fit: give at least one target: --target-rp, --target-tau or --target-f3db")
        return EXIT_BAD_INPUT
    path = Path(args.design) if args.design else embedded_design_path()
    text = read_text(path, lambda message: DesignError([message], str(path)))
    raw = parse_toml(text, lambda message: DesignError([message], str(path)))
    problem, problems = _fit_problem(raw, args.free, args.bounds, targets)
    if problem is None:
        _error("fit: " + "\n".join(problems))
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else Path("results") / design.name
    check_writable(out, folder=True, option="--out")
    return _Inputs(path, text, problem, out)


def _fit_problem(
    raw: dict[str, Any], names: str, bounds: str | None, targets: list[Target]
) -> tuple[FitProblem | None, list[str]]:
    """The fit problem of ``--free``/``--bounds`` and the targets, or the problems in the flags' words."""
    from probe_fem.studies.fit import FitProblem
    from probe_fem.studies.targets import free_parameters

    free, problems = free_option(raw, names, bounds)
    params, found = free_parameters(raw, free) if free else ([], [])
    problems += [_flag_text(p) for p in found]
    if problems:
        return None, problems
    if len(params) > len(targets):
        return None, [
            f"--free names {len(params)} parameters but {len(targets)} target(s) are given: free at most as "
            "many parameters as targets"
        ]
    return FitProblem(raw, tuple(params), tuple(targets)), []


def free_option(raw: dict[str, Any], names: str, bounds: str | None) -> tuple[dict[str, Bounds | None], list[str]]:
    """``--free 'au_thickness,body_length'`` and ``--bounds 'body_length=10:40,...'`` → ``{name: (low, high)
    or None}`` (the ``free`` of :func:`~probe_fem.studies.fit.fit_design`), and the problems of their grammar.

    A bound names a free parameter by its alias or its dotted key; the bounds' values are checked by the fit.
    """
    from probe_fem.studies.targets import NUMBER

    listed = [n.strip() for n in names.split(",") if n.strip()]
    free: dict[str, Bounds | None] = dict.fromkeys(listed)
    problems = [f"--free {n!r}: given twice" for n in free if listed.count(n) > 1]
    if not free:
        problems.append("--free: name at least one parameter, e.g. --free body_length")
    for item in [b.strip() for b in (bounds or "").split(",") if b.strip()]:
        m = re.fullmatch(rf"([^=]+)=({NUMBER}):({NUMBER})", item)
        if not m:
            problems.append(f"--bounds {item!r}: give NAME=LOW:HIGH in the design file's units, e.g. body_length=10:40")
            continue
        name = _free_name(raw, free, m.group(1).strip())
        if name is None:
            problems.append(f"--bounds {item!r}: {m.group(1).strip()} is not a --free parameter")
        else:
            free[name] = (float(m.group(2)), float(m.group(3)))
    return free, problems


def _free_name(raw: dict[str, Any], free: dict[str, Any], name: str) -> str | None:
    """The ``--free`` entry that ``name`` (an alias or a dotted key) stands for, if any."""
    from probe_fem.errors import InputError
    from probe_fem.studies.targets import resolve_free

    for entry in free:
        with contextlib.suppress(InputError):  # an entry that does not resolve is reported by the fit's checks
            if name in (entry, resolve_free(raw, entry)[0]):
                return entry
    return None


def _flag_text(p: Problem) -> str:
    """A problem of the fit's ``free`` argument in the words of ``--free`` and ``--bounds``."""
    if p.argument != "free" or p.entry is None:
        return str(p)
    if isinstance(p.given, tuple) and len(p.given) == 2:
        return f"--bounds {p.entry}={p.given[0]:g}:{p.given[1]:g}: {p.detail}"
    return f"--free {p.entry!r}: {p.detail}"


def _flag_message(exc: Exception) -> str:
    from probe_fem.studies.fit import EvaluationBudgetError

    if isinstance(exc, EvaluationBudgetError):
        return f"no fit within {exc.max_evaluations} evaluations (raise --max-evaluations)"
    return str(exc)


# ---------------------------------------------------------------- compute
def _compute(args: argparse.Namespace, problem: FitProblem) -> FitResult:
    """The fit, with a progress note per evaluation; the Jacobian's columns on dask with ``--workers`` > 1."""
    from probe_fem.progress import Stages
    from probe_fem.studies.fit import FitSettings, solve
    from probe_fem.studies.runner import dask_evaluator

    settings = FitSettings(
        refine=args.refine, n_modes=args.modes, diff_step=args.diff_step, max_evaluations=args.max_evaluations
    )
    stages = Stages(quiet=args.quiet)
    with contextlib.ExitStack() as stack:
        many = None
        if args.workers > 1:
            many = stack.enter_context(dask_evaluator(problem.raw, args.refine, args.modes, workers=args.workers))
        what = f"({len(problem.free)} free, {len(problem.targets)} target(s), refine ×{args.refine:g})"
        with stages("fit", what):
            return solve(problem, settings, _progress(stages, problem.targets), many)


def _progress(stages: Stages, targets: tuple[Target, ...]) -> Any:
    """A note per FEM evaluation: its parameters and what it gave (or why it failed)."""
    numbers = itertools.count(1)

    def note(ov: dict[str, float], row: dict[str, Any]) -> None:
        got = (
            ", ".join(f"{t.label} = {row[t.column]:.6g} {t.unit}" for t in targets)
            if row["status"] == "ok"
            else f"failed ({row['error']}): step rejected"
        )
        where = ", ".join(f"{k} = {v:.6g}" for k, v in ov.items())
        stages.note(f"evaluation {next(numbers)}: {where} → {got}")

    return note


# ---------------------------------------------------------------- report
def _report(console: Console, name: str, result: FitResult, seconds: float) -> None:
    """The fitted values, the targets with their residuals, failed trial designs and the correlation."""
    state = "converged" if result.success else "NOT converged"
    t = Table(title=f"fit — {name}: {result.evaluations} FEM evaluations, {seconds:.1f} s ({state}: {result.message})")
    for col in ("free parameter", "start", "fitted", "± 1σ (Jacobian)", "bounds", "unit"):
        t.add_column(col, justify="right")
    for p, v, s in zip(result.free, result.fitted, result.sigma):
        shown = f"{p.alias} ({p.key})" if p.alias != p.key else p.key
        t.add_row(shown, f"{p.start:.6g}", f"{v:.6g}", f"{s:.3g}", f"[{p.low:g}, {p.high:g}]", p.unit)
    console.print(t)
    t = Table(title="targets")
    for col in ("target", "measured", "model at fit", "residual (σ)", "unit"):
        t.add_column(col, justify="right")
    for tg, r in zip(result.targets, result.residuals.values()):
        k, unit = _SHOWN[tg.name]
        measured = f"{tg.value * k:.6g} ± {tg.sigma * k:.3g}"
        t.add_row(tg.label, measured, f"{result.model[tg.column] * k:.6g}", f"{r:+.3f}", unit)
    console.print(t)
    for f in result.failed:
        console.print(
            "note: trial design "
            + ", ".join(f"{k} = {v:.6g}" for k, v in f.items() if k != "error")
            + f" could not be evaluated ({f['error']}); the step was rejected"
        )
    if len(result.free) > 1:
        console.print(
            "correlation of the fitted parameters: "
            + np.array2string(result.correlation, precision=4, floatmode="fixed")
        )


# ---------------------------------------------------------------- write
def _provenance(result: FitResult, refine: float) -> str:
    """The provenance note of each fitted value: what it was fitted to."""
    shown = {**_SHOWN, "tau": (1e6, "us")}
    fitted_to = ", ".join(
        f"{t.label} = {t.value * shown[t.name][0]:.6g} ± {t.sigma * shown[t.name][0]:.3g} {shown[t.name][1]}"
        for t in result.targets
    )
    return f"probe-fem fit to {fitted_to} (mesh refine ×{refine:g})"


def _write(
    args: argparse.Namespace, design: Design, inputs: _Inputs, result: FitResult, seconds: float, console: Console
) -> int:
    """The fitted design TOML and ``fit.json`` in the output folder; 0 if the fit converged."""
    from probe_fem.errors import FitError
    from probe_fem.io import write_json
    from probe_fem.studies.fit import write_fitted_design

    name = (design.name + "-fit")[:64]
    try:
        target, kept = write_fitted_design(
            inputs.out / f"{name}.toml", inputs.text, inputs.problem.raw, result, name, _provenance(result, args.refine)
        )
    except FitError as exc:
        _error(f"fit: {exc}")
        return EXIT_FAILED
    if not kept:
        console.print(
            "note: the design file's layout could not be edited in place; the fitted design was "
            "regenerated from its values (comments dropped)"
        )
    record = {"design": str(inputs.path), "design_fingerprint": design.fingerprint(), "refine": args.refine}
    js = write_json(
        inputs.out / "fit.json", {**record, "fitted_design": str(target), **result.to_dict(), "wall_time_s": seconds}
    )
    console.print(f"wrote {target}")
    console.print(f"wrote {js}")
    return 0 if result.success else EXIT_FAILED
