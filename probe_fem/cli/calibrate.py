"""Commands on a design: ``calibrate``, ``mesh``, ``converge``, ``modulation``, ``network``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from probe_fem import paper
from probe_fem.cli.common import EXIT_BAD_INPUT, bounded, design_options, fraction, frequency, positive, pressure
from probe_fem.cli.common import error as _error
from probe_fem.cli.common import quantity_table as _quantity_table
from probe_fem.io import check_writable
from probe_fem.paper import R_P_K_PER_W as PUBLISHED_RP
from probe_fem.paper import R_P_UNCERTAINTY_K_PER_W as PUBLISHED_RP_U
from probe_fem.progress import Stages

if TYPE_CHECKING:  # the FEM stack is imported when a command runs, not when the parser is built
    from probe_fem.calibration.schema import Calibration, Network
    from probe_fem.design import Design
    from probe_fem.model.dynamics import DynamicReport
    from probe_fem.model.steady import SteadyReport
    from probe_fem.pipeline import CalibrationRun


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The commands on a design: calibrate, mesh, modulation, network, converge."""
    c = sub.add_parser(
        "calibrate",
        help="R_P, breakdown, modes, step and frequency response, modulation verdict; writes JSON, VTU, PNG",
    )
    design_options(c)
    c.add_argument(
        "--solver",
        choices=("auto", "direct", "amg"),
        default="auto",
        help="steady solver; auto: the fastest installed for the size, named in the report",
    )
    c.add_argument("--calib", default=None, help="calibration file to write (default: calib/<design name>.json)")
    c.add_argument(
        "--no-cache",
        action="store_true",
        help="always re-mesh (default: reuse meshes cached by geometry in $PROBE_FEM_CACHE "
        "or ~/.cache/probe-fem/meshes)",
    )
    c.add_argument("--verify-step", action="store_true", help="also step the full model in time (BDF2) as a check")
    c.add_argument(
        "--pressure",
        type=pressure,
        default=None,
        help="gas pressure with its unit (Pa, kPa, mbar, Torr, atm), e.g. 1atm: the design's [environment] at "
        "this pressure, or air (accommodation 0.9, radiation, no sample) if it has none; the design is named "
        "<name>-<p>Pa and its measured R_P (held for its own surroundings) is not used",
    )
    c.add_argument(
        "--accuracy",
        type=accuracy,
        default=None,
        help="mesh adaptively until the estimated relative error of R_P is within this, e.g. 0.1%% or 0.001 "
        "(the first mesh is the design's sizes ÷ refine/2)",
    )
    c.set_defaults(func=cmd_calibrate)
    m = sub.add_parser("mesh", help="write the mesh only (VTU with region ids)")
    design_options(m)
    m.set_defaults(func=cmd_mesh)
    mo = sub.add_parser("modulation", help="how faithfully phase-averaged ΔT_TC follows a three-level modulation")
    design_options(mo)
    mo.add_argument(
        "--frequency",
        type=frequency,
        default=paper.MODULATION_FREQUENCY_HZ,
        help=f"modulation frequency, Hz (default {paper.MODULATION_FREQUENCY_HZ:g}, the paper's)",
    )
    mo.add_argument("--tolerance", type=fraction, default=1e-3, help="relative tolerance (default 1e-3)")
    mo.add_argument(
        "--levels",
        type=heat_levels,
        default=(1.0, 0.0, 0.8),
        help="relative heat in the +V, 0, -V phases (default 1,0,0.8)",
    )
    mo.set_defaults(func=cmd_modulation)
    n = sub.add_parser("network", help="validity of Q_P = ΔT_TC/R_P against junction and substrate resistances")
    design_options(n)
    g = n.add_mutually_exclusive_group()
    g.add_argument("--junction-conductance", help="electrical conductance, e.g. 1G0 or 7.7e-5S (Wiedemann-Franz)")
    g.add_argument("--junction-resistance", help="thermal resistance R_J, e.g. 1e7K/W")
    g.add_argument("--molecule", choices=("au", "bdnc", "bda"), help="the paper's junction classes")
    n.add_argument("--phonon-conductance", help="phonon thermal conductance, e.g. 30pW/K (adds to the electronic)")
    n.add_argument("--contact-radius-nm", type=positive, default=10.0, help="substrate hot-spot radius, nm")
    n.add_argument("--substrate-k", type=positive, default=317.0, help="substrate conductivity, W/(m K)")
    n.add_argument("--ratio-max", type=positive, default=4.0, help="largest Q_S/Q_P considered")
    n.add_argument("--tolerance", type=fraction, default=1e-3)
    n.add_argument("--substrate-fem", action="store_true", help="also solve R_S by axisymmetric FEM")
    n.set_defaults(func=cmd_network)
    v = sub.add_parser(
        "converge",
        help="mesh-refinement study of R_P with Richardson extrapolation: "
        "levels at refine/2, refine, 2·refine, ... (the calibrate mesh is the second level)",
    )
    design_options(v)
    v.add_argument("--levels", type=int, choices=range(2, 6), default=3, metavar="{2..5}")
    v.set_defaults(func=cmd_converge)


