"""probe-fem benchmark suite: time-to-calibration at three accuracy levels, DOF scaling, NGSolve peer.

    python benchmarks/run.py            # the suite (~5 min on 2 cores), table + benchmarks/results.json
    python benchmarks/run.py --smoke    # tiny sizes: checks the suite itself runs (used by the tests)
    python benchmarks/run.py --full     # adds the ~1M-dof scaling point (long, several GiB)
    python benchmarks/run.py --only adaptive --out /tmp/adaptive.json   # one case: adaptive vs uniform
    python benchmarks/run.py --only peer --cache /tmp/meshes   # steady asm + solve vs NGSolve, ~55k and ~240k dofs

Every measurement runs in a fresh subprocess (spawn), so peak memory (ru_maxrss) is that case's own.
Ratios are only quoted within one run: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER_REFINE = (1.8, 3.3)  # the reference design at ~55k and ~250k dofs
sys.path.insert(0, str(HERE))


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB -> GiB (Linux)


def case_level(refine: float, dynamics: bool, peer: bool) -> dict:
    """One mesh: stage times, R_P, and (optionally) NGSolve on the same mesh."""
    import numpy as np

    from probe_fem import load_design
    from probe_fem.model.dynamics import thermal_system
    from probe_fem.model.steady import build_model, solve_steady
    from probe_fem.physics import conduction as steady
    from probe_fem.physics import frequency, transient
    from probe_fem.physics.solvers import direct_backend
    from probe_fem.progress import Stages

    st = Stages(quiet=True)
    model = build_model(load_design(), refine=refine, stages=st)
    report, _ = solve_steady(model, stages=st)
    out = {
        "refine": refine,
        "dofs": report.dofs,
        "tetrahedra": report.elements,
        "R_P_K_per_W": report.R_P,
        "solver": report.solver,
        "mesh_s": st.seconds["meshing"],
        "assemble_s": st.seconds["assembly"],
        "solve_s": st.seconds["solve"],
    }
    if dynamics:
        t0 = time.perf_counter()
        ts = thermal_system(model)
        ts.solve_K  # noqa: B018 - the factor every dynamic stage reuses
        out["capacity_and_factor_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        modes = transient.modes(ts, 10)
        out["eigen_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        rom = frequency.reduced_model(ts, np.array([1e3 / modes.tau[0]]), depth=12)
        sweep = rom.H(2 * np.pi * np.geomspace(1.0, 1e7, 30))
        out["sweep30_s"] = time.perf_counter() - t0
        assert np.all(np.isfinite(sweep))
        t0 = time.perf_counter()
        chk = frequency.verify(ts, rom, np.array([rom.f_3dB()]))
        out["direct_complex_solve_s"] = time.perf_counter() - t0
        out["sweep_vs_direct_error"] = chk.max_error
        t0 = time.perf_counter()
        step = transient.step_response(ts, modes.tau[-1] / 1000, 30 * modes.tau[0], 24, 4.0)
        out["step_s"] = time.perf_counter() - t0
        out["step_factorizations"] = step.factorizations
        out["tau1_s"] = float(modes.tau[0])
        out["direct_backend"] = direct_backend(ts.K.shape[0])
        # one steady solve from scratch: a new factorization (the problem's own is cached by now) and a solve
        from probe_fem.physics.solvers import factorize

        t0 = time.perf_counter()
        factorize(model.problem.K_free)(model.problem.f[model.problem.free])
        out["steady_direct_s"] = time.perf_counter() - t0
    if peer:
        import peer_ngsolve

        reason = peer_ngsolve.available()
        if reason:
            out["ngsolve"] = {"skipped": reason}
        else:
            t0 = time.perf_counter()
            steady.solve(model.problem, method="amg")
            out["amg_solve_s"] = time.perf_counter() - t0
            out["ngsolve"] = {inv: peer_ngsolve.solve(model, inv) for inv in ("sparsecholesky", "bddc")}
            out["ngsolve"]["R_P_relative_difference"] = (
                abs(out["ngsolve"]["sparsecholesky"]["R_P_K_per_W"] - report.R_P) / report.R_P
            )
    out["peak_rss_GiB"] = _rss_gib()
    return out


def _limited(fn, *args) -> dict:
    from probe_fem.threads import limited_blas

    with limited_blas():  # as the CLI and the API do
        return fn(*args)


def _run(fn, *args) -> dict:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_limited, (fn, *args))


def case_calibrate(smoke: bool, cache: str | None = None) -> dict:
    """`probe-fem calibrate` end to end in a subprocess: wall time, peak memory, stages.

    ``cache``: a mesh-cache folder (warm when it already holds the meshes); None: no cache (cold).
    """
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "probe_fem.cli.main",
            "calibrate",
            "--quiet",
            "--out",
            f"{tmp}/out",
            "--calib",
            f"{tmp}/calib.json",
        ] + (["--refine", "0.3"] if smoke else [])
        env = dict(os.environ)
        if cache is None:
            cmd.append("--no-cache")
        else:
            env["PROBE_FEM_CACHE"] = cache
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        _, _, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if proc.stderr.read().strip() and not Path(f"{tmp}/out/results.json").exists():
            raise RuntimeError("calibrate failed")
        data = json.loads(Path(f"{tmp}/out/results.json").read_text())
    stages = data["wall_time_s"]
    return {
        "wall_s": wall,
        "peak_rss_GiB": usage.ru_maxrss / 2**20,
        "stages_s": stages,
        "meshing_fraction": stages["meshing"] / wall,
        "R_P_K_per_W": data["R_P_K_per_W"],
        "dofs": data["mesh"]["dofs"],
    }


def case_study_throughput(points: int, refine: float) -> dict:
    """A body-length sweep (every point meshes) on 1 and on 2 dask worker processes: points per second."""
    from probe_fem.studies.runner import run_study
    from probe_fem.studies.spec import parse_study

    raw = {
        "study": {"name": "throughput", "design": "embedded:ntistp", "method": "grid", "refine": refine, "modes": 6},
        "parameters": {"body.length_um": {"start": 16.0, "stop": 21.0, "num": points}},
    }
    out = {"points": points, "refine": refine}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            study = parse_study(raw, "throughput")
            t0 = time.perf_counter()
            run = run_study(study, Path(tmp) / "t.csv", workers=workers)
            out[f"workers{workers}_s"] = time.perf_counter() - t0
            out[f"workers{workers}_failed"] = len(run.failed)
    out["speedup"] = out["workers1_s"] / out["workers2_s"]
    return out


def case_calibrate_warm_and_loaded(smoke: bool, loaded: bool) -> dict:
    """Calibrate with a warm mesh cache, idle and (``loaded``) beside one busy process on the other core."""
    with tempfile.TemporaryDirectory() as cache:
        case_calibrate(smoke, cache)  # fills the cache
        out = {"warm": case_calibrate(smoke, cache)}
        if loaded:
            busy = subprocess.Popen(
                [sys.executable, "-c", "import numpy as np\nwhile True: np.linalg.svd(np.ones((300, 300)))"]
            )
            try:
                time.sleep(1.0)
                out["loaded"] = case_calibrate(smoke, cache)
            finally:
                busy.kill()
            out["loaded_over_idle"] = out["loaded"]["wall_s"] / out["warm"]["wall_s"]
    return out


def case_suite() -> dict:
    """The default test suite (the README's command), timed from the repository root in a subprocess."""
    t0 = time.perf_counter()
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    out = subprocess.run(argv, cwd=HERE.parent, capture_output=True, text=True)
    last = (out.stdout.strip().splitlines() or [""])[-1]
    return {"wall_s": time.perf_counter() - t0, "exit_code": out.returncode, "summary": last}


def case_material_study(points: int, refine: float) -> dict:
    """A material-property sweep (k of the Au film) on 2 dask workers: points per second after start-up
    (from the completion of each worker's first point, which meshes, to the last)."""
    from probe_fem.studies.runner import run_study
    from probe_fem.studies.spec import parse_study

    raw = {
        "study": {"name": "materials", "design": "embedded:ntistp", "method": "grid", "refine": refine, "modes": 6},
        "parameters": {"materials.au_film.k_W_mK": {"start": 150.0, "stop": 250.0, "num": points}},
    }
    done: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run = run_study(
            parse_study(raw, "materials"),
            Path(tmp) / "t.csv",
            workers=2,
            on_done=lambda *a, **k: done.append(time.perf_counter()),
        )
        total = time.perf_counter() - t0
    done.sort()
    steady_rate = (len(done) - 2) / (done[-1] - done[1]) if len(done) > 3 else float("nan")
    return {
        "points": points,
        "refine": refine,
        "total_s": total,
        "points_per_s_after_startup": steady_rate,
        "failed": len(run.failed),
    }


def case_geometric_point(refine: float) -> dict:
    """One geometric study point (remeshes) against its parts: mesh + steady solve + reduced model."""
    import tomllib

    from probe_fem.design.load import embedded_design_path, parse_design
    from probe_fem.model.dynamics import reduced
    from probe_fem.model.steady import build_model, solve_steady
    from probe_fem.studies.evaluate import evaluate_point
    from probe_fem.studies.keys import apply_overrides

    raw = tomllib.loads(embedded_design_path().read_text())
    ov = {"body.length_um": 19.1}
    t0 = time.perf_counter()
    row = evaluate_point(raw, ov, refine, 6)
    point = time.perf_counter() - t0
    ov2 = {"body.length_um": 19.2}  # a new geometry, so the parts mesh too
    t0 = time.perf_counter()
    model = build_model(parse_design(apply_overrides(raw, ov2)), refine)
    solve_steady(model)
    reduced(model, 6)
    parts = time.perf_counter() - t0
    return {
        "refine": refine,
        "point_s": point,
        "mesh_solve_reduced_s": parts,
        "ratio": point / parts,
        "status": row["status"],
    }


def case_fit_jacobian(refine: float) -> dict:
    """The forward-difference points of a 5-parameter fit's Jacobian: serial against 2 dask workers."""
    import tomllib

    from probe_fem.design.load import embedded_design_path
    from probe_fem.studies.evaluate import evaluate_point
    from probe_fem.studies.runner import dask_evaluator

    raw = tomllib.loads(embedded_design_path().read_text())
    keys = ["body.length_um", "electrode.thickness_nm", "materials.au_film.k_W_mK", "tip.height_um", "body.width_um"]
    start = {
        "body.length_um": 17.056,
        "electrode.thickness_nm": 100.0,
        "materials.au_film.k_W_mK": 200.0,
        "tip.height_um": 5.0,
        "body.width_um": 20.0,
    }
    ovs = [{k: start[k] * (1.01 if k == key else 1.0) for k in keys} for key in keys]
    t0 = time.perf_counter()
    serial = [evaluate_point(raw, ov, refine, 6) for ov in ovs]
    t_serial = time.perf_counter() - t0
    with dask_evaluator(raw, refine, 6, workers=2) as many:
        many(ovs[:2])  # start-up: workers import, first meshes
        t0 = time.perf_counter()
        parallel = many([{k: v * 1.001 for k, v in ov.items()} for ov in ovs])
        t_parallel = time.perf_counter() - t0
    return {
        "refine": refine,
        "columns": len(ovs),
        "serial_s": t_serial,
        "two_workers_s": t_parallel,
        "speedup": t_serial / t_parallel,
        "ok": all(r["status"] == "ok" for r in serial + parallel),
    }


def case_peer(refine: float, cache: str | None) -> dict:
    """Steady assembly + solve, ours (auto and amg) and NGSolve's (sparse Cholesky, BDDC-CG), on one mesh.

    The mesh's topology (scikit-fem's facets; NGSolve's hand-over) is built before either clock starts;
    ``cache``: a mesh folder, so that a second run (e.g. of an older checkout) meshes nothing.
    """
    import peer_ngsolve

    from probe_fem import load_design
    from probe_fem.model.steady import build_model
    from probe_fem.physics import conduction as steady

    model = build_model(load_design(), refine=refine, cache=cache)
    mesh, prob = model.probe.mesh, model.problem
    mesh.skfem.facets  # noqa: B018 - topology, outside the clock as NGSolve's
    t0 = time.perf_counter()
    prob = steady.assemble(mesh, prob.k, prob.power)
    t1 = time.perf_counter()
    res = steady.solve(prob)
    t2 = time.perf_counter()
    amg = steady.solve(prob, method="amg")
    t3 = time.perf_counter()
    R_P = float(prob.sensor @ res.T) / prob.power
    out = {
        "refine": refine,
        "dofs": int(prob.free.size),
        "R_P_K_per_W": R_P,
        "solver": res.info.method,
        "assemble_s": t1 - t0,
        "solve_s": t2 - t1,
        "amg_solve_s": t3 - t2,
        "amg_iterations": amg.info.iterations,
        "amg_R_P_relative_difference": abs(float(prob.sensor @ amg.T) / prob.power - R_P) / R_P,
    }
    reason = peer_ngsolve.available()
    if reason:
        out["ngsolve"] = {"skipped": reason}
        return out
    out["ngsolve"] = {inv: peer_ngsolve.solve(model, inv) for inv in ("sparsecholesky", "bddc")}
    out["ngsolve"]["R_P_relative_difference"] = abs(out["ngsolve"]["sparsecholesky"]["R_P_K_per_W"] - R_P) / R_P
    ng = out["ngsolve"]
    best = min(ng[k]["assembly_s"] + ng[k]["solve_s"] for k in ("sparsecholesky", "bddc"))
    out["ratio_vs_ngsolve_best"] = (t2 - t0) / best
    out["peak_rss_GiB"] = _rss_gib()
    return out


def print_peer(con, rows: list[dict]) -> None:
    """The NGSolve comparison table of :func:`case_peer` rows."""
    from rich.table import Table

    p = Table(title="steady assembly + solve on the same mesh, 1 thread: probe-fem vs NGSolve (one run)")
    for c in ("dofs", "ours asm s", "ours solve s", "solver", "ours AMG s", "NGSolve chol s", "NGSolve bddc s"):
        p.add_column(c, justify="right")
    p.add_column("ratio", justify="right")
    p.add_column("|ΔR_P|/R_P", justify="right")
    for lv in rows:
        ng = lv["ngsolve"]
        if "skipped" in ng:
            con.print(f"NGSolve skipped: {ng['skipped']}")
            continue
        p.add_row(
            f"{lv['dofs']:,}",
            f"{lv['assemble_s']:.2f}",
            f"{lv['solve_s']:.2f}",
            lv["solver"],
            f"{lv['amg_solve_s']:.2f}",
            f"{ng['sparsecholesky']['assembly_s'] + ng['sparsecholesky']['solve_s']:.2f}",
            f"{ng['bddc']['assembly_s'] + ng['bddc']['solve_s']:.2f}",
            f"{lv['ratio_vs_ngsolve_best']:.2f}",
            f"{ng['R_P_relative_difference']:.1e}",
        )
    con.print(p)


def case_uniform_rp(refine: float, estimate: bool) -> dict:
    """R_P on a uniform mesh (the design's sizes ÷ refine), with the error estimate if asked."""
    from probe_fem import load_design
    from probe_fem.model.adapt import estimate_model
    from probe_fem.model.steady import build_model, solve_steady
    from probe_fem.progress import Stages

    st = Stages(quiet=True)
    t0 = time.perf_counter()
    model = build_model(load_design(), refine=refine, stages=st)
    report, T = solve_steady(model, stages=st)
    out = {"refine": refine, "dofs": report.dofs, "R_P_K_per_W": report.R_P, "wall_s": time.perf_counter() - t0}
    out["mesh_s"] = st.seconds["meshing"]
    if estimate:
        t0 = time.perf_counter()
        out["estimated_error_K_per_W"] = estimate_model(model, T).error / report.power
        out["estimate_s"] = time.perf_counter() - t0
    return out


def case_adaptive_run(accuracy: float, start_refine: float) -> dict:
    """The adaptive loop of ``calibrate --accuracy`` (steady part only): history, wall time."""
    from probe_fem import load_design
    from probe_fem.model.adapt import adapt
    from probe_fem.progress import Stages

    st = Stages(quiet=True)
    t0 = time.perf_counter()
    ad = adapt(load_design(), accuracy, start_refine=start_refine, stages=st)
    return {
        "accuracy": accuracy,
        "start_refine": start_refine,
        "met": ad.met,
        "stopped": ad.stopped,
        "dofs": ad.report.dofs,
        "R_P_K_per_W": ad.report.R_P,
        "estimated_error_K_per_W": ad.error,
        "history": [h.to_dict() for h in ad.history],
        "wall_s": time.perf_counter() - t0,
        "stages_s": dict(st.seconds),
        "peak_rss_GiB": _rss_gib(),
    }


def reference_value(levels: list[dict]) -> dict:
    """R_P(h → 0) from uniform levels: least squares of R_inf − C·refine^(−q) (robust to the few-K/W
    scatter of non-nested meshes, where a three-level Richardson value is not), and dofs ≈ a·refine^b."""
    import numpy as np
    from scipy.optimize import curve_fit

    f = np.array([lv["refine"] for lv in levels])
    R = np.array([lv["R_P_K_per_W"] for lv in levels])
    model = lambda x, a, c, p: a - c * x ** (-p)  # noqa: E731
    (R_inf, C, q), cov = curve_fit(model, f, R, p0=(R[-1], (R[-1] - R[0]) * f[0], 1.5), maxfev=20_000)
    b, log_a = np.polyfit(np.log(f), np.log([lv["dofs"] for lv in levels]), 1)
    return {
        "R_inf_K_per_W": float(R_inf),
        "R_inf_standard_error_K_per_W": float(np.sqrt(cov[0, 0])),
        "C_K_per_W": float(C),
        "order_in_refine": float(q),
        "dofs_prefactor": float(np.exp(log_a)),
        "dofs_exponent": float(b),
    }


def case_adaptive_vs_uniform(smoke: bool) -> dict:
    """Dofs of ``--accuracy`` adaptive meshing against uniform refinement at the same TRUE error of R_P.

    The true error is measured against R_inf fitted to uniform levels (refine 1 … 2.5: up to
    ~120k dofs); the uniform dofs at the adaptive mesh's true error come from the fitted error
    and dofs laws, and the finest measured uniform level with a smaller true error is given too.
    """
    uniform = [0.5, 0.7, 1.0] if smoke else [1.0, 1.25, 1.5, 2.0, 2.5]
    accuracy, start = (0.01, 0.5) if smoke else (1e-3, 0.5)
    levels = [_run(case_uniform_rp, f, f <= 2.0) for f in uniform]
    ref = reference_value(levels)
    R_inf = ref["R_inf_K_per_W"]
    for lv in levels:
        lv["true_error_K_per_W"] = R_inf - lv["R_P_K_per_W"]
        if "estimated_error_K_per_W" in lv:
            lv["effectivity"] = lv["estimated_error_K_per_W"] / lv["true_error_K_per_W"]
    ad = _run(case_adaptive_run, accuracy, start)
    for h in ad["history"]:
        h["true_error_K_per_W"] = R_inf - h["R_P_K_per_W"]
        h["effectivity"] = h["estimated_error_K_per_W"] / h["true_error_K_per_W"]
    true = abs(ad["history"][-1]["true_error_K_per_W"])
    f_same = (ref["C_K_per_W"] / true) ** (1 / ref["order_in_refine"])
    dofs_same = ref["dofs_prefactor"] * f_same ** ref["dofs_exponent"]
    measured = [lv for lv in levels if abs(lv["true_error_K_per_W"]) <= true]
    return {
        "reference": ref,
        "uniform": levels,
        "adaptive": ad,
        "adaptive_true_relative_error": true / R_inf,
        "uniform_refine_same_true_error": f_same,
        "uniform_dofs_same_true_error": dofs_same,
        "dofs_ratio": ad["dofs"] / dofs_same,
        "coarsest_measured_uniform_at_least_as_accurate": measured[0] if measured else None,
    }


def print_adaptive(con, av: dict) -> None:
    from rich.table import Table

    ref = av["reference"]
    t = Table(
        title=f"adaptive vs uniform, true error against R_inf = {ref['R_inf_K_per_W']:,.1f} "
        f"± {ref['R_inf_standard_error_K_per_W']:.1f} K/W (fit of the uniform levels)"
    )
    for c in ("mesh", "dofs", "R_P (K/W)", "true error", "estimate", "effectivity", "wall s"):
        t.add_column(c, justify="right")
    for lv in av["uniform"]:
        est = lv.get("estimated_error_K_per_W")
        t.add_row(
            f"uniform ×{lv['refine']:g}",
            f"{lv['dofs']:,}",
            f"{lv['R_P_K_per_W']:,.1f}",
            f"{lv['true_error_K_per_W']:+.1f}",
            "-" if est is None else f"{est:+.1f}",
            "-" if est is None else f"{lv['effectivity']:.2f}",
            f"{lv['wall_s']:.1f}",
        )
    ad = av["adaptive"]
    for i, h in enumerate(ad["history"]):
        t.add_row(
            f"adaptive {i + 1}",
            f"{h['dofs']:,}",
            f"{h['R_P_K_per_W']:,.1f}",
            f"{h['true_error_K_per_W']:+.1f}",
            f"{h['estimated_error_K_per_W']:+.1f}",
            f"{h['effectivity']:.2f}",
            f"{h['wall_time_s']:.1f}",
        )
    con.print(t)
    con.print(
        f"adaptive to {ad['accuracy']:.2%} ({'met' if ad['met'] else 'NOT met'}): {ad['dofs']:,} dofs in "
        f"{ad['wall_s']:.1f} s, true error {av['adaptive_true_relative_error']:.3%}; uniform needs "
        f"×{av['uniform_refine_same_true_error']:.2f} ≈ {av['uniform_dofs_same_true_error']:,.0f} dofs for it: "
        f"ratio {av['dofs_ratio']:.2f}"
    )


def case_plan() -> dict:
    """`plan` from the shipped calibration file: 200 frequencies, the paper's acquisition (no FEM)."""
    t0 = time.perf_counter()
    import numpy as np

    from probe_fem.analysis.landauer import preset
    from probe_fem.analysis.noise import NoiseModel
    from probe_fem.analysis.plan import Acquisition, plan
    from probe_fem.calibration import Calibration

    t1 = time.perf_counter()
    cal = Calibration.load(HERE.parent / "calib" / "ntistp.json")
    q = preset("bdnc").currents(np.array([1.08, -1.08]))["Q_P"]
    p = plan(cal, NoiseModel(), Acquisition(), q[0], q[1], 12.25, points=200)
    t2 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "load_and_plan_s": t2 - t1,
        "frequencies": int(p.frequencies_Hz.size),
        "optimal_frequency_Hz": p.optimal_frequency_Hz,
        "fem_loaded": any(m in sys.modules for m in ("gmsh", "skfem")),
    }


