"""Commands on calibration and trace files (no FEM): ``export``, ``landauer``, ``simulate``, ``analyze``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.table import Table

from probe_fem import paper
from probe_fem.cli.common import EXIT_BAD_INPUT, bounded, calibration_path, frequency
from probe_fem.cli.common import error as _error
from probe_fem.cli.plan import add_noise_options, duration
from probe_fem.errors import InputError
from probe_fem.io import check_writable

if TYPE_CHECKING:
    from probe_fem.analysis.landauer import Junction


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.calibration.exporters import target_format
    from probe_fem.calibration.schema import Calibration, CalibrationError

    target = Path(args.out) if args.out else Path(args.calibration).with_suffix("." + args.format)
    try:
        target_format(target, args.format)
    except InputError as exc:
        raise InputError(f"--out: {exc}") from None
    check_writable(target, option="--out")
    try:
        cal = Calibration.load(args.calibration)
    except CalibrationError as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    console.print(f"wrote {cal.save(target, args.format)}")
    return 0


def cmd_landauer(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.analysis.landauer import G0, Junction, preset
    from probe_fem.analysis.landauer import Table as TauTable

    try:
        junction = Junction(TauTable.load(args.table)) if args.table else preset(args.model)
        bias = _bias_list(args.bias)
    except ValueError as exc:
        _error(f"landauer: {exc}")
        return EXIT_BAD_INPUT
    c = junction.currents(np.concatenate([bias, -bias]))
    n = bias.size
    t = Table(
        title=f"Landauer dissipation — {args.table or args.model}: G = {junction.conductance / G0:.4g} G0, "
        f"S = {junction.seebeck_exact * 1e6:+.3g} µV/K (linear response; Mott {junction.seebeck * 1e6:+.3g}), "
        f"T = {junction.T:g} K"
    )
    for col in ("V (V)", "I (nA)", "Q_P (nW)", "Q_S (nW)", "Q_total (nW)", "Q_P/Q_total"):
        t.add_column(col, justify="right")
    for i in list(range(n)) + list(range(n, 2 * n)):
        t.add_row(
            f"{(bias[i % n] if i < n else -bias[i % n]):+.4g}",
            f"{c['I'][i] * 1e9:.4g}",
            f"{c['Q_P'][i] * 1e9:.4g}",
            f"{c['Q_S'][i] * 1e9:.4g}",
            f"{c['Q_total'][i] * 1e9:.4g}",
            f"{c['Q_P'][i] / c['Q_total'][i]:.4f}",
        )
    console.print(t)
    _print_asymmetry(console, junction, bias, c["Q_P"][n:] - c["Q_P"][:n])
    return 0


def _print_asymmetry(console: Console, junction: Junction, bias: np.ndarray, exact: np.ndarray) -> None:
    """The asymmetry Q_P(−V) − Q_P(+V) from Eq. 1 (the number to use) beside Eq. 2's linear response."""
    from probe_fem.constants import E_CHARGE, K_B

    linear = -junction.asymmetry_linear(bias, exact=True)  # Eq. 2 gives Q_P(V) − Q_P(−V)
    scale = 2 * np.pi * K_B * junction.T / E_CHARGE  # 2πk_BT/e, V
    t = Table(title="asymmetry Q_P(−V) − Q_P(+V): exact (Eq. 1) and the linear response 2·G·T·S·V (Eq. 2)")
    for col in ("V (V)", "e|V| / 2πk_BT", "exact, Eq. 1 (nW)", "Eq. 2 (nW)", "Eq. 1 / Eq. 2"):
        t.add_column(col, justify="right")
    for v, e, lin in zip(bias, exact, linear):
        t.add_row(
            f"{v:.4g}", f"{v / scale:.3g}", f"{e * 1e9:+.4g}", f"{lin * 1e9:+.4g}", f"{e / lin:.3g}" if lin else "—"
        )
    console.print(t)
    if np.any(bias > 0.3 * scale):
        console.print(
            f"Eq. 2 holds for e|V| ≪ 2πk_BT = {scale * 1e3:.0f} meV; at these biases it is off by the "
            "factor in the last column: use the exact asymmetry of Eq. 1."
        )


def cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.analysis.landauer import preset
    from probe_fem.analysis.simulation import simulate
    from probe_fem.calibration.schema import Calibration, CalibrationError
    from probe_fem.cli.plan import noise_from

    check_writable(args.out, option="--out")
    if Path(args.out).suffix.lower() not in (".npz", ".csv"):
        raise InputError(f"--out = {args.out!r}: a traces file ends in .npz or .csv")
    try:
        cal = Calibration.load(calibration_path(args.calibration, args.quiet))
        bias = _bias_list(args.bias)
        junction = preset(args.model)
        traces, truth = simulate(
            junction,
            list(bias),
            cal,
            args.junctions,
            args.seconds,
            args.fs,
            1 / args.frequency,
            noise_from(args, cal),
            args.drift_nV,
            args.spread,
            args.seed,
            args.sequence,
        )
    except (CalibrationError, ValueError) as exc:
        _error(f"simulate: {exc}")
        return EXIT_BAD_INPUT
    out = traces.save(args.out)
    console.print(
        f"wrote {out}: {traces.t.size:,} samples at {traces.fs:g} Hz, {len(np.unique(traces.segment))} "
        f"junction segments, model {args.model}"
    )
    for tr in truth:
        console.print(
            f"  V_M = {tr.V_M:g} V: true ΔT(+) = {tr.dT_plus * 1e3:.4f} mK, ΔT(−) = {tr.dT_minus * 1e3:.4f} mK"
        )
    return 0