def accuracy(text: str) -> float:
    """argparse type of ``--accuracy``: a relative error as a fraction ("0.001") or a percentage ("0.1%")."""
    t = text.strip()
    percent = t.endswith("%")
    value = bounded()(t[:-1].strip() if percent else t)
    value = value / 100 if percent else value
    from probe_fem.model.adapt import ACCURACY_RANGE

    lo, hi = ACCURACY_RANGE
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(f"{text!r}: allowed [{lo:g}, {hi:g}] (a fraction) or [0.001%, 50%]")
    return float(value)


def heat_levels(text: str) -> tuple[float, float, float]:
    parts = [bounded()(p) for p in text.split(",")]
    if len(parts) != 3 or min(parts) < 0 or parts[0] == parts[1] or parts[2] == parts[1]:
        raise argparse.ArgumentTypeError(
            f"{text!r}: three heat levels >= 0 for +V,0,-V, the bias phases different from the 0 V phase"
        )
    return tuple(parts)


def _out_dir(args: argparse.Namespace, design: Design) -> Path:
    return Path(args.out) if args.out else Path("results") / design.name


def cmd_calibrate(args: argparse.Namespace, design: Design, console: Console) -> int:
    """The main job: :func:`probe_fem.pipeline.calibrate`, printed and written."""
    from probe_fem.mesh.cache import checked_cache, default_cache
    from probe_fem.pipeline import calibrate

    if args.pressure is not None:
        from probe_fem.model.environment import with_pressure

        design = with_pressure(design, args.pressure)
    out, calib = _outputs(args, design)
    cache = None if args.no_cache else checked_cache(default_cache())
    stages = Stages(quiet=args.quiet)
    run = calibrate(
        design,
        args.refine,
        cache=cache,
        progress=stages,
        solver=args.solver,
        verify_step=args.verify_step,
        accuracy=args.accuracy,
    )
    with stages("writing", f"results to {out}/"):
        files = run.write(out, calib)
    report, cal = run.steady, run.calibration
    report.seconds = dict(stages.seconds)
    _print_report(console, design, report)
    if run.dynamics is not None:
        _print_dynamics(console, run.dynamics)
    if cal.network is not None:
        _print_network(console, cal.network)
    if cal.resistor is not None:
        _print_resistor(console, cal)
    sensor = (
        f"S_TC = {cal.S_TC.value * 1e6:.3g} ± {cal.S_TC.uncertainty * 1e6:.2g} µV/K ({cal.S_TC.origin})"
        if cal.S_TC is not None
        else "R_P is R_tip (resistor's rise per watt at the apex)"
    )
    console.print(
        f"calibration: R_P = {cal.R_P.value:,.0f} ± {cal.R_P.uncertainty:,.0f} K/W ({cal.R_P.origin}), "
        f"FEM {cal.R_P_fem.value:,.0f} ± {cal.R_P_fem.uncertainty:,.0f} K/W (discretisation), {sensor}"
    )
    if cal.thermocouple_resistance_ohm is not None:
        console.print(f"thermocouple resistance (legs, from the FEM): {cal.thermocouple_resistance_ohm:,.1f} Ω")
    if cal.environment is not None:
        e = cal.environment
        sample = "no sample" if e.sample_tilt_deg is None else f"sample in contact, tilt {e.sample_tilt_deg:g}°"
        console.print(
            f"environment: {e.gas} at {e.pressure_Pa:.3g} Pa, {sample}, radiation {'on' if e.radiation else 'off'}; "
            + ", ".join(f"{k} {v:.3%}" for k, v in e.heat_shares.items())
        )
    if run.adaptive is not None:
        _print_adaptive(console, run)
    for path in files:
        console.print(f"wrote {path}")
    return 0