def _arguments(argv) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    ap.add_argument("--full", action="store_true", help="add the ~1M-dof scaling point")
    ap.add_argument("--loaded", action="store_true", help="repeat calibrate beside a busy process")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--only", choices=("all", "adaptive", "peer"), default="all", help="run one case (default: all)")
    ap.add_argument("--cache", default=None, help="mesh cache folder for --only peer (default: mesh anew)")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    from rich.console import Console

    from probe_fem.io import write_json

    args = _arguments(argv)
    con = Console(width=150)
    if args.only == "adaptive":
        con.log("adaptive (--accuracy) vs uniform refinement")
        av = case_adaptive_vs_uniform(args.smoke)
        print_adaptive(con, av)
        con.print(f"wrote {write_json(args.out, {'smoke': args.smoke, 'adaptive_vs_uniform': av})}")
        return 0
    if args.only == "peer":
        rows = []
        for f in PEER_REFINE:
            con.log(f"steady solve vs NGSolve: refine ×{f:g}")
            rows.append(_run(case_peer, f, args.cache))
        print_peer(con, rows)
        con.print(f"wrote {write_json(args.out, {'peer': rows})}")
        return 0
    result = run_all(args, con)
    print_levels(con, result["accuracy_levels"], result["R_P_extrapolated_K_per_W"])
    peer_rows = print_peer_rows(con, result["accuracy_levels"] + result["scaling"])
    print_adaptive(con, result["adaptive_vs_uniform"])
    targets = goals(result, peer_rows, args.loaded)
    print_targets(con, targets, result["calibrate"])
    result["targets"] = [{"target": n, "measured": v if v == v else None, "met": bool(ok)} for n, v, ok in targets]
    con.print(f"wrote {write_json(args.out, result)}")
    return 0


