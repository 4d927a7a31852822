"""``probe-fem plan [CALIB]``: the modulation frequency and measurement time, from a calibration file and a
noise model (no FEM).  The noise options are shared with ``simulate``."""

from __future__ import annotations

import argparse
import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console

from probe_fem import paper
from probe_fem.analysis.noise import Noise, NoiseError, NoiseModel, fit_trace, load_psd
from probe_fem.cli.common import bounded, calibration_path, quantity_table

if TYPE_CHECKING:
    from probe_fem.calibration.schema import Calibration

_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6}


def duration(text: str) -> float:
    """argparse type: '5ms', '500us', '0.005s' or '0.005' (seconds) → s, finite and >= 0."""
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(s|ms|us|µs)?\s*", text)
    try:
        value = float(m.group(1)) * _UNITS[m.group(2) or "s"] if m else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r}: give a duration >= 0 with a unit, e.g. 5ms, 500us, 0.005s")
    return value


_nonneg = bounded(float, 0, 1e12)
_positive = bounded(float, 0, 1e12, lo_open=True)


def _amplitudes(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give comma-separated nV rms per harmonic, e.g. 50,20,20") from None
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: each amplitude must be finite and >= 0 nV")
    return values


def add_noise_options(p: argparse.ArgumentParser) -> None:
    """The noise-model options of ``plan`` and ``simulate`` (defaults: an SR560-class setup [est])."""
    d = NoiseModel()
    g = p.add_argument_group("noise at the amplifier input (one-sided PSD)")
    g.add_argument(
        "--white-nV",
        type=_nonneg,
        default=d.white_V_per_rtHz * 1e9,
        help=f"amplifier white density, nV/√Hz (default {d.white_V_per_rtHz * 1e9:g})",
    )
    g.add_argument(
        "--corner-Hz", type=_nonneg, default=d.corner_Hz, help=f"amplifier 1/f corner, Hz (default {d.corner_Hz:g})"
    )
    g.add_argument(
        "--r-tc-ohm",
        type=_nonneg,
        default=None,
        help="thermocouple resistance → Johnson noise √(4kTR), Ω (default: the calibration's FEM value, "
        f"else {d.R_TC_ohm:g})",
    )
    g.add_argument("--drift-mK", type=_nonneg, default=1.0, help="random-walk drift, rms mK per 100 s (default 1)")
    g.add_argument("--mains-Hz", type=bounded(float, 1, 1e4), default=d.mains_Hz, help="mains frequency (default 60)")
    g.add_argument(
        "--mains-nV",
        type=_amplitudes,
        default=tuple(a * 1e9 for a in d.mains_V_rms),
        help="mains pickup, nV rms at n = 1, 2, 3, … × mains (default 50,20,20)",
    )
    g.add_argument("--noise-psd", default=None, help="measured PSD instead: two columns f_Hz, S_V2_per_Hz")
    g.add_argument(
        "--noise-trace",
        default=None,
        help="zero-power trace (.npz/.csv as analyze reads) to fit white + 1/f + drift + mains to",
    )


def noise_from(args: argparse.Namespace, cal: Calibration) -> Noise:
    """The noise model the options describe (a PSD file, a fitted trace, or the parameters).

    The thermocouple's resistance is ``--r-tc-ohm``, else the calibration's (from the FEM of its legs),
    else :class:`NoiseModel`'s estimate; the choice is noted on stderr unless ``--quiet``.
    """
    if args.noise_psd and args.noise_trace:
        raise NoiseError("give --noise-psd or --noise-trace, not both")
    if args.noise_psd:
        return load_psd(args.noise_psd)
    if args.noise_trace:
        from probe_fem.analysis.traces import Traces

        tr = Traces.load(args.noise_trace)
        return fit_trace(tr.v_tc, tr.fs, args.mains_Hz).model
    r_tc, where = _thermocouple_resistance(args, cal)
    if not args.quiet:
        Console(stderr=True).print(f"thermocouple resistance: {r_tc:,.1f} Ω ({where})")
    return NoiseModel(
        white_V_per_rtHz=args.white_nV * 1e-9,
        corner_Hz=args.corner_Hz,
        R_TC_ohm=r_tc,
        drift_V2_per_s=(cal.require_S_TC().value * args.drift_mK * 1e-3) ** 2 / 100.0,
        mains_Hz=args.mains_Hz,
        mains_V_rms=tuple(a * 1e-9 for a in args.mains_nV),
    )


def _thermocouple_resistance(args: argparse.Namespace, cal: Calibration) -> tuple[float, str]:
    """R_TC (Ω) for the Johnson noise and where it comes from."""
    if args.r_tc_ohm is not None:
        return args.r_tc_ohm, "--r-tc-ohm"
    if cal.thermocouple_resistance_ohm is not None:
        return cal.thermocouple_resistance_ohm, "the calibration, FEM of the legs"
    return NoiseModel().R_TC_ohm, "an estimate: the calibration has none; give --r-tc-ohm"


def add_parser(sub: Any) -> None:
    """The ``plan`` subcommand."""
    pl = sub.add_parser(
        "plan",
        help="modulation frequency and measurement time from noise, dead time and the "
        "probe's dynamics (calibration file only, no FEM)",
    )
    pl.add_argument(
        "calibration",
        nargs="?",
        default=None,
        help="calibration JSON (default: calib/ntistp.json when it is in this folder, else the shipped one)",
    )
    pl.add_argument("--sequence", choices=("+0-", "+0-0"), default="+0-", help="bias phases per period")
    pl.add_argument(
        "--frequency",
        type=_positive,
        default=paper.MODULATION_FREQUENCY_HZ,
        help=f"the frequency to judge, Hz (default {paper.MODULATION_FREQUENCY_HZ:g}, the paper's)",
    )
    pl.add_argument(
        "--dead-time",
        type=duration,
        default=None,
        help="excluded after each edge, e.g. 5ms (default 5ms, or from --amp-corner-Hz)",
    )
    pl.add_argument(
        "--amp-corner-Hz",
        type=_positive,
        default=None,
        help="amplifier low-pass corner: the dead time is its settling to --settle-tolerance",
    )
    pl.add_argument("--amp-order", type=bounded(int, 1, 8), default=2, help="low-pass order (6 dB/oct each)")
    pl.add_argument("--settle-tolerance", type=bounded(float, 0, 1, lo_open=True, hi_open=True), default=1e-3)
    pl.add_argument("--fs", type=_positive, default=paper.SAMPLE_RATE_HZ, help="sampling frequency, Hz")
    pl.add_argument("--seconds", type=_positive, default=paper.SECONDS_PER_JUNCTION, help="seconds per junction")
    pl.add_argument("--junctions", type=bounded(int, 1, 10**7), default=paper.JUNCTIONS_PER_BIAS)
    pl.add_argument(
        "--harmonics",
        type=bounded(int, 1, 10**5),
        default=None,
        help="weighted harmonics for colored noise (default: all below fs/2)",
    )
    pl.add_argument(
        "--model", choices=("bdnc", "bda", "au"), default="bdnc", help="Landauer preset for the expected Q_P(±V)"
    )
    pl.add_argument("--bias", type=_positive, default=1.08, help="V_M for the preset, V (default 1.08)")
    pl.add_argument("--q-plus-nW", type=_positive, default=None, help="expected Q_P(+V), nW (instead of a preset)")
    pl.add_argument("--q-minus-nW", type=_positive, default=None, help="expected Q_P(−V), nW")
    pl.add_argument("--fmin", type=_positive, default=0.5, help="lowest frequency scanned, Hz")
    pl.add_argument("--fmax", type=_positive, default=200.0, help="highest frequency scanned, Hz")
    pl.add_argument("--points", type=bounded(int, 3, 100_000), default=200)
    pl.add_argument("--out", default="plan", help="output folder (plan.json, plan.png; default ./plan)")
    pl.add_argument("--quiet", action="store_true", help="no notes on stderr (which calibration was used)")
    r = pl.add_argument_group("resistive probes (a calibration with a resistor sensor)")
    r.add_argument("--readout", choices=("current", "bridge"), default="current", help="current source or bridge")
    r.add_argument(
        "--self-heating-K", type=_positive, default=1.0, help="bias chosen to heat the sensor this much, K (default 1)"
    )
    add_noise_options(pl)
    pl.set_defaults(func=cmd_plan, no_design=True)


def amplifier_dead_time(corner_Hz: float, order: int, tolerance: float) -> float:
    """Time (s) for an ``order``-pole RC low-pass at ``corner_Hz`` to settle within ``tolerance`` of a step."""
    from scipy.stats import gamma

    return float(gamma.ppf(1 - tolerance, order, scale=1 / (2 * math.pi * corner_Hz)))


def _levels(args: argparse.Namespace) -> tuple[float, float, str]:
    if (args.q_plus_nW is None) != (args.q_minus_nW is None):
        raise NoiseError("give --q-plus-nW and --q-minus-nW together, or neither (then --model/--bias)")
    if args.q_plus_nW is not None:
        return args.q_plus_nW * 1e-9, args.q_minus_nW * 1e-9, "given"
    from probe_fem.analysis.landauer import preset

    c = preset(args.model).currents(np.array([args.bias, -args.bias]))
    return float(c["Q_P"][0]), float(c["Q_P"][1]), f"Landauer {args.model} at ±{args.bias:g} V"


def cmd_plan(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.analysis.plan import Acquisition, plan
    from probe_fem.calibration.schema import Calibration
    from probe_fem.io import check_writable, write_json
    from probe_fem.plots.analysis import plot_plan

    out = check_writable(args.out, folder=True, option="--out")
    cal = Calibration.load(calibration_path(args.calibration, args.quiet))
    if cal.sensor == "resistor":
        return _plan_resistive(args, cal, out, console)
    dead = args.dead_time
    if args.amp_corner_Hz is not None:
        if dead is not None:
            raise NoiseError("give --dead-time or --amp-corner-Hz, not both")
        dead = amplifier_dead_time(args.amp_corner_Hz, args.amp_order, args.settle_tolerance)
    acq = Acquisition(
        sequence=args.sequence,
        dead_time_s=5e-3 if dead is None else dead,
        fs_Hz=args.fs,
        seconds_per_junction=args.seconds,
        junctions=args.junctions,
        harmonics=args.harmonics,
    )
    noise = noise_from(args, cal)
    q_plus, q_minus, origin = _levels(args)
    p = plan(cal, noise, acq, q_plus, q_minus, args.frequency, args.fmin, args.fmax, args.points)
    data = p.to_dict() | {"levels_origin": origin}
    files = [write_json(out / "plan.json", data), plot_plan(p, out / "plan.png")]
    _print(console, p, origin)
    for f in files:
        console.print(f"wrote {f}")
    return 0


def _plan_resistive(args: argparse.Namespace, cal: Calibration, out: Any, console: Console) -> int:
    """A resistive probe's plan: bias from the allowed self-heating, responsivity, NEP, σ of the tip heat."""
    from probe_fem.analysis.resistive import Readout, plan_resistive
    from probe_fem.io import write_json
    from probe_fem.plots.analysis import plot_resistive_plan

    readout = Readout(args.readout, args.self_heating_K, args.white_nV * 1e-9, args.corner_Hz)
    freq = np.geomspace(args.fmin, args.fmax, args.points)
    p = plan_resistive(cal, readout, freq, args.seconds)
    d = p.to_dict()
    files = [write_json(out / "plan.json", d), plot_resistive_plan(p, out / "plan.png")]
    rows = [
        ("readout", args.readout, ""),
        ("R_e; TCR", f"{p.R_e:,.2f} Ω; {p.tcr:.4g}", "1/K"),
        ("bias current (self-heating)", f"{p.bias_A * 1e6:,.4g} µA ({p.self_heating_K:.3g} K)", ""),
        ("Johnson noise of R_e", f"{p.johnson_V_per_rtHz * 1e9:.3g}", "nV/√Hz"),
        ("lowest NEP, at", f"{d['nep_at_best_W_per_rtHz'] * 1e9:.4g} nW/√Hz at {d['best_frequency_Hz']:.3g} Hz", ""),
        ("responsivity there", f"{d['responsivity_at_best_V_per_W']:.4g}", "V/W"),
        (f"σ(Q) in {args.seconds:g} s", f"{p.sigma_Q_W * 1e9:.4g}", "nW"),
    ]
    console.print(quantity_table(f"resistive measurement plan — {cal.probe}", rows))
    for f in files:
        console.print(f"wrote {f}")
    return 0


def _print(console: Console, p: Any, origin: str) -> None:
    c, acq = p.chosen, p.acquisition
    title = (
        f"measurement plan — {acq.sequence}, dead time {acq.dead_time_s * 1e3:.3g} ms, {acq.fs_Hz:g} Hz, "
        f"{acq.seconds_per_junction:g} s × {acq.junctions} junctions; "
        f"Q_P(±V) = {p.q_plus_W * 1e9:.4g} / {p.q_minus_W * 1e9:.4g} nW ({origin})"
    )
    lo, hi = p.plateau_Hz
    lag_f = p.lag_exceeds_sigma_Hz()
    m = c["mains"]
    rows = [
        ("optimal frequency (min pooled σ of Q_P)", f"{p.optimal_frequency_Hz:.3g}", "Hz"),
        ("plateau (σ within 10 % of the optimum)", f"{lo:.3g} – {hi:.3g}", "Hz"),
        (
            "  lowest – highest within 10 % (mains notches aside)",
            "{:.3g} – {:.3g}".format(*p.within_10_percent_Hz),
            "Hz",
        ),
        ("lag bias of Q_P(±) exceeds pooled 1σ above", f"{lag_f:.3g}" if lag_f else "never in the scan", "Hz"),
        (
            f"at {c['frequency_Hz']:g} Hz: σ ΔT_TC(±) per junction",
            f"{c['sigma_dT_K_per_junction']['+V'] * 1e3:.4g}",
            "mK",
        ),
        ("  σ ΔT_TC(±) pooled", f"{c['sigma_dT_K_pooled']['+V'] * 1e3:.4g}", "mK"),
        (
            "  σ Q_P(±) per junction / pooled",
            f"{c['sigma_Q_P_W_per_junction'] * 1e9:.4g} / {c['sigma_Q_P_W_pooled'] * 1e9:.4g}",
            "nW",
        ),
        ("  σ of Q_P(−) − Q_P(+), pooled", f"{c['sigma_asymmetry_W_pooled'] * 1e9:.4g}", "nW"),
        ("  lag bias Q_P(+) / Q_P(−) (relative)", f"{c['lag_bias']['+V']:+.2e} / {c['lag_bias']['-V']:+.2e}", ""),
        ("  fake asymmetry, symmetric junction (rel.)", f"{c['fake_asymmetry_symmetric_junction']:+.2e}", ""),
        ("  NEP", f"{c['nep_W_per_rtHz'] * 1e9:.3g}", "nW/√Hz"),
        (
            "  closest weighted harmonic to mains",
            f"{m['closest_harmonic']} × {c['frequency_Hz']:g} Hz is "
            f"{m['distance_Hz']:.3g} Hz from {m['closest_mains_multiple']} × {m['mains_Hz']:g} Hz",
            "",
        ),
        ("  mains leakage per junction", f"{m['leakage_K_per_junction'] * 1e3:.3g}", "mK"),
        ("  verdict", c["verdict"], ""),
    ]
    console.print(quantity_table(title, rows))