def _print_resistor(console: Console, cal: Calibration) -> None:
    """The resistive probe's table: R_e, TCR, R_self, R_tip, R_apex,self, their ratio and both bandwidths."""
    r = cal.resistor
    assert r is not None
    t = Table(title=f"resistive sensor — {cal.probe} (± discretisation, |X(h) − X(2h)|)")
    for col in ("quantity", "value", "±", "unit"):
        t.add_column(col, justify="right")
    t.add_row("R_e", f"{r.R_e.value:,.2f}", f"{r.R_e.uncertainty:.2g}", "Ω")
    t.add_row("TCR of R_e", f"{r.tcr_per_K:.4g}", "", "1/K")
    t.add_row("dR_e/dT", f"{r.R_e.value * r.tcr_per_K:.4g}", "", "Ω/K")
    t.add_row("R_self", f"{r.R_self.value:,.0f}", f"{r.R_self.uncertainty:,.0f}", "K/W")
    t.add_row("R_tip (= R_P)", f"{cal.R_P_fem.value:,.0f}", f"{cal.R_P_fem.uncertainty:,.0f}", "K/W")
    t.add_row("R_tip / R_self", f"{r.R_tip_over_R_self:.4f}", "", "")
    t.add_row("R_apex,self", f"{r.R_apex_self.value:,.0f}", f"{r.R_apex_self.uncertainty:,.0f}", "K/W")
    t.add_row("Joule heat in the film", f"{r.joule_share_in_film:.1%}", "", "")
    if cal.dynamics is not None:
        t.add_row("f−3dB, heat at the tip", f"{cal.dynamics.f_3dB_Hz:,.1f}", "", "Hz")
    if r.self_f_3dB_Hz is not None:
        t.add_row("f−3dB, self-heating", f"{r.self_f_3dB_Hz:,.1f}", "", "Hz")
    console.print(t)


def _outputs(args: argparse.Namespace, design: Design) -> tuple[Path, Path]:
    """The results folder and the calibration file, both checked before any work."""
    from probe_fem.calibration.exporters import target_format
    from probe_fem.errors import InputError
    from probe_fem.pipeline import CalibrationRun

    out = check_writable(_out_dir(args, design), folder=True, option="--out")
    calib = check_writable(Path(args.calib) if args.calib else Path("calib") / f"{design.name}.json", option="--calib")
    try:
        target_format(calib)
    except InputError as exc:
        raise InputError(f"--calib: {exc}") from None
    if calib.resolve() in {(out / name).resolve() for name in CalibrationRun.RESULT_FILES}:
        raise InputError(f"--calib = {str(calib)!r}: calibrate writes {calib.name} into --out; give another name")
    return out, calib


def _print_adaptive(console: Console, run: CalibrationRun) -> None:
    ad = run.adaptive
    assert ad is not None
    t = Table(title=f"adaptive meshing to {ad.accuracy:.3%} of R_P (estimated error: dual-weighted, P2 edge bubbles)")
    for col in ("iteration", "dofs", "R_P (K/W)", "estimated error (K/W)", "relative"):
        t.add_column(col, justify="right")
    for i, s in enumerate(ad.history):
        t.add_row(f"{i + 1}", f"{s.dofs:,}", f"{s.R_P:,.1f}", f"{s.estimate:+,.1f}", f"{s.relative:.3%}")
    console.print(t)
    verdict = "met" if ad.met else f"NOT met ({ad.stopped})"
    console.print(
        f"target {ad.accuracy:.3%}: {verdict}; sizes ×2 of the final mesh: {run.coarse.dofs:,} dofs, "
        f"|R_P(h) − R_P(2h)| = {abs(run.steady.R_P - run.coarse.R_P):,.1f} K/W"
    )


