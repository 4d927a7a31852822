"""``probe-fem fit [DESIGN]``: fit free design parameters to measured targets, print the fit, write the design.

The command checks the targets and free parameters (one line per problem,
exit code 2, nothing written), runs :func:`probe_fem.studies.fit.fit` with one
progress note per FEM evaluation, prints the fitted values and residuals, and
writes the fitted design TOML and ``fit.json``.  The parser is in
:mod:`probe_fem.cli.studies`.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from probe_fem.cli.common import EXIT_BAD_INPUT
from probe_fem.cli.common import error as _error
from probe_fem.io import check_writable, parse_toml, read_text


def cmd_fit(args: argparse.Namespace, design, console: Console) -> int:
    from probe_fem.design import DesignError
    from probe_fem.design.load import embedded_design_path
    from probe_fem.errors import FitError
    from probe_fem.io import write_json
    from probe_fem.progress import Stages
    from probe_fem.studies.fit import fit, write_fitted_design
    from probe_fem.studies.runner import dask_evaluator
    from probe_fem.studies.targets import parse_free

    targets = [t for t in (args.target_rp, args.target_tau, args.target_f3db) if t is not None]
    if not targets:
        _error("fit: give at least one target: --target-rp, --target-tau or --target-f3db")
        return EXIT_BAD_INPUT
    path = Path(args.design) if args.design else embedded_design_path()
    text = read_text(path, lambda message: DesignError([message], str(path)))
    raw = parse_toml(text, lambda message: DesignError([message], str(path)))
    try:
        free = parse_free(raw, args.free, args.bounds)
    except ValueError as exc:
        _error(f"fit: {exc}")
        return EXIT_BAD_INPUT
    if len(free) > len(targets):
        _error(
            f"fit: --free names {len(free)} parameters but {len(targets)} target(s) are given: free at most as "
            "many parameters as targets"
        )
        return EXIT_BAD_INPUT
    stages = Stages(quiet=args.quiet)
    n_eval = [0]

    def note(ov: dict, row: dict) -> None:
        n_eval[0] += 1
        got = (
            ", ".join(f"{t.label} = {row[t.column]:.6g} {t.unit}" for t in targets)
            if row["status"] == "ok"
            else f"failed ({row['error']}): step rejected"
        )
        stages.note(f"evaluation {n_eval[0]}: " + ", ".join(f"{k} = {v:.6g}" for k, v in ov.items()) + " → " + got)

    check_writable(Path(args.out) if args.out else Path("results") / design.name, folder=True, option="--out")
    t0 = time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            many = None
            if args.workers > 1:
                many = stack.enter_context(dask_evaluator(raw, args.refine, args.modes, workers=args.workers))
            with stages("fit", f"({len(free)} free, {len(targets)} target(s), refine ×{args.refine:g})"):
                result = fit(
                    raw,
                    free,
                    targets,
                    refine=args.refine,
                    n_modes=args.modes,
                    diff_step=args.diff_step,
                    max_evaluations=args.max_evaluations,
                    on_evaluation=note,
                    evaluate_many=many,
                )
    except FitError as exc:
        _error(f"fit: {exc}")
        return 1
    seconds = time.perf_counter() - t0
    t = Table(
        title=f"fit — {design.name}: {result.evaluations} FEM evaluations, {seconds:.1f} s "
        f"({'converged' if result.success else 'NOT converged'}: {result.message})"
    )
    for col in ("free parameter", "start", "fitted", "± 1σ (Jacobian)", "bounds", "unit"):
        t.add_column(col, justify="right")
    for p, v, s in zip(result.free, result.fitted, result.sigma):
        t.add_row(
            f"{p.alias} ({p.key})" if p.alias != p.key else p.key,
            f"{p.start:.6g}",
            f"{v:.6g}",
            f"{s:.3g}",
            f"[{p.low:g}, {p.high:g}]",
            p.unit,
        )
    console.print(t)
    t = Table(title="targets")
    for col in ("target", "measured", "model at fit", "residual (σ)", "unit"):
        t.add_column(col, justify="right")
    for tg, r in zip(targets, result.residuals().values()):
        k, unit = {"rp": (1.0, "K/W"), "tau": (1e6, "µs"), "f3db": (1e-3, "kHz")}[tg.name]  # display units
        t.add_row(
            tg.label,
            f"{tg.value * k:.6g} ± {tg.sigma * k:.3g}",
            f"{result.model[tg.column] * k:.6g}",
            f"{r:+.3f}",
            unit,
        )
    console.print(t)
    for f in result.failed:
        console.print(
            "note: trial design "
            + ", ".join(f"{k} = {v:.6g}" for k, v in f.items() if k != "error")
            + f" could not be evaluated ({f['error']}); the step was rejected"
        )
    if len(free) > 1:
        console.print(
            "correlation of the fitted parameters: "
            + np.array2string(result.correlation, precision=4, floatmode="fixed")
        )
    out = Path(args.out) if args.out else Path("results") / design.name
    shown = {"rp": (1.0, "K/W"), "tau": (1e6, "us"), "f3db": (1e-3, "kHz")}
    note_text = (
        "probe-fem fit to "
        + ", ".join(
            f"{tg.label} = {tg.value * shown[tg.name][0]:.6g} ± {tg.sigma * shown[tg.name][0]:.3g} {shown[tg.name][1]}"
            for tg in targets
        )
        + f" (mesh refine ×{args.refine:g})"
    )
    name = (design.name + "-fit")[:64]
    try:
        target, kept = write_fitted_design(out / f"{name}.toml", text, raw, result, name, note_text)
    except FitError as exc:
        _error(f"fit: {exc}")
        return 1
    if not kept:
        console.print(
            "note: the design file's layout could not be edited in place; the fitted design was "
            "regenerated from its values (comments dropped)"
        )
    js = write_json(
        out / "fit.json",
        {
            "design": str(path),
            "design_fingerprint": design.fingerprint(),
            "refine": args.refine,
            "fitted_design": str(target),
            **result.to_dict(),
            "wall_time_s": seconds,
        },
    )
    console.print(f"wrote {target}")
    console.print(f"wrote {js}")
    return 0 if result.success else 1