def run_all(args: argparse.Namespace, con) -> dict:
    """Every case of the suite, in the order of the results file."""
    from probe_fem.model.convergence import richardson

    accuracy = [0.15, 0.3, 0.6] if args.smoke else [0.5, 1.0, 2.0]
    scaling = [] if args.smoke else list(PEER_REFINE) + ([6.5] if args.full else [])
    levels = []
    for f in accuracy:
        con.log(f"accuracy level: refine ×{f:g}")
        levels.append(_run(case_level, f, True, f == accuracy[0] or f == accuracy[-1]))
    R_ext = richardson([lv["R_P_K_per_W"] for lv in levels], 2.0)
    for lv in levels:
        lv["error_vs_extrapolated"] = abs(lv["R_P_K_per_W"] - R_ext) / R_ext if R_ext else None
    scale = []
    for f in scaling:
        con.log(f"scaling point: refine ×{f:g}")
        scale.append(_run(case_level, f, False, True))
    small, refine = args.smoke, 0.2 if args.smoke else 0.5
    con.log(
        "probe-fem calibrate, end to end; then with a warm mesh cache" + (", idle and loaded" if args.loaded else "")
    )
    cal, warm = case_calibrate(small), case_calibrate_warm_and_loaded(small, args.loaded)
    con.log("material study on 2 workers, geometric study point, fit Jacobian, plan, study throughput")
    mat = case_material_study(6 if small else 24, refine)
    geo, jac, pln = _run(case_geometric_point, refine), case_fit_jacobian(refine), _run(case_plan)
    thr = case_study_throughput(4 if small else 16, refine)
    con.log("adaptive (--accuracy) vs uniform refinement; the test suite")
    av, suite = case_adaptive_vs_uniform(small), None if small else case_suite()
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "node": platform.node()}
    return {
        "machine": machine, "smoke": small, "R_P_extrapolated_K_per_W": R_ext, "accuracy_levels": levels,
        "scaling": scale, "calibrate": cal, "study_throughput": thr, "calibrate_warm": warm, "material_study": mat,
        "geometric_point": geo, "fit_jacobian": jac, "plan": pln, "adaptive_vs_uniform": av, "suite": suite,
    }  # fmt: skip