def _print_dynamics(console: Console, dyn: DynamicReport) -> None:
    m, v = dyn.modes, dyn.verdict
    dom = m.dominant
    rows = [
        (f"mode {i + 1}: τ, weight at TC / apex", f"{tau * 1e6:.4g}   {w:+.4f} / {wa:+.4f}", "µs")
        for i, (tau, w, wa) in enumerate(zip(m.tau[:5], m.weight_tc[:5], m.weight_apex[:5]))
    ]
    d = dyn.discretization or {}

    def mesh(key: str) -> str:
        """The change from the 2x coarser mesh, and whether the figure counts as converged (< 1 %)."""
        if key not in d:
            return ""
        return f"  (mesh {d[key]:.1%}{'' if d[key] < 0.01 else ', NOT converged'})"

    rows += [
        ("dominant mode (largest TC weight)", f"#{dom + 1}: τ = {m.tau[dom] * 1e6:.4g}{mesh('dominant_tau_s')}", "µs"),
        ("step t10 at TC", f"{dyn.t10 * 1e6:.3g}{mesh('t10_s')}", "µs"),
        ("step t63 / t90 at TC", f"{dyn.t63 * 1e6:.4g}{mesh('t63_s')} / {dyn.t90 * 1e6:.4g}{mesh('t90_s')}", "µs"),
        ("step t99.9 at TC (settling)", f"{dyn.t999 * 1e6:.4g}{mesh('t999_s')}", "µs"),
    ]
    if dyn.step is not None:
        rows += [
            ("BDF2 step end vs R_P (rel. error)", f"{dyn.step.final_error:.1e}", ""),
            ("BDF2 vs reduced model (max, rel. R_P)", f"{dyn.step_rom_error:.1e}", ""),
        ]
    rows += [
        ("f−3dB at TC", f"{dyn.f_3dB / 1e3:.4g}{mesh('f_3dB_Hz')}", "kHz"),
        ("reduced model vs direct solves", f"{dyn.check.max_error:.1e} (dim {dyn.rom.dim})", ""),
        (
            f"modulation at {v.frequency:g} Hz: worst demod. error",
            f"{max(v.errors.values()):.2e}{mesh('modulation_worst_error')}",
            "",
        ),
        (f"verdict (tolerance {v.tolerance:g})", "quasi-static" if v.ok else "NOT quasi-static", ""),
        ("highest frequency within tolerance", f"{v.max_frequency:.4g}", "Hz"),
    ]
    console.print(
        _quantity_table("dynamic response (heat step / modulation at the apex, read at the thermocouple)", rows)
    )


def _print_network(console: Console, net: Network) -> None:
    t = Table(
        title=f"network validity of Q_P = ΔT_TC/R_P (R_S = {net.R_S_K_per_W:.3g} K/W, "
        f"Q_S/Q_P up to {net.QS_over_QP_max:g})"
    )
    for col in ("junction", "R_J (K/W)", "worst error", f"valid (≤ {net.tolerance:g})"):
        t.add_column(col, justify="right")
    for j in net.junctions:
        t.add_row(j.name, f"{j.R_J_K_per_W:.3g}", f"{j.worst_relative_error:.2e}", "yes" if j.valid else "NO")
    console.print(t)
    console.print(
        f"apex vs thermocouple: ΔT_TC = {1 - net.apex_minus_tc_fraction:.3f} × ΔT_apex "
        "(R_P is the apex-to-junction transfer resistance, so Q_P = ΔT_TC/R_P holds all the same)"
    )


