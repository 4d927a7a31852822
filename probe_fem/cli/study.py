"""``probe-fem study STUDY``: run a study, show its progress, print and write its report.

The command validates the study file (one line per problem, exit code 2,
nothing written), runs the points (:func:`probe_fem.studies.runner.run_study`)
with a progress bar on stderr, then prints the parameters, counts, statistics
and sensitivities, writes ``summary.json`` and the figures next to the results
table.  The parser is in :mod:`probe_fem.cli.studies`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.table import Table

from probe_fem.cli.common import EXIT_BAD_INPUT, EXIT_INTERRUPTED
from probe_fem.cli.common import error as _error
from probe_fem.errors import InputError
from probe_fem.io import check_writable

if TYPE_CHECKING:
    from rich.progress import TaskID

# outputs shown in tables and figures: column → (label, display scale, display unit)
SHOWN = {
    "R_P_K_per_W": ("R_P", 1.0, "K/W"),
    "tau_s": ("τ", 1e6, "µs"),
    "t63_s": ("t63", 1e6, "µs"),
    "f_3dB_Hz": ("f−3dB", 1e-3, "kHz"),
}


def _num(v: float) -> str:
    """Compact number for tables: thousands separated above 1000, else 4 significant digits."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def cmd_study(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.studies.runner import run_study
    from probe_fem.studies.spec import StudyError, load_study
    from probe_fem.studies.table import TableError

    if args.workers is not None and (args.scheduler or args.serial):
        _error(
            f"study: --workers sets the size of the local cluster; it does not apply with "
            f"{'--scheduler' if args.scheduler else '--serial'}"
        )
        return EXIT_BAD_INPUT
    try:
        study = load_study(args.study)
    except StudyError as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    out = check_writable(Path(args.out) if args.out else Path("results") / study.name, folder=True, option="--out")
    table = out / "results.csv"
    err = Console(stderr=True)
    _print_parameters(console, study)
    progress = _Progress(err, study.name, quiet=args.quiet)
    try:
        with progress:
            run = run_study(
                study,
                table,
                serial=args.serial,
                scheduler=args.scheduler,
                workers=args.workers,
                max_new=args.max_points,
                retry_failed=args.retry_failed,
                on_start=progress.start,
                on_done=progress.advance,
            )
    except TableError as exc:
        _error(f"study: {exc}")
        return EXIT_BAD_INPUT
    except (OSError, TimeoutError) as exc:
        if not args.scheduler:
            raise
        _error(f"study: cannot use the dask scheduler at {args.scheduler}: {exc}")
        return 1
    except KeyboardInterrupt:
        _error(f"interrupted: finished points are in {table}; run the same command again to resume")
        return EXIT_INTERRUPTED
    _write_report(console, run, table, out)
    return 0


def _write_report(console: Console, run, table: Path, out: Path) -> None:
    """Notes, the report tables and figures, summary.json; what was written; how far an interrupted run got."""
    from probe_fem.io import write_json

    for note in run.notes:
        console.print(f"note: {note}")
    summary = _summary(run)
    report = _report(console, run, summary, out)  # the report completes the summary (sensitivity as data)
    files = [table, write_json(out / "summary.json", summary), *report]
    for f in files:
        console.print(f"wrote {f}")
    if run.interrupted:
        console.print(
            f"{sum(k in run.rows for k in dict.fromkeys(run.point_keys))} of "
            f"{len(set(run.point_keys))} designs done; run the same command again to continue"
        )


class _Progress:
    """A rich progress bar on stderr for the points being computed."""

    def __init__(self, console: Console, name: str, quiet: bool):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.quiet = quiet
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=quiet,
        )
        self.name = name
        self.task: TaskID | None = None

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def start(self, total: int, reused: int) -> None:
        self.task = self.bar.add_task(
            f"study {self.name}" + (f" ({reused} reused)" if reused else ""), total=total, failed=0
        )

    def advance(self, row: dict) -> None:
        failed = self.bar.tasks[0].fields["failed"] + (row["status"] != "ok")
        assert self.task is not None  # the runner calls start before any point is done
        self.bar.update(self.task, advance=1, failed=failed)


def _print_parameters(console: Console, study) -> None:
    s = study.settings
    t = Table(
        title=f"study {study.name} — {study.method}, base design {study.base.name} "
        f"({study.base.fingerprint()}), mesh refine ×{s.refine:g}"
    )
    for col in ("parameter (as in the design file)", "base value", "varied as"):
        t.add_column(col)
    for p in study.parameters:
        t.add_row(p.key, f"{p.base_value:g} {p.unit}".strip(), p.describe())
    console.print(t)