def print_levels(con, levels: list[dict], R_ext: float | None) -> None:
    from rich.table import Table

    t = Table(title=f"accuracy levels (R_P extrapolated {R_ext:,.1f} K/W)" if R_ext else "accuracy levels")
    cols = ("refine", "dofs", "R_P err", "mesh s", "asm s", "solve s", "eigen s", "sweep30 s", "step s", "GiB")
    for c in cols:
        t.add_column(c, justify="right")
    for lv in levels:
        err = lv["error_vs_extrapolated"]
        t.add_row(
            f"{lv['refine']:g}",
            f"{lv['dofs']:,}",
            f"{err:.3%}" if err is not None else "-",
            *(f"{lv[k]:.2f}" for k in ("mesh_s", "assemble_s", "solve_s", "eigen_s", "sweep30_s", "step_s")),
            f"{lv['peak_rss_GiB']:.2f}",
        )
    con.print(t)


def print_peer_rows(con, rows: list[dict]) -> list[dict]:
    """The levels solved by NGSolve too: the table, and each row's ratio (``ratio_vs_ngsolve_best``)."""
    from rich.table import Table

    peer_rows = [lv for lv in rows if isinstance(lv.get("ngsolve"), dict) and "bddc" in lv["ngsolve"]]
    if not peer_rows:
        return []
    p = Table(title="same mesh, same P1 system: probe-fem vs NGSolve (1 thread)")
    for c in (
        "dofs",
        "mesh s",
        "ours asm+solve s",
        "ours AMG s",
        "NGSolve chol s",
        "NGSolve bddc s",
        "ratio",
        "|ΔR_P|/R_P",
    ):
        p.add_column(c, justify="right")
    for lv in peer_rows:
        ng = lv["ngsolve"]
        ours = lv["assemble_s"] + lv["solve_s"]
        chol, bddc = (ng[k]["assembly_s"] + ng[k]["solve_s"] for k in ("sparsecholesky", "bddc"))
        lv["ratio_vs_ngsolve_best"] = ours / min(chol, bddc)
        p.add_row(
            f"{lv['dofs']:,}", f"{lv['mesh_s']:.1f}", f"{ours:.2f}", f"{lv.get('amg_solve_s', 0):.2f}",
            f"{chol:.2f}", f"{bddc:.2f}", f"{lv['ratio_vs_ngsolve_best']:.2f}", f"{ng['R_P_relative_difference']:.1e}",
        )  # fmt: skip
    con.print(p)
    return peer_rows