def cmd_network(args: argparse.Namespace, design: Design, console: Console) -> int:
    from probe_fem.calibration import network as nw
    from probe_fem.calibration.build import network_summary

    try:
        if args.molecule:
            preset = {"bdnc": nw.PAPER_JUNCTIONS[1], "bda": nw.PAPER_JUNCTIONS[2], "au": nw.PAPER_JUNCTIONS[0]}
            junction = preset[args.molecule]
        elif args.junction_resistance:
            R = nw.parse_quantity(args.junction_resistance, "resistance")
            junction = nw.JunctionClass("user R_J", 0.0, 1.0 / R)
        else:
            G = nw.parse_quantity(args.junction_conductance, "conductance") if args.junction_conductance else 0.0
            g = nw.parse_quantity(args.phonon_conductance, "thermal") if args.phonon_conductance else 0.0
            junction = nw.JunctionClass("user", G, g)
        R_J = junction.R_J
    except ValueError as exc:
        _error(f"network: {exc}")
        return EXIT_BAD_INPUT
    from probe_fem.model.steady import build_model, solve_steady

    stages = Stages(quiet=args.quiet)
    report, _ = solve_steady(build_model(design, refine=args.refine, stages=stages), stages=stages)
    a, k = args.contact_radius_nm * 1e-9, args.substrate_k
    R_S = nw.spreading_resistance(k, a)
    c = nw.check(junction, report.R_apex, report.R_P, R_S, args.ratio_max, args.tolerance)
    e0, e1 = c.errors
    rows = [
        ("R_J (junction)", f"{R_J:.4g}", "K/W"),
        ("R_S = 1/(4ka) (substrate)", f"{R_S:.4g}", "K/W"),
        ("R_P (apex → thermocouple, FEM)", f"{report.R_P:,.0f}", "K/W"),
        ("R_apex (apex node of the network, FEM)", f"{report.R_apex:,.0f}", "K/W"),
        ("error of ΔT_TC/R_P at Q_S/Q_P = 0", f"{e0:+.3e}", ""),
        (f"error at Q_S/Q_P = {args.ratio_max:g}", f"{e1:+.3e}", ""),
        (f"verdict (tolerance {args.tolerance:g})", "valid" if c.ok else "NOT valid", ""),
        ("ΔT_TC / ΔT_apex (apex heating)", f"{report.dT_tc / report.dT_apex:.4f}", ""),
    ]
    if args.substrate_fem:
        from probe_fem.physics.substrate import spreading_fem

        r = spreading_fem(k, a)
        rows.insert(
            2, ("R_S axisymmetric FEM (truncated half-space)", f"{r.R_fem:.4g} (analytic {r.R_truncated:.4g})", "K/W")
        )
    console.print(_quantity_table(f"network check — {design.name}, junction {junction.name}", rows))
    _print_network(
        console,
        network_summary(
            report.R_apex, report.R_P, 1 - report.dT_tc / report.dT_apex, args.tolerance, args.ratio_max, a, k
        ),
    )
    return 0


def cmd_modulation(args: argparse.Namespace, design: Design, console: Console) -> int:
    from probe_fem.model.dynamics import analyze
    from probe_fem.physics.modulation import Waveform

    wave = Waveform(levels=tuple(args.levels))
    from probe_fem.model.steady import build_model

    stages = Stages(quiet=args.quiet)
    model = build_model(design, refine=args.refine, stages=stages)
    dyn = analyze(model, frequency_Hz=args.frequency, tolerance=args.tolerance, wave=wave, stages=stages)
    v = dyn.verdict
    levels = ", ".join(f"{n}: {q:g}" for n, q in zip(wave.names, wave.levels))
    t = Table(title=f"modulation check — {design.name}: Q per phase {levels} (relative)")
    for col in ("phase", "demodulated error", "tolerance"):
        t.add_column(col, justify="right")
    for name, err in v.errors.items():
        t.add_row(f"ΔT({name}) − ΔT(0)", f"{err:.3e}", f"{v.tolerance:g}")
    console.print(t)
    console.print(
        f"at {v.frequency:g} Hz: {'quasi-static' if v.ok else 'NOT quasi-static'}; "
        f"highest frequency within {v.tolerance:g}: {v.max_frequency:.4g} Hz "
        f"(thermocouple mean delay {dyn.rom.mean_delay * 1e6:.3g} µs, t63 {dyn.t63 * 1e6:.3g} µs)"
    )
    return 0 if v.ok else 1


def _paths(r: SteadyReport) -> dict[str, float]:
    """The heat's paths out (W) of a probe with exchange to its surroundings; empty for the root alone."""
    return r.heat_paths if len(r.heat_paths) > 1 else {}