def _outputs(run) -> dict[str, np.ndarray]:
    return {c: run.column(c) for c in SHOWN}


def _summary(run) -> dict[str, Any]:
    """JSON-ready summary: settings, counts, statistics and sensitivities (units in the keys)."""
    from probe_fem.studies import sensitivity as sa

    study = run.study
    s = study.settings
    unique = list(dict.fromkeys(run.point_keys))
    data: dict[str, Any] = {
        "study": study.name,
        "source": study.source,
        "method": study.method,
        "design": str(study.design_path),
        "design_fingerprint": study.base.fingerprint(),
        "refine": s.refine,
        "modes": s.modes,
        "seed": s.seed,
        "parameters": [
            {"key": p.key, "unit": p.unit, "base_value": p.base_value, "varied_as": p.describe()}
            for p in study.parameters
        ],
        "points": len(run.point_keys),
        "unique_designs": len(unique),
        "done": sum(k in run.rows for k in unique),
        "computed": len(run.computed),
        "reused": len(run.reused),
        "failed": [
            {"key": k, **{p: run.rows[k].get(p) for p in study.keys}, "error": run.rows[k]["error"]} for k in run.failed
        ],
        "complete": run.complete,
        "executor": run.executor,
        "workers": run.workers,
        "wall_time_s": run.seconds,
        "table": str(run.table),
    }
    ok = run.ok_mask()
    if study.sampled and ok.any():
        data["statistics"] = {c: sa.summarize(v[ok], s.percentiles).to_dict() for c, v in _outputs(run).items()}
        data["statistics"]["excluded_failed_or_missing_points"] = int((~ok).sum())
        data["sensitivity"] = _sensitivities(run)
    return data


def _sensitivities(run) -> dict[str, Any]:
    """Sobol' indices (direct for a Sobol' study, surrogate otherwise) and rank correlations, per output."""
    from probe_fem.studies import sensitivity as sa

    study = run.study
    names = study.keys
    out: dict[str, Any] = {}
    ok = run.ok_mask()
    X = study.values()
    for col in ("R_P_K_per_W", "tau_s", "f_3dB_Hz"):
        y = run.column(col)
        entry: dict[str, Any] = {}
        try:
            if study.method == "sobol":
                if not ok.all():
                    raise InputError(
                        f"{int((~ok).sum())} point(s) failed or missing: the Saltelli estimator needs every point"
                    )
                r = sa.sobol_indices(y, names, study.settings.seed)
            else:
                lo = np.array([p.low for p in study.parameters])
                hi = np.array([p.high for p in study.parameters])

                def ppf(U: np.ndarray) -> np.ndarray:
                    return np.column_stack([p.ppf(U[:, j]) for j, p in enumerate(study.parameters)])

                r = sa.surrogate_sobol(X[ok], y[ok], names, ppf, lo, hi, study.settings.seed)
            entry["sobol"] = r
        except ValueError as exc:
            entry["sobol_unavailable"] = str(exc)
        if ok.sum() >= 3:
            entry["spearman"] = dict(zip(names, map(float, sa.rank_correlations(X[ok], y[ok]))))
        out[col] = entry
    return out


def _report(console: Console, run, summary: dict, out: Path) -> list[Path]:
    """Tables on the console and figures in ``out``; returns the figures written."""
    _print_run(console, run, summary)
    if run.study.sampled and "statistics" in summary:
        return _report_sampled(console, run, summary, out)
    return _report_sweep(console, run, out)


def _print_run(console: Console, run, summary: dict) -> None:
    """Points computed, reused and failed, the executor and the wall time; the first failures."""
    study = run.study
    t = Table(title=f"study {study.name}: {summary['points']} points, {summary['unique_designs']} designs")
    for col in ("computed", "reused", "failed", "executor", "wall time"):
        t.add_column(col, justify="right")
    rate = f" ({len(run.computed) / run.seconds:.2f} points/s)" if run.computed and run.seconds > 0 else ""
    t.add_row(
        str(len(run.computed)), str(len(run.reused)), str(len(run.failed)), run.executor, f"{run.seconds:.1f} s{rate}"
    )
    console.print(t)
    for k in run.failed[:10]:
        r = run.rows[k]
        console.print(f"failed: {', '.join(f'{p}={r.get(p):g}' for p in study.keys)}: {r['error']}")
    if len(run.failed) > 10:
        console.print(f"… and {len(run.failed) - 10} more failed points (see the table)")


def _shown(run) -> dict[str, tuple]:
    """Each output under its label: (values, scale to the shown unit, unit)."""
    return {SHOWN[c][0]: (v, SHOWN[c][1], SHOWN[c][2]) for c, v in _outputs(run).items()}


