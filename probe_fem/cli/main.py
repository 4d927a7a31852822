"""Command line: ``probe-fem calibrate | modulation | network | mesh | converge [DESIGN]``,
``export CALIB``, ``landauer``, ``simulate``, ``analyze TRACES``.

Every command validates the design completely before meshing; a bad design
prints one message per problem and exits with code 2, writing nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from rich.console import Console
from rich.table import Table

from probe_fem.design.schema import Design, DesignError, interval_text, load_design
from probe_fem.progress import Stages

PUBLISHED_RP, PUBLISHED_RP_U = 72_800.0, 500.0  # K/W, Lee et al. 2013
EXIT_BAD_INPUT = 2


def _error(text: str) -> None:
    """Errors go to stderr unwrapped, one problem per line, so scripts can grep them."""
    print(text, file=sys.stderr)


def _out_dir(args: argparse.Namespace, design: Design) -> Path:
    return Path(args.out) if args.out else Path("results") / design.name


def _write_field(model, T, target: Path) -> Path:
    from probe_fem.mesh.probe import region_of_elements
    from probe_fem.io import write_vtu

    m = model.probe.mesh.skfem
    q = model.problem.power
    return write_vtu(target, m.p, m.t, {"dT_K": T, "dT_per_W_K_per_W": T / q},
                     {"region": region_of_elements(model.probe)})


def cmd_calibrate(args: argparse.Namespace, design: Design, console: Console) -> int:
    from probe_fem.model.dynamics import analyze
    from probe_fem.io import write_json
    from probe_fem.plots.figures import plot_bode, plot_heat_path, plot_step
    from probe_fem.model.steady import build_model, software_versions, solve_steady

    from probe_fem.calibration.schema import build

    from probe_fem.mesh.core import default_cache

    stages = Stages(quiet=args.quiet)
    cache = None if args.no_cache else default_cache()
    coarse, _ = solve_steady(build_model(design, args.refine / 2, stages, cache), method=args.solver)
    stages.note(f"coarse mesh (sizes ×2) for the discretisation estimate: R_P = {coarse.R_P:,.1f} K/W")
    model = build_model(design, args.refine, stages, cache)
    report, T = solve_steady(model, stages=stages, method=args.solver)
    dyn = analyze(model, stages=stages)
    cal = build(design, report, coarse.R_P, args.refine, dyn, software_versions())
    out = _out_dir(args, design)
    with stages("writing", f"results to {out}/"):
        data = {"design": design.name, "design_fingerprint": design.fingerprint(), "refine": args.refine,
                "published": {"R_P_K_per_W": PUBLISHED_RP, "uncertainty_K_per_W": PUBLISHED_RP_U},
                **report.to_dict(), "dynamics": dyn.to_dict(), "software": software_versions()}
        files = [_write_field(model, T, out / "temperature.vtu"), plot_heat_path(model, T, out / "heat_path.png"),
                 plot_step(dyn, out / "step_response.png"), plot_bode(dyn, out / "bode.png")]
        data["wall_time_s"] = dict(stages.seconds)
        files.insert(0, write_json(out / "results.json", data))
        files.insert(0, cal.save(Path(args.calib) if args.calib else Path("calib") / f"{design.name}.json"))
    report.seconds = dict(stages.seconds)
    _print_report(console, design, report)
    _print_dynamics(console, dyn)
    _print_network(console, cal.network)
    console.print(f"calibration: R_P = {cal.R_P.value:,.0f} ± {cal.R_P.uncertainty:,.0f} K/W ({cal.R_P.origin}), "
                  f"FEM {cal.R_P_fem.value:,.0f} ± {cal.R_P_fem.uncertainty:,.0f} K/W (discretisation), "
                  f"S_TC = {cal.S_TC.value * 1e6:.3g} ± {cal.S_TC.uncertainty * 1e6:.2g} µV/K ({cal.S_TC.origin})")
    for f in files:
        console.print(f"wrote {f}")
    return 0


def _print_dynamics(console: Console, dyn) -> None:
    m, v = dyn.modes, dyn.verdict
    dom = m.dominant
    rows = [(f"mode {i + 1}: τ, weight at TC / apex", f"{tau * 1e6:.4g}   {w:+.4f} / {wa:+.4f}", "µs")
            for i, (tau, w, wa) in enumerate(zip(m.tau[:5], m.weight_tc[:5], m.weight_apex[:5]))]
    rows += [("dominant mode (largest TC weight)", f"#{dom + 1}: τ = {m.tau[dom] * 1e6:.4g}", "µs"),
             ("step t10 / t63 / t90 at TC", f"{dyn.t10 * 1e6:.3g} / {dyn.t63 * 1e6:.4g} / {dyn.t90 * 1e6:.4g}", "µs"),
             ("step end vs R_P (rel. error)", f"{dyn.step.final_error:.1e}", ""),
             ("BDF2 vs reduced model (max, rel. R_P)", f"{dyn.step_rom_error:.1e}", ""),
             ("f−3dB at TC", f"{dyn.f_3dB / 1e3:.4g}", "kHz"),
             ("reduced model vs direct solves", f"{dyn.check.max_error:.1e} (dim {dyn.rom.dim})", ""),
             (f"modulation at {v.frequency:g} Hz: worst demod. error", f"{max(v.errors.values()):.2e}", ""),
             (f"verdict (tolerance {v.tolerance:g})", "quasi-static" if v.ok else "NOT quasi-static", ""),
             ("highest frequency within tolerance", f"{v.max_frequency:.4g}", "Hz")]
    console.print(_quantity_table("dynamic response (heat step / modulation at the apex, read at the thermocouple)",
                                  rows))


def _print_network(console: Console, net) -> None:
    t = Table(title=f"network validity of Q_P = ΔT_TC/R_P (R_S = {net.R_S_K_per_W:.3g} K/W, "
                    f"Q_S/Q_P up to {net.QS_over_QP_max:g})")
    for col in ("junction", "R_J (K/W)", "worst error", f"valid (≤ {net.tolerance:g})"):
        t.add_column(col, justify="right")
    for j in net.junctions:
        t.add_row(j.name, f"{j.R_J_K_per_W:.3g}", f"{j.worst_relative_error:.2e}", "yes" if j.valid else "NO")
    console.print(t)
    console.print(f"apex vs thermocouple: ΔT_TC = {1 - net.apex_minus_tc_fraction:.3f} × ΔT_apex "
                  "(R_P is the apex-to-junction transfer resistance, so Q_P = ΔT_TC/R_P holds all the same)")


def cmd_network(args: argparse.Namespace, design: Design, console: Console) -> int:
    from probe_fem.calibration import network as nw
    from probe_fem.calibration.schema import network_summary
    from probe_fem.model.steady import build_model, solve_steady

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
    stages = Stages(quiet=args.quiet)
    report, _ = solve_steady(build_model(design, refine=args.refine, stages=stages), stages=stages)
    a, k = args.contact_radius_nm * 1e-9, args.substrate_k
    R_S = nw.spreading_resistance(k, a)
    c = nw.check(junction, report.R_apex, report.R_P, R_S, args.ratio_max, args.tolerance)
    e0, e1 = c.errors
    rows = [("R_J (junction)", f"{R_J:.4g}", "K/W"), ("R_S = 1/(4ka) (substrate)", f"{R_S:.4g}", "K/W"),
            ("R_P (apex → thermocouple, FEM)", f"{report.R_P:,.0f}", "K/W"),
            ("R_apex (apex node of the network, FEM)", f"{report.R_apex:,.0f}", "K/W"),
            ("error of ΔT_TC/R_P at Q_S/Q_P = 0", f"{e0:+.3e}", ""),
            (f"error at Q_S/Q_P = {args.ratio_max:g}", f"{e1:+.3e}", ""),
            (f"verdict (tolerance {args.tolerance:g})", "valid" if c.ok else "NOT valid", ""),
            ("ΔT_TC / ΔT_apex (apex heating)", f"{report.dT_tc / report.dT_apex:.4f}", "")]
    if args.substrate_fem:
        from probe_fem.physics.substrate import spreading_fem

        r = spreading_fem(k, a)
        rows.insert(2, ("R_S axisymmetric FEM (truncated half-space)", f"{r.R_fem:.4g} (analytic {r.R_truncated:.4g})",
                        "K/W"))
    console.print(_quantity_table(f"network check — {design.name}, junction {junction.name}", rows))
    _print_network(console, network_summary(report.R_apex, report.R_P, 1 - report.dT_tc / report.dT_apex,
                                            args.tolerance, args.ratio_max, a, k))
    return 0


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.calibration.schema import Calibration, CalibrationError

    try:
        cal = Calibration.load(args.calibration)
    except CalibrationError as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    target = Path(args.out) if args.out else Path(args.calibration).with_suffix("." + args.format)
    console.print(f"wrote {cal.save(target, args.format)}")
    return 0


def cmd_landauer(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.analysis.landauer import G0, Junction, Table as TauTable, preset

    try:
        junction = Junction(TauTable.load(args.table)) if args.table else preset(args.model)
        bias = _bias_list(args.bias)
    except ValueError as exc:
        _error(f"landauer: {exc}")
        return EXIT_BAD_INPUT
    c = junction.currents(np.concatenate([bias, -bias]))
    n = bias.size
    t = Table(title=f"Landauer dissipation — {args.table or args.model}: G = {junction.conductance / G0:.4g} G0, "
                    f"S = {junction.seebeck * 1e6:+.3g} µV/K, T = {junction.T:g} K")
    for col in ("V (V)", "I (nA)", "Q_P (nW)", "Q_S (nW)", "Q_total (nW)", "Q_P/Q_total"):
        t.add_column(col, justify="right")
    for i in list(range(n)) + list(range(n, 2 * n)):
        t.add_row(f"{(bias[i % n] if i < n else -bias[i % n]):+.4g}", f"{c['I'][i] * 1e9:.4g}",
                  f"{c['Q_P'][i] * 1e9:.4g}", f"{c['Q_S'][i] * 1e9:.4g}", f"{c['Q_total'][i] * 1e9:.4g}",
                  f"{c['Q_P'][i] / c['Q_total'][i]:.4f}")
    console.print(t)
    return 0


def cmd_simulate(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.calibration.schema import Calibration, CalibrationError
    from probe_fem.analysis.landauer import preset
    from probe_fem.analysis.simulation import simulate

    try:
        cal = Calibration.load(args.calibration)
        bias = _bias_list(args.bias)
        junction = preset(args.model)
        traces, truth = simulate(junction, list(bias), cal, args.junctions, args.seconds, args.fs,
                                 1 / args.frequency, args.noise_nV, args.drift_nV, args.spread, args.seed)
    except (CalibrationError, ValueError) as exc:
        _error(f"simulate: {exc}")
        return EXIT_BAD_INPUT
    out = traces.save(args.out)
    console.print(f"wrote {out}: {traces.t.size:,} samples at {traces.fs:g} Hz, {len(np.unique(traces.segment))} "
                  f"junction segments, model {args.model}")
    for tr in truth:
        console.print(f"  V_M = {tr.V_M:g} V: true ΔT(+) = {tr.dT_plus * 1e3:.4f} mK, ΔT(−) = {tr.dT_minus * 1e3:.4f} mK")
    return 0


def cmd_analyze(args: argparse.Namespace, console: Console) -> int:
    from probe_fem.analysis.demodulation import TraceError, Traces, demodulate
    from probe_fem.calibration.schema import Calibration, CalibrationError
    from probe_fem.analysis.landauer import preset
    from probe_fem.plots.figures import plot_dissipation

    try:
        cal = Calibration.load(args.calibration)
        traces = Traces.load(args.traces)
        results = demodulate(traces, cal, period=1 / args.frequency)
        junction = preset(args.model) if args.model else None
    except (CalibrationError, TraceError, ValueError) as exc:
        _error(f"analyze: {exc}")
        return EXIT_BAD_INPUT
    t = Table(title=f"dissipation in the probe — {args.traces} (R_P = {cal.R_P.value:,.0f} ± "
                    f"{cal.R_P.uncertainty:,.0f} K/W, S_TC = {cal.S_TC.value * 1e6:.3g} µV/K)")
    for col in ("V_M (V)", "ΔT_TC,Avg (mK)", "Q_P,Avg (nW)", "Q_Total,Avg (nW)", "f = Q_P/Q_Total", "periods"):
        t.add_column(col, justify="right")
    for pair in results:
        for r in pair:
            t.add_row(f"{r.V_M:+.4g}", f"{r.dT * 1e3:.4f} ± {r.u_dT * 1e3:.4f}", f"{r.Q_P * 1e9:.3f} ± {r.u_Q_P * 1e9:.3f}",
                      f"{r.Q_total * 1e9:.3f} ± {r.u_Q_total * 1e9:.3f}", f"{r.fraction:.4f} ± {r.u_fraction:.4f}",
                      str(r.periods))
    console.print(t)
    target = Path(args.out) if args.out else Path(args.traces).with_suffix(".png")
    console.print(f"wrote {plot_dissipation(results, cal.R_P.value, target, junction, str(args.traces))}")
    return 0


def _bias_list(text: str) -> np.ndarray:
    try:
        v = np.array([float(x) for x in text.split(",")])
    except ValueError:
        raise ValueError(f"bias = {text!r}: give comma-separated volts, e.g. 0.74,0.95") from None
    if v.size == 0 or np.any(v <= 0) or np.any(v > 10):
        raise ValueError(f"bias = {text!r}: each amplitude must be in (0, 10] V")
    return v


def cmd_modulation(args: argparse.Namespace, design: Design, console: Console) -> int:
    from probe_fem.model.dynamics import analyze
    from probe_fem.physics.modulation import Waveform

    wave = Waveform(levels=tuple(args.levels))
    stages = Stages(quiet=args.quiet)
    model = build_model_for(design, args, stages)
    dyn = analyze(model, frequency_Hz=args.frequency, tolerance=args.tolerance, wave=wave, stages=stages)
    v = dyn.verdict
    t = Table(title=f"modulation check — {design.name}: Q per phase {', '.join(f'{n}: {q:g}' for n, q in zip(wave.names, wave.levels))} (relative)")
    for col in ("phase", "demodulated error", "tolerance"):
        t.add_column(col, justify="right")
    for name, err in v.errors.items():
        t.add_row(f"ΔT({name}) − ΔT(0)", f"{err:.3e}", f"{v.tolerance:g}")
    console.print(t)
    console.print(f"at {v.frequency:g} Hz: {'quasi-static' if v.ok else 'NOT quasi-static'}; "
                  f"highest frequency within {v.tolerance:g}: {v.max_frequency:.4g} Hz "
                  f"(thermocouple mean delay {dyn.rom.mean_delay * 1e6:.3g} µs, t63 {dyn.t63 * 1e6:.3g} µs)")
    return 0 if v.ok else 1


def build_model_for(design: Design, args: argparse.Namespace, stages: Stages):
    from probe_fem.model.steady import build_model

    return build_model(design, refine=args.refine, stages=stages)


def _quantity_table(title: str, rows: list[tuple[str, str, str]]) -> Table:
    """A quantity / value / unit table."""
    t = Table(title=title)
    for col, just in (("quantity", "left"), ("value", "right"), ("unit", "left")):
        t.add_column(col, justify=just)
    for row in rows:
        t.add_row(*row)
    return t


def _print_report(console: Console, design: Design, r) -> None:
    dev = (r.R_P - PUBLISHED_RP) / PUBLISHED_RP
    rows = [("R_P = ΔT_TC / Q_P", f"{r.R_P:,.1f}", "K/W"),
            ("published R_P (Lee et al. 2013)", f"{PUBLISHED_RP:,.0f} ± {PUBLISHED_RP_U:,.0f}", "K/W"),
            ("deviation from published", f"{dev:+.2%}", ""),
            ("R_apex = ΔT_apex / Q_P", f"{r.R_apex:,.1f}", "K/W"),
            (f"ΔT_TC at Q_P = {r.power:g} W", f"{r.dT_tc * 1e3:.4f}", "mK"),
            ("heat balance |out − in| / in", f"{r.balance_error:.1e}", ""),
            *[(f"R share: {k}", f"{v:,.1f}", "K/W") for k, v in r.breakdown.items()],
            ("shares sum vs R_apex (rel. error)", f"{r.breakdown_error:.1e}", ""),
            ("mesh", f"{r.dofs:,} dofs / {r.elements:,} tets", ""),
            ("solver", r.solver, ""),
            *[(f"wall time: {k}", f"{v:.2f}", "s") for k, v in r.seconds.items()]]
    console.print(_quantity_table(f"probe-fem steady calibration — {design.name} (design {design.fingerprint()})",
                                  rows))


def cmd_mesh(args: argparse.Namespace, design: Design, console: Console) -> int:
    from probe_fem.mesh.probe import build_mesh, region_of_elements
    from probe_fem.io import write_vtu

    target = Path(args.out) if args.out else Path("results") / design.name / "mesh.vtu"
    if target.suffix != ".vtu":
        _error(f"--out = {str(target)!r}: must end in .vtu")
        return EXIT_BAD_INPUT
    stages = Stages(quiet=args.quiet)
    with stages("meshing"):
        pm = build_mesh(design, refine=args.refine)
    m = pm.mesh.skfem
    write_vtu(target, m.p, m.t, {}, {"region": region_of_elements(pm)})
    console.print(f"{pm.mesh.n_nodes:,} nodes, {pm.mesh.n_elements:,} tetrahedra, fingerprint {pm.mesh.fingerprint()}")
    console.print(f"wrote {target}")
    return 0


def cmd_converge(args: argparse.Namespace, design: Design, console: Console) -> int:
    from probe_fem.model.convergence import study
    from probe_fem.io import write_json
    from probe_fem.plots.figures import plot_convergence

    stages = Stages(quiet=args.quiet)
    s = study(design, levels=args.levels, start=args.refine / 2, stages=stages)
    t = Table(title=f"mesh convergence of R_P — {design.name} (size ÷{s.ratio:g} per step)")
    for col in ("refine", "dofs", "tetrahedra", "R_P (K/W)", "change"):
        t.add_column(col, justify="right")
    for i, (f, r) in enumerate(zip(s.refine, s.reports)):
        t.add_row(f"×{f:g}", f"{r.dofs:,}", f"{r.elements:,}", f"{r.R_P:,.1f}",
                  f"{s.changes[i - 1]:.3%}" if i else "")
    console.print(t)
    if s.order is not None:
        console.print(f"observed order {s.order:.2f}; Richardson-extrapolated R_P = {s.extrapolated:,.1f} K/W "
                      f"({(s.extrapolated - PUBLISHED_RP) / PUBLISHED_RP:+.2%} from the published value)")
    else:
        console.print("observed order undefined (changes not monotone); no Richardson value")
    out = _out_dir(args, design)
    files = [write_json(out / "convergence.json", {"design": design.name, "design_fingerprint": design.fingerprint(),
                                                   **s.to_dict()}),
             plot_convergence(s, out / "convergence.png")]
    for f in files:
        console.print(f"wrote {f}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="probe-fem", description="Finite-element calibration of thermocouple probes")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("design", nargs="?", default=None,
                        help="design TOML file (default: the embedded NTISTP reference design)")
        sp.add_argument("--out", default=None, help="output folder (default: results/<design name>)")
        sp.add_argument("--refine", type=_positive, default=1.0, help="divide all mesh sizes by this factor")
        sp.add_argument("--quiet", action="store_true", help="no progress output")

    c = sub.add_parser("calibrate", help="R_P, breakdown, modes, step and frequency response, 12.25 Hz verdict; "
                       "writes JSON, VTU, PNG")
    common(c)
    c.add_argument("--solver", choices=("auto", "direct", "amg"), default="auto")
    c.add_argument("--calib", default=None, help="calibration file to write (default: calib/<design name>.json)")
    c.add_argument("--no-cache", action="store_true",
                   help="always re-mesh (default: reuse meshes cached by geometry in $PROBE_FEM_CACHE "
                        "or ~/.cache/probe-fem/meshes)")
    c.set_defaults(func=cmd_calibrate)
    m = sub.add_parser("mesh", help="write the mesh only (VTU with region ids)")
    common(m)
    m.set_defaults(func=cmd_mesh)
    mo = sub.add_parser("modulation", help="how faithfully phase-averaged ΔT_TC follows a three-level modulation")
    common(mo)
    mo.add_argument("--frequency", type=_frequency, default=12.25, help="modulation frequency, Hz (default 12.25)")
    mo.add_argument("--tolerance", type=_fraction, default=1e-3, help="relative tolerance (default 1e-3)")
    mo.add_argument("--levels", type=_levels, default=(1.0, 0.0, 0.8),
                    help="relative heat in the +V, 0, -V phases (default 1,0,0.8)")
    mo.set_defaults(func=cmd_modulation)
    n = sub.add_parser("network", help="validity of Q_P = ΔT_TC/R_P against junction and substrate resistances")
    common(n)
    g = n.add_mutually_exclusive_group()
    g.add_argument("--junction-conductance", help="electrical conductance, e.g. 1G0 or 7.7e-5S (Wiedemann-Franz)")
    g.add_argument("--junction-resistance", help="thermal resistance R_J, e.g. 1e7K/W")
    g.add_argument("--molecule", choices=("au", "bdnc", "bda"), help="the paper's junction classes")
    n.add_argument("--phonon-conductance", help="phonon thermal conductance, e.g. 30pW/K (adds to the electronic)")
    n.add_argument("--contact-radius-nm", type=_positive_any, default=10.0, help="substrate hot-spot radius, nm")
    n.add_argument("--substrate-k", type=_positive_any, default=317.0, help="substrate conductivity, W/(m K)")
    n.add_argument("--ratio-max", type=_positive_any, default=4.0, help="largest Q_S/Q_P considered")
    n.add_argument("--tolerance", type=_fraction, default=1e-3)
    n.add_argument("--substrate-fem", action="store_true", help="also solve R_S by axisymmetric FEM")
    n.set_defaults(func=cmd_network)
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
    si.add_argument("--calibration", default="calib/ntistp.json")
    si.add_argument("--junctions", type=int, default=10, help="junction segments per V_M")
    si.add_argument("--seconds", type=_positive_any, default=5.0, help="seconds per junction")
    si.add_argument("--fs", type=_positive_any, default=2000.0, help="sampling frequency (Hz)")
    si.add_argument("--frequency", type=_frequency, default=12.25, help="modulation frequency (Hz)")
    si.add_argument("--noise-nV", type=float, default=20.0, help="thermocouple noise, nV rms per sample")
    si.add_argument("--drift-nV", type=float, default=50.0, help="baseline drift amplitude (nV)")
    si.add_argument("--spread", type=float, default=0.05, help="relative junction-to-junction conductance spread")
    si.add_argument("--seed", type=int, default=0)
    si.add_argument("--out", default="traces.npz", help="traces file (.npz or .csv)")
    si.set_defaults(func=cmd_simulate, no_design=True)
    an = sub.add_parser("analyze", help="demodulate traces into ΔT_TC,Avg, Q_P,Avg, Q_Total,Avg per V_M; plot")
    an.add_argument("traces", help="traces file (.npz or .csv with t_s,V_TC_V,bias_V,I_A[,segment])")
    an.add_argument("--calibration", default="calib/ntistp.json")
    an.add_argument("--frequency", type=_frequency, default=12.25, help="modulation frequency (Hz)")
    an.add_argument("--model", choices=("bdnc", "bda", "au"), default=None, help="overlay Landauer predictions")
    an.add_argument("--out", default=None, help="figure (default: beside the traces, .png)")
    an.set_defaults(func=cmd_analyze, no_design=True)
    from probe_fem.cli.studies import add_commands

    add_commands(sub, common)  # study, fit
    v = sub.add_parser("converge", help="mesh-refinement study of R_P with Richardson extrapolation: "
                       "levels at refine/2, refine, 2·refine, ... (the calibrate mesh is the second level)")
    common(v)
    v.add_argument("--levels", type=int, choices=range(2, 6), default=3, metavar="{2..5}")
    v.set_defaults(func=cmd_converge)
    return p


def bounded(cast=float, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
            hi_open: bool = False, unit: str = ""):
    """argparse type: a number of type ``cast`` within [lo, hi] (or open ends); the error names the range."""

    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if cast is int else 'a number'}") from None
        below = lo is not None and (value <= lo if lo_open else value < lo)
        above = hi is not None and (value >= hi if hi_open else value > hi)
        if below or above:
            raise argparse.ArgumentTypeError(f"{value:g}: {interval_text(lo, hi, lo_open, hi_open, unit=unit)}")
        return value

    return parse


_positive = bounded(float, 0.1, 16)  # mesh refine factor
_frequency = bounded(float, 0, 1e9, lo_open=True, unit="Hz")
_positive_any = bounded(float, 0, None, lo_open=True)
_fraction = bounded(float, 0, 1, lo_open=True, hi_open=True)


def _levels(text: str) -> tuple[float, float, float]:
    parts = [bounded()(p) for p in text.split(",")]
    if len(parts) != 3 or min(parts) < 0 or parts[0] == parts[1] or parts[2] == parts[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: three heat levels >= 0 for +V,0,-V, the bias phases "
                                         "different from the 0 V phase")
    return tuple(parts)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``probe-fem`` command; returns the exit code."""
    from threadpoolctl import threadpool_limits

    args = _parser().parse_args(argv)
    console = Console()
    # one BLAS thread: sparse solves gain nothing from it, and on a shared 2-core machine a
    # multithreaded BLAS in Krylov dot products ran up to ~100x slower (fem-notes)
    with threadpool_limits(limits=1, user_api="blas"):
        if getattr(args, "no_design", False):
            return args.func(args, console)
        try:
            design = load_design(args.design)
        except DesignError as exc:
            _error(str(exc))
            return EXIT_BAD_INPUT
        return args.func(args, design, console)


if __name__ == "__main__":
    sys.exit(main())