def _print_report(console: Console, design: Design, r: SteadyReport) -> None:
    dev = (r.R_P - PUBLISHED_RP) / PUBLISHED_RP
    rows = [
        ("R_P = ΔT_TC / Q_P", f"{r.R_P:,.1f}", "K/W"),
        ("published R_P (Lee et al. 2013)", f"{PUBLISHED_RP:,.0f} ± {PUBLISHED_RP_U:,.0f}", "K/W"),
        ("deviation from published", f"{dev:+.2%}", ""),
        ("R_apex = ΔT_apex / Q_P", f"{r.R_apex:,.1f}", "K/W"),
        (f"ΔT_TC at Q_P = {r.power:g} W", f"{r.dT_tc * 1e3:.4f}", "mK"),
        ("heat balance |out − in| / in", f"{r.balance_error:.1e}", ""),
        *[(f"heat out: {k}", f"{v / r.heat_out:.4%}", "of Q_P") for k, v in _paths(r).items()],
        *[(f"R share: {k}", f"{v:,.1f}", "K/W") for k, v in r.breakdown.items()],
        ("shares sum vs R_apex (rel. error)", f"{r.breakdown_error:.1e}", ""),
        ("mesh", f"{r.dofs:,} dofs / {r.elements:,} tets", ""),
        ("solver", r.solver, ""),
        *[(f"wall time: {k}", f"{v:.2f}", "s") for k, v in r.seconds.items()],
    ]
    console.print(
        _quantity_table(f"probe-fem steady calibration — {design.name} (design {design.fingerprint()})", rows)
    )


def cmd_mesh(args: argparse.Namespace, design: Design, console: Console) -> int:
    from probe_fem.io import write_vtu
    from probe_fem.mesh.probe import build_mesh, leg_summary, region_of_elements

    target = Path(args.out) if args.out else Path("results") / design.name / "mesh.vtu"
    if target.suffix != ".vtu":
        _error(f"--out = {str(target)!r}: must end in .vtu")
        return EXIT_BAD_INPUT
    check_writable(target, option="--out")
    stages = Stages(quiet=args.quiet)
    with stages("meshing"):
        pm = build_mesh(design, refine=args.refine)
    m = pm.mesh.skfem
    write_vtu(target, m.p, m.t, {}, {"region": region_of_elements(pm)})
    console.print(f"{pm.mesh.n_nodes:,} nodes, {pm.mesh.n_elements:,} tetrahedra, fingerprint {pm.mesh.fingerprint()}")
    console.print(leg_summary(design, pm))
    console.print(f"wrote {target}")
    return 0


def cmd_converge(args: argparse.Namespace, design: Design, console: Console) -> int:
    from probe_fem.io import write_json
    from probe_fem.model.convergence import study
    from probe_fem.plots.fields import plot_convergence

    out = check_writable(_out_dir(args, design), folder=True, option="--out")
    stages = Stages(quiet=args.quiet)
    s = study(design, levels=args.levels, start=args.refine / 2, stages=stages)
    t = Table(title=f"mesh convergence of R_P — {design.name} (size ÷{s.ratio:g} per step)")
    for col in ("refine", "dofs", "tetrahedra", "R_P (K/W)", "change"):
        t.add_column(col, justify="right")
    for i, (f, r) in enumerate(zip(s.refine, s.reports)):
        t.add_row(f"×{f:g}", f"{r.dofs:,}", f"{r.elements:,}", f"{r.R_P:,.1f}", f"{s.changes[i - 1]:.3%}" if i else "")
    console.print(t)
    if s.order is not None and s.extrapolated is not None:
        console.print(
            f"observed order {s.order:.2f}; Richardson-extrapolated R_P = {s.extrapolated:,.1f} K/W "
            f"({(s.extrapolated - PUBLISHED_RP) / PUBLISHED_RP:+.2%} from the published value)"
        )
    else:
        console.print("observed order undefined (changes not monotone); no Richardson value")
    files = [
        write_json(
            out / "convergence.json", {"design": design.name, "design_fingerprint": design.fingerprint(), **s.to_dict()}
        ),
        plot_convergence(s, out / "convergence.png"),
    ]
    for path in files:
        console.print(f"wrote {path}")
    return 0