def cmd_analyze(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.analysis.demodulation import TraceError, Traces, demodulate
    from probe_fem.analysis.landauer import preset
    from probe_fem.calibration.schema import Calibration, CalibrationError
    from probe_fem.io import write_json
    from probe_fem.plots.analysis import plot_dissipation

    target = Path(args.out) if args.out else Path(args.traces).with_suffix(".png")
    if target.suffix.lower() != ".png":
        raise InputError(f"--out = {str(target)!r}: the figure is a PNG file, allowed: a name ending in .png")
    check_writable(target, option="--out")
    check_writable(target.with_suffix(".json"), option="--out (its data, beside it)")
    try:
        cal = Calibration.load(calibration_path(args.calibration, args.quiet))
        traces = Traces.load(args.traces)
        results = demodulate(traces, cal, period=1 / args.frequency, dead_time=args.dead_time)
        junction = preset(args.model) if args.model else None
    except (CalibrationError, TraceError, ValueError) as exc:
        _error(f"analyze: {exc}")
        return EXIT_BAD_INPUT
    t = Table(
        title=f"dissipation in the probe — {args.traces} (R_P = {cal.R_P.value:,.0f} ± "
        f"{cal.R_P.uncertainty:,.0f} K/W, S_TC = {cal.require_S_TC().value * 1e6:.3g} µV/K)"
    )
    for col in ("V_M (V)", "ΔT_TC,Avg (mK)", "Q_P,Avg (nW)", "Q_Total,Avg (nW)", "f = Q_P/Q_Total", "periods"):
        t.add_column(col, justify="right")
    for pair in results:
        for r in pair:
            t.add_row(
                f"{r.V_M:+.4g}",
                f"{r.dT * 1e3:.4f} ± {r.u_dT * 1e3:.4f}",
                f"{r.Q_P * 1e9:.3f} ± {r.u_Q_P * 1e9:.3f}",
                f"{r.Q_total * 1e9:.3f} ± {r.u_Q_total * 1e9:.3f}",
                f"{r.fraction:.4f} ± {r.u_fraction:.4f}",
                str(r.periods),
            )
    console.print(t)
    glitches = sum(p.glitches for p, _ in results)
    if glitches:
        console.print(f"{glitches} isolated bias glitch sample(s) flagged and left out of the fit")
    data = {
        "traces": str(args.traces),
        "calibration": str(args.calibration),
        "frequency_Hz": args.frequency,
        "T_K": 300.0,
        "results": [{"V_M_V": p.V_M, "plus": p.to_dict(), "minus": m.to_dict()} for p, m in results],
    }
    files = [
        write_json(target.with_suffix(".json"), data),
        plot_dissipation(results, cal.R_P.value, target, junction, str(args.traces)),
    ]
    for f in files:
        console.print(f"wrote {f}")
    return 0


def _bias_list(text: str) -> np.ndarray:
    try:
        v = np.array([float(x) for x in text.split(",")])
    except ValueError:
        raise InputError(f"bias = {text!r}: give comma-separated volts, e.g. 0.74,0.95") from None
    if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v <= 0) or np.any(v > 10) or v.size > 100:
        raise InputError(f"bias = {text!r}: 1 to 100 amplitudes, each finite and in (0, 10] V")
    return v


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The commands on calibration and trace files: export, landauer, simulate, analyze."""
    e = sub.add_parser("export", help="convert a JSON calibration to csv or mat")
    e.add_argument("calibration", help="calibration JSON file")
    e.add_argument("--format", choices=("csv", "mat", "json"), required=True)
    e.add_argument("--out", default=None, help="target file (default: beside the input, new suffix)")
    e.set_defaults(func=cmd_export, no_design=True)
    la = sub.add_parser("landauer", help="Q_P, Q_S, Q_total per bias from a transmission model (paper Eq. 1)")
    la.add_argument("--model", choices=("bdnc", "bda", "au"), default="bdnc")
    la.add_argument("--table", default=None, help="transmission table: two columns, E - E_F (eV) and tau")
    la.add_argument("--bias", default="0.74,0.95,1.08,1.18,1.27", help="comma-separated amplitudes (V)")
    la.set_defaults(func=cmd_landauer, no_design=True)
    si = sub.add_parser("simulate", help="synthetic three-level modulation traces for a junction model")
    si.add_argument("--model", choices=("bdnc", "bda", "au"), default="bdnc")
    si.add_argument("--bias", default="0.74,0.95,1.08,1.18,1.27", help="comma-separated V_M (V)")
    si.add_argument(
        "--calibration",
        default=None,
        help="calibration JSON (default: calib/ntistp.json when it is in this folder, else the shipped one)",
    )
    si.add_argument("--junctions", type=bounded(int, 1, 1000), default=10, help="junction segments per V_M")
    si.add_argument("--seconds", type=bounded(float, 0.01, 3600, unit="s"), default=5.0, help="seconds per junction")
    si.add_argument(
        "--fs", type=bounded(float, 10, 1e6, unit="Hz"), default=paper.SAMPLE_RATE_HZ, help="sampling frequency (Hz)"
    )
    si.add_argument(
        "--frequency", type=frequency, default=paper.MODULATION_FREQUENCY_HZ, help="modulation frequency (Hz)"
    )
    si.add_argument("--sequence", choices=("+0-", "+0-0"), default="+0-", help="bias phases per period")
    si.add_argument(
        "--drift-nV", type=bounded(float, 0, 1e9), default=50.0, help="slow sinusoidal baseline wander, amplitude (nV)"
    )
    add_noise_options(si)
    si.add_argument(
        "--spread", type=bounded(float, 0, 1), default=0.05, help="relative junction-to-junction conductance spread"
    )
    si.add_argument("--seed", type=bounded(int, 0, 2**32 - 1), default=0)
    si.add_argument("--out", default="traces.npz", help="traces file (.npz or .csv)")
    si.add_argument("--quiet", action="store_true", help="no progress output")
    si.set_defaults(func=cmd_simulate, no_design=True)
    an = sub.add_parser("analyze", help="demodulate traces into ΔT_TC,Avg, Q_P,Avg, Q_Total,Avg per V_M; plot")
    an.add_argument("traces", help="traces file (.npz or .csv with t_s,V_TC_V,bias_V,I_A[,segment])")
    an.add_argument(
        "--calibration",
        default=None,
        help="calibration JSON (default: calib/ntistp.json when it is in this folder, else the shipped one)",
    )
    an.add_argument(
        "--frequency", type=frequency, default=paper.MODULATION_FREQUENCY_HZ, help="modulation frequency (Hz)"
    )
    an.add_argument(
        "--dead-time",
        type=duration,
        default=None,
        help="excluded after each phase's first sample, e.g. 5ms (default: the probe's t999)",
    )
    an.add_argument("--model", choices=("bdnc", "bda", "au"), default=None, help="overlay Landauer predictions")
    an.add_argument(
        "--out", default=None, help="figure, a .png; its data go beside it as .json (default: beside the traces)"
    )
    an.add_argument("--quiet", action="store_true", help="no progress output")
    an.set_defaults(func=cmd_analyze, no_design=True)