def _report_sampled(console: Console, run, summary: dict, out: Path) -> list[Path]:
    """A sampled study: the propagated uncertainty, histograms and the sensitivity indices."""
    from probe_fem.plots.studies import plot_histograms

    study, ok, st = run.study, run.ok_mask(), summary["statistics"]
    t = Table(title=f"propagated uncertainty ({int(ok.sum())} successful points; τ = dominant-mode time constant)")
    pcs = list(study.settings.percentiles)
    for col in ("output", "mean", "std", "std/mean", *[f"p{p:g}" for p in pcs]):
        t.add_column(col, justify="right")
    for c, (label, scale, unit) in SHOWN.items():
        d = st[c]
        t.add_row(
            f"{label} ({unit})",
            _num(d["mean"] * scale),
            _num(d["std"] * scale),
            f"{d['std'] / d['mean']:.1%}",
            *[_num(d["percentiles"][f"p{p:g}"] * scale) for p in pcs],
        )
    console.print(t)
    shown = _shown(run)
    hist = {k if k != "τ" else "τ (dominant mode)": v for k, v in shown.items() if k in ("R_P", "τ", "f−3dB")}
    title = f"{study.name}: {study.method}, {int(ok.sum())} points"
    files = [plot_histograms(hist, out / "histograms.png", study.settings.bins, title)]
    return files + _report_sensitivity(console, study, summary.get("sensitivity", {}), out)


def _report_sensitivity(console: Console, study, sens: dict, out: Path) -> list[Path]:
    """Sobol' indices and Spearman ranks per input (the table and figure); makes ``sens`` JSON-ready."""
    from probe_fem.plots.studies import plot_sensitivity

    sobol = {SHOWN[c][0]: e["sobol"] for c, e in sens.items() if "sobol" in e}
    for c, e in sens.items():
        if "sobol_unavailable" in e:
            console.print(f"Sobol' indices of {SHOWN[c][0]}: not available: {e['sobol_unavailable']}")
    files = []
    if sobol:
        first = next(iter(sobol.values()))
        t = Table(title=f"Sobol' sensitivity — {first.method}")
        in_table = {k: v for k, v in sobol.items() if k in ("R_P", "τ")}
        t.add_column("input", no_wrap=True)
        for label in in_table:
            t.add_column(f"{label}: S1 / ST", justify="right", no_wrap=True)
        t.add_column("Spearman ρ R_P / τ", justify="right")
        for i in sobol.get("R_P", first).ranking():
            sp = [sens[c].get("spearman", {}).get(study.keys[i], float("nan")) for c in ("R_P_K_per_W", "tau_s")]
            cells = [f"{r.S1[i]:.3f} / {r.ST[i]:.3f}" for r in in_table.values()]
            t.add_row(study.keys[i], *cells, f"{sp[0]:+.2f} / {sp[1]:+.2f}")
        console.print(t)
        if study.method == "sobol" and study.settings.samples < 256:
            console.print(
                f"note: N = {study.settings.samples} is small for the Saltelli estimator: see the 95 % "
                "intervals in summary.json and sensitivity.png (N ≥ 256 is typical; a Latin-hypercube "
                "study gets its indices from a response surface instead)"
            )
        files.append(plot_sensitivity(sobol, out / "sensitivity.png", f"{study.name}"))
    for e in sens.values():  # JSON-ready
        if "sobol" in e:
            e["sobol"] = e["sobol"].to_dict()
    return files


def _report_sweep(console: Console, run, out: Path) -> list[Path]:
    """A grid or list study: a row per point and one figure of the outputs against the inputs."""
    from probe_fem.plots.studies import plot_sweep

    study, ok, outputs = run.study, run.ok_mask(), _outputs(run)
    X = study.values()
    t = Table(title=f"sweep results ({int(ok.sum())} successful points)")
    for col in [*study.keys, *[f"{label} ({unit})" for label, _, unit in SHOWN.values()], "status"]:
        t.add_column(col, justify="right")
    for i, k in enumerate(run.point_keys[:60]):
        r = run.rows.get(k)
        vals = [_num(outputs[c][i] * SHOWN[c][1]) if np.isfinite(outputs[c][i]) else "" for c in SHOWN]
        t.add_row(*[f"{x:g}" for x in X[i]], *vals, r["status"] if r else "not run")
    console.print(t)
    if len(run.point_keys) > 60:
        console.print(f"… {len(run.point_keys) - 60} more points in the table")
    if not ok.any():
        return []
    shown = {k: v for k, v in _shown(run).items() if k != "t63"}
    return [plot_sweep(X, study.keys, shown, out / "sweep.png", f"{study.name}: {study.method}")]