def goals(r: dict, peer_rows: list[dict], loaded: bool) -> list[tuple[str, float, bool]]:
    """(goal, measured, met) for every goal of the suite."""
    cal, w, mid, suite = r["calibrate"], r["calibrate_warm"], r["accuracy_levels"][1], r["suite"]
    sweep = mid["sweep30_s"] / mid["steady_direct_s"]
    out = []
    if suite:
        ok = suite["wall_s"] <= 240 and suite["exit_code"] == 0
        out.append(("test suite (python -m pytest) passes in <= 240 s", suite["wall_s"], ok))
    out += [
        ("calibrate cold (empty mesh cache) <= 8 s", cal["wall_s"], cal["wall_s"] <= 8),
        ("calibrate warm <= 4 s", w["warm"]["wall_s"], w["warm"]["wall_s"] <= 4),
        ("calibrate peak memory <= 1.5 GiB", cal["peak_rss_GiB"], cal["peak_rss_GiB"] <= 1.5),
        ("meshing <= 40 % of calibrate wall time (cold)", cal["meshing_fraction"], cal["meshing_fraction"] <= 0.4),
        ("30-point sweep <= 3 x one steady solve (its own factorization)", sweep, sweep <= 3),
    ]
    for lv in peer_rows:
        ratio = lv["ratio_vs_ngsolve_best"]
        out.append((f"asm+setup+solve <= 1.0 x NGSolve best at {lv['dofs']:,} dofs", ratio, ratio <= 1.0))
    if loaded:
        out.append(
            ("calibrate beside one busy process <= 1.5 x idle", w["loaded_over_idle"], w["loaded_over_idle"] <= 1.5)
        )
    mat, geo, jac, pln, thr, av = (
        r[k]
        for k in (
            "material_study",
            "geometric_point",
            "fit_jacobian",
            "plan",
            "study_throughput",
            "adaptive_vs_uniform",
        )
    )
    rate = mat["points_per_s_after_startup"]
    return [
        *out,
        (f"material study, 2 workers, refine {mat['refine']:g}: >= 5 points/s after start-up", rate, rate >= 5),
        ("geometric study point <= 1.2 x (mesh + steady + reduced model)", geo["ratio"], geo["ratio"] <= 1.2),
        ("5-parameter fit Jacobian, 2 workers over serial >= 1.7", jac["speedup"], jac["speedup"] >= 1.7),
        ("thin-layer model: >= 5x fewer dofs at 0.5 %", float("nan"), False),
        ("200-frequency plan from a calibration file < 1 s, no FEM loaded", pln["load_and_plan_s"],
         pln["load_and_plan_s"] < 1 and not pln["fem_loaded"]),
        (f"study throughput, 2 workers over 1 ({thr['points']} points) >= 1.7", thr["speedup"], thr["speedup"] >= 1.7),
        (f"adaptive --accuracy {av['adaptive']['accuracy']:.2%}: dofs <= 1/3 of uniform at the same true error",
         av["dofs_ratio"], av["dofs_ratio"] <= 1 / 3 and av["adaptive"]["met"]),
    ]  # fmt: skip


def print_targets(con, targets: list[tuple[str, float, bool]], cal: dict) -> None:
    from rich.table import Table

    tt = Table(title=f"targets (calibrate: {cal['wall_s']:.1f} s, {cal['peak_rss_GiB']:.2f} GiB, {cal['dofs']:,} dofs)")
    for c in ("target", "measured", "met"):
        tt.add_column(c)
    for name, value, ok in targets:
        tt.add_row(name, "not implemented" if value != value else f"{value:.3g}", "yes" if ok else "NO")
    con.print(tt)


if __name__ == "__main__":
    sys.exit(main())
