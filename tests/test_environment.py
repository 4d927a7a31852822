"""The probe's surroundings: boundary exchange against the fin solution, gas limits, heat balance, gaps."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from conftest import TINY_SIZES, coarse, coarse_design_file, raw_reference

from probe_fem.design import DesignError
from probe_fem.design.load import parse_design
from probe_fem.mesh.bars import layered_bar
from probe_fem.mesh.core import MICRON
from probe_fem.physics import conduction
from probe_fem.physics.exchange import exterior, heat_through, robin
from probe_fem.physics.gas import GASES, free_molecular_h, gas_h, jump_coefficient, mean_free_path, radiation_h

K_BAR, L_BAR = 150.0, 20.0  # W/(m·K), µm; cross-section 1 µm × 1 µm


@pytest.fixture(scope="module")
def bar():
    mesh, _ = layered_bar(L_BAR, [1.0], size_um=0.25)
    prob = conduction.assemble(mesh, np.full(mesh.n_elements, K_BAR), 1e-6, sensor="sensor")
    outer = exterior(mesh.skfem.p, mesh.skfem.t)
    return prob, outer


def _fin(bar, h_of_face) -> tuple[conduction.Problem, conduction.SteadyResult, float]:
    """Solve the bar with exchange ``h_of_face(outer) -> (mask, h per triangle)``; R at the heated end (K/W)."""
    prob, outer = bar
    keep, h = h_of_face(outer)
    s = outer.select(keep)
    H = robin(prob.K.shape[0], s, np.tile(h[keep], (3, 1)))
    p = conduction.with_exchange(prob, {"lateral": H})
    res = conduction.solve(p)
    return p, res, float(p.source_mean @ res.T) / p.power


def _fin_resistance(h: float, perimeter: float) -> float:
    """Heated-end resistance of a fin with a sink at x = 0 and lateral loss h: tanh(mL) / (kAm)."""
    area, length = MICRON**2, L_BAR * MICRON
    m = math.sqrt(h * perimeter / (K_BAR * area))
    return math.tanh(m * length) / (K_BAR * area * m)


def _lateral(h: float):
    return lambda outer: (np.abs(outer.normal[0]) < 0.5, np.full(outer.area.size, h))


@pytest.mark.parametrize("h", [2.5e4, 9.4e4, 4e5])  # mL = 0.5, 1, 2
def test_a_bar_with_lateral_exchange_is_the_fin_solution(bar, h):
    _, res, r_end = _fin(bar, _lateral(h))
    assert r_end == pytest.approx(_fin_resistance(h, 4 * MICRON), rel=5e-3)
    assert res.balance_error < 1e-9  # sink + exchange = input
    assert res.heat_paths["lateral"] > 0


def test_without_exchange_the_fin_is_the_adiabatic_bar(bar):
    _, _, r_end = _fin(bar, _lateral(1e-6))
    assert r_end == pytest.approx(L_BAR * MICRON / (K_BAR * MICRON**2), rel=5e-3)
    prob, _ = bar
    assert conduction.with_exchange(prob, {}).K is prob.K  # no exchange: the conduction matrix itself


def test_outward_normals_and_areas_of_the_exterior(bar):
    _, outer = bar
    assert outer.area.sum() == pytest.approx((4 * L_BAR + 2) * MICRON**2, rel=1e-12)
    centre = np.array([L_BAR / 2, 0.5, 0.5]) * MICRON
    out = np.einsum("ij,ij->j", outer.normal, outer.midpoints.mean(axis=1) - centre[:, None])
    assert (out > 0).all()


def test_heat_through_an_exchange_is_the_surface_integral_of_h_T(bar):
    """1ᵀ H T = ∫ h T dS: for T = x (linear) on the top face z = 1 µm, h uniform: h · ∫ x dS = h · L²/2 · 1 µm."""
    prob, outer = bar
    top = outer.normal[2] > 0.5
    H = robin(prob.K.shape[0], outer.select(top), np.full((3, int(top.sum())), 7.0))
    T = prob.mesh.skfem.p[0].copy()
    assert heat_through(H, T) == pytest.approx(7.0 * (L_BAR * MICRON) ** 2 / 2 * MICRON, rel=1e-12)


def test_gas_limits_free_molecular_and_continuum():
    air, gap = GASES["air"], np.array([1e-6])
    # free-molecular (λ ≫ g): linear in pressure
    low = [gas_h(air, gap, p, 300.0, 0.9)[0] for p in (1e-2, 2e-2)]
    assert low[1] / low[0] == pytest.approx(2.0, rel=1e-6)
    # continuum (λ ≪ g): independent of pressure, k/g
    high = gas_h(air, gap, 1e7, 300.0, 0.9)[0]
    assert high == pytest.approx(air.k_W_mK / 1e-6, rel=5e-3)
    assert gas_h(air, gap, 0.0, 300.0, 0.9)[0] == 0.0
    assert mean_free_path(air, 101325.0, 300.0) == pytest.approx(68e-9, rel=0.05)  # textbook 68 nm
    assert jump_coefficient(air, 0.9) == pytest.approx(2.0, rel=0.01)
    assert radiation_h(1.0, 300.0) == pytest.approx(6.12, rel=1e-3)


@pytest.mark.parametrize("name", sorted(GASES))
def test_the_low_pressure_limit_is_kinetic_theorys_free_molecular_conductance(name):
    """k/(2βλ) (conductivity, Prandtl number, collision diameter) against a/(2 − a)·(γ+1)/(γ−1)·p·√(k_B/8πmT)
    (molecular mass): two routes through the gas data agree within 2.2 % for all four gases (both scale with
    a/(2 − a), so one accommodation coefficient tests them)."""
    gas = GASES[name]
    jump = gas_h(gas, np.array(0.0), 1.0, 300.0, 0.9)
    assert float(jump) == pytest.approx(free_molecular_h(gas, 1.0, 300.0, 0.9), rel=0.025)


def test_continuum_gas_under_a_plate_is_conduction_across_the_gap(bar):
    """The bar's top face 1 µm below a plane at the sink's temperature, at 100 bar: the fin with h = k/g."""
    air, g = GASES["air"], 1e-6
    top = lambda outer: (outer.normal[2] > 0.5, gas_h(air, np.full(outer.area.size, g), 1e7, 300.0, 0.9))  # noqa: E731
    _, _, r_end = _fin(bar, top)
    assert r_end == pytest.approx(_fin_resistance(air.k_W_mK / g, MICRON), rel=6e-3)


def test_a_bar_under_a_sloped_plane_is_the_variable_h_fin(bar):
    """Gas across a gap that grows along the bar (g = g0 + (L − x)·tanα, like a tilted lever over a sample) on its
    top face, at 1 atm: the FEM against the 1-D fin kA·T″ = h(x)·w·T solved by scipy's collocation (solve_bvp)."""
    from scipy.integrate import solve_bvp

    prob0, outer = bar
    k, air, g0, slope, L = 5.0, GASES["air"], 0.3e-6, 0.2, L_BAR * MICRON

    def h(x):
        return gas_h(air, g0 + (L - x) * slope, 101325.0, 300.0, 0.9)

    prob = conduction.assemble(prob0.mesh, np.full(prob0.mesh.n_elements, k), 1e-6, sensor="sensor")
    top = outer.normal[2] > 0.5
    H = robin(prob.K.shape[0], outer.select(top), h(outer.midpoints[0][:, top]))
    res = conduction.solve(conduction.with_exchange(prob, {"gap": H}))
    r_fem = float(prob.source_mean @ res.T) / prob.power
    kA, w = k * MICRON**2, MICRON
    s = np.linspace(0.0, 1.0, 201)  # s = x/L, θ = T·kA/(L·Q): θ″ = (h w L²/kA)·θ, θ(0) = 0, θ′(1) = 1
    sol = solve_bvp(
        lambda s, y: np.vstack([y[1], h(s * L) * w * L**2 / kA * y[0]]),
        lambda ya, yb: np.array([ya[0], yb[1] - 1.0]),
        s,
        np.vstack([s, np.ones_like(s)]),
        tol=1e-8,
    )
    assert sol.success
    r_1d = float(sol.sol(1.0)[0]) * L / kA
    assert r_1d < 0.8 * L / kA  # the gas matters here: the test can tell a wrong h(x) from none
    assert r_fem == pytest.approx(r_1d, rel=5e-3)


# ----- the probe -----


def tiny_in(environment: dict | None):
    raw = coarse(raw_reference())
    if environment is not None:
        raw["environment"] = environment
    return parse_design(raw, "tiny-env")


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    from probe_fem.model.steady import build_model

    cache = str(tmp_path_factory.mktemp("env-cache"))
    envs = {
        "none": None,
        "quiet": {"pressure_Pa": 0.0, "radiation": False},
        "uhv": {"pressure_Pa": 0.0},
        "atm": {"pressure_atm": 1.0, "sample": {"tilt_deg": 12.0}},
        "fm1": {"pressure_Pa": 1e-3, "sample": {"tilt_deg": 12.0}, "radiation": False},
        "fm2": {"pressure_Pa": 2e-3, "sample": {"tilt_deg": 12.0}, "radiation": False},
    }
    return {name: build_model(tiny_in(env), 1.0, cache=cache) for name, env in envs.items()}


def _steady(model):
    from probe_fem.model.steady import solve_steady

    return solve_steady(model)[0]


def test_an_environment_that_exchanges_nothing_is_the_vacuum_model_bit_for_bit(tiny_models):
    """No [environment] builds no exchange, and one with nothing to exchange gives the same R_P bit for bit.
    That the vacuum model itself is unchanged, the slow test of the shipped calibration checks (its R_P_fem was
    computed before the surroundings existed, and matches to 1e-9)."""
    none, quiet = _steady(tiny_models["none"]), _steady(tiny_models["quiet"])
    assert not tiny_models["none"].problem.exchange
    assert quiet.R_P == none.R_P  # bitwise: an environment that exchanges nothing adds nothing
    assert none.heat_paths == {"sink": pytest.approx(none.heat_in, rel=1e-12)}


def test_heat_balance_with_every_path(tiny_models):
    r = _steady(tiny_models["atm"])
    assert set(r.heat_paths) == {"sink", "gas_to_sample", "gas_to_surroundings", "radiation"}
    assert r.balance_error < 1e-9
    assert r.breakdown_error < 1e-9  # energy identity with ∫ h T² dS
    assert all(v > 0 for v in r.heat_paths.values())
    assert r.R_P < _steady(tiny_models["none"]).R_P  # heat that leaves on the way never reaches the junction


def test_radiation_alone_lowers_R_P_by_what_its_conductance_predicts(tiny_models):
    """Second method: the radiated fraction ≈ G_rad·⟨T⟩_surface / Q, and R_P falls by at most that fraction."""
    none, uhv = _steady(tiny_models["none"]), _steady(tiny_models["uhv"])
    share = uhv.heat_paths["radiation"] / uhv.heat_in
    assert 0 < 1 - uhv.R_P / none.R_P <= share * 1.0001
    assert 1e-7 < share < 1e-3  # a 17 µm SiN lever at ε ≈ 0.3: ~1e-5 of the heat


def test_free_molecular_gas_loss_is_linear_in_pressure(tiny_models):
    q1, q2 = (_steady(tiny_models[k]).heat_paths for k in ("fm1", "fm2"))
    for path in ("gas_to_sample", "gas_to_surroundings"):
        assert q2[path] / q1[path] == pytest.approx(2.0, rel=1e-3)


def test_the_gap_is_the_distance_to_the_tilted_sample_plane(tiny_models):
    from probe_fem.model.environment import exposed_surface, sample_direction

    model = tiny_models["atm"]
    d = model.design
    ex = exposed_surface(d, model.probe, model.problem.sink)
    assert ex.gap.min() == pytest.approx(0.0, abs=1e-12)  # the plane touches the apex
    # the body's top face near the root: g = (z_apex − z)·cosθ + (x_apex − x)·sinθ, the apex from the design
    top = (ex.surface.normal[2] > 0.99) & (ex.surface.midpoints[0].mean(axis=0) < 3e-6) & (ex.facing > 0)
    assert top.any()
    assert ex.facing[top] == pytest.approx(math.cos(math.radians(12.0)), rel=1e-9)  # the projected share
    x_apex = d.body.length_m - d.tip.setback_m - d.coated_half_foot
    apex = np.array([x_apex, 0.0, d.body.thickness_m + d.tip.height_m + d.stack_thickness])
    n = sample_direction(12.0)
    expected = np.einsum("i,iqf->qf", n, apex[:, None, None] - ex.surface.midpoints[:, :, top])
    assert np.allclose(ex.gap[:, top], expected, atol=0.05 * MICRON)  # the apex cap's own height aside


def test_the_loader_refuses_what_the_environment_cannot_model():
    raw = coarse(raw_reference())
    del raw["materials"]["au_film"]["emissivity"]
    raw["environment"] = {"pressure_mbar": 1.0, "sample": {"tilt_deg": 43.0}}
    with pytest.raises(DesignError) as caught:
        parse_design(raw, "bad-env")
    text = str(caught.value)
    assert "materials.au_film.emissivity: missing" in text
    assert "environment.sample.tilt_deg = 43.0: the body's free end would touch the sample" in text
    raw["materials"]["au_film"]["emissivity"] = 0.03
    raw["environment"] = {"sample": {"tilt_deg": 40.0}}
    assert parse_design(raw, "steep") is not None  # 40° is below the reference's 41.2° (the end sees the apex)
    raw["environment"] = {"pressure_Pa": -1.0}
    with pytest.raises(DesignError, match=r"environment\.pressure_Pa"):
        parse_design(raw, "bad-env")


def test_pressure_units_convert_to_pascal():
    d = tiny_in({"pressure_Torr": 760.0, "radiation": False})
    assert d.environment is not None and d.environment.pressure_Pa == pytest.approx(101325.0, rel=1e-12)
    from probe_fem.units import parse_pressure

    assert parse_pressure("1atm") == 101325.0 and parse_pressure("1e-3 mbar") == pytest.approx(0.1)
    with pytest.raises(Exception, match="allowed"):
        parse_pressure("2 bar")


def test_the_pressure_sweep_reuses_one_model_and_finds_the_good_enough_vacuum(tmp_path):
    from probe_fem.studies.environment import log_pressures, pressure_sweep

    d = tiny_in({"sample": {"tilt_deg": 12.0}})
    sweep = pressure_sweep(d, log_pressures(1e-2, 1e5, 1), cache=str(tmp_path))
    changes = [sweep.change(p) for p in sweep.points]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(changes))  # more gas, more heat lost on the way
    assert abs(changes[0]) < 1e-5  # 0.01 Pa: UHV
    p0 = sweep.good_vacuum_Pa
    assert p0 is not None and 10 < p0 < 1e4
    # free-molecular regime: the change is linear in p, so 0.1 % is reached at p_1 · 1e-3 / change(p_1)
    low = sweep.points[2]  # 1 Pa
    assert p0 == pytest.approx(low.pressure_Pa * 1e-3 / abs(sweep.change(low)), rel=0.1)
    for p in (sweep.uhv, *sweep.points):
        assert sum(p.shares.values()) == pytest.approx(1.0, abs=1e-12)
    atm = sweep.points[-1]
    assert atm.tau1_s < sweep.uhv.tau1_s  # an extra path to the surroundings shortens the slow mode


def test_calibrate_at_a_pressure_records_the_environment(tmp_path, capsys):
    from probe_fem.calibration import Calibration
    from probe_fem.cli.main import main

    design = coarse_design_file(tmp_path / "tiny.toml", *TINY_SIZES)
    calib = tmp_path / "cal.json"
    argv = [
        "calibrate",
        str(design),
        "--quiet",
        "--pressure",
        "1atm",
        "--out",
        str(tmp_path / "o"),
        "--calib",
        str(calib),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "environment: air at 1.01e+05 Pa" in out
    cal = Calibration.load(calib)
    assert cal.environment is not None and cal.environment.pressure_Pa == 101325.0
    assert cal.environment.heat_shares["sink"] < 1.0
    assert cal.probe == "ntistp-101325Pa" and cal.R_P.origin == "fem"  # the UHV measurement is not used in air
    assert main([*argv, "--accuracy", "1%"]) == 2  # the a-posteriori estimate has no exchange terms: refused
    assert "accuracy" in capsys.readouterr().err


def test_a_study_point_varies_the_environment_like_any_key():
    """Pressure, accommodation and an emissivity are keys of the design file: a study point sets them, the mesh
    stays (the environment is not geometry), and more gas lowers R_P."""
    from probe_fem.studies.evaluate import evaluate_point

    raw = coarse(raw_reference())
    raw["environment"] = {"pressure_Pa": 1.0, "accommodation": 0.9, "sample": {"tilt_deg": 12.0}}
    rows = [
        evaluate_point(raw, over, 1.0, 2)
        for over in (
            {"environment.pressure_Pa": 1.0},
            {"environment.pressure_Pa": 1e4},
            {"environment.pressure_Pa": 1e4, "environment.accommodation": 0.3},
            {"environment.pressure_Pa": 1e4, "materials.sin_lpcvd.emissivity": 0.9},
        )
    ]
    assert all(r["status"] == "ok" for r in rows), [r["error"] for r in rows]
    low, high, poor, bright = (r["R_P_K_per_W"] for r in rows)
    assert high < low  # more gas, more heat lost before the junction
    assert high < poor < low  # a lower accommodation coefficient conducts less
    assert bright < high
    assert len({r["design_fingerprint"] for r in rows}) == 4


def test_the_calibration_file_refuses_shares_that_do_not_add_up(tmp_path):
    import json

    from probe_fem.calibration import Calibration, CalibrationError
    from probe_fem.calibration.schema import embedded_calibration_path

    data = json.loads(embedded_calibration_path().read_text())
    data["environment"] = {
        "pressure_Pa": 101325.0,
        "gas": "air",
        "accommodation": 0.9,
        "temperature_K": 300.0,
        "radiation": True,
        "sample_tilt_deg": 12.0,
        "surroundings_length_m": 1.2e-5,
        "heat_shares": {"sink": 0.9, "gas_to_sample": 0.07, "gas_to_surroundings": 0.02, "radiation": 0.01},
    }
    good = tmp_path / "good.json"
    good.write_text(json.dumps(data))
    assert Calibration.load(good).environment.heat_shares["sink"] == 0.9
    rows = dict((name, value) for name, value, _, _ in Calibration.load(good).rows())
    assert rows["pressure"] == 101325.0 and rows["heat_share_gas_to_sample"] == 0.07
    data["environment"]["heat_shares"]["sink"] = 0.5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(CalibrationError, match=r"heat_shares: each in \[0, 1\] and summing to 1"):
        Calibration.load(bad)
    data["environment"]["heat_shares"] = {"sink": 1.0, "convection": 0.0}
    bad.write_text(json.dumps(data))
    with pytest.raises(CalibrationError, match="convection"):
        Calibration.load(bad)


def test_the_environment_command_prints_writes_and_refuses_bad_ranges(tmp_path, capsys):
    import json

    from probe_fem.cli.main import main

    design = coarse_design_file(tmp_path / "tiny.toml", *TINY_SIZES)
    out = tmp_path / "env"
    argv = ["environment", str(design), "--quiet", "--pressures", "1Pa..1e5Pa", "--per-decade", "1"]
    assert main([*argv, "--sample-tilt-deg", "12", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "good-enough vacuum: below" in text and "UHV" in text
    data = json.loads((out / "environment.json").read_text())
    assert [round(p["pressure_Pa"]) for p in data["points"]] == [1, 10, 100, 1000, 10000, 100000]
    assert data["environment"]["sample"] == {"tilt_deg": 12.0} and 10 < data["good_vacuum_Pa"] < 1e4
    assert (out / "environment.png").stat().st_size > 10_000
    for bad in ("1e5Pa..1Pa", "1Pa", "1 bar..1atm", "0Pa..1atm"):
        with pytest.raises(SystemExit) as caught:
            main(["environment", str(design), "--pressures", bad])
        assert caught.value.code == 2
        assert "--pressures" in capsys.readouterr().err


def test_a_fit_recovers_the_pressure_from_R_P():
    """Inverse calibration over an environment key: the pressure that made an R_P is found again."""
    from probe_fem.studies.evaluate import evaluate_point
    from probe_fem.studies.fit import fit_design

    raw = coarse(raw_reference())
    raw["environment"] = {"pressure_Pa": 1e4, "sample": {"tilt_deg": 12.0}}
    truth = evaluate_point(raw, {"environment.pressure_Pa": 3e4}, 1.0, 6)["R_P_K_per_W"]
    result = fit_design(raw, {"environment.pressure_Pa": (1e3, 1e5)}, {"rp": (truth, 5.0)})
    assert result.fitted[0] == pytest.approx(3e4, rel=0.01)


# degree-4 rule on a triangle (Dunavant): barycentric points and weights (sum 1)
_A, _B = 0.445948490915965, 0.091576213509771
DUNAVANT_POINTS = np.array([np.roll([c, c, 1 - 2 * c], i) for c in (_A, _B) for i in range(3)])
DUNAVANT_WEIGHTS = np.array([0.223381589678011] * 3 + [0.109951743655322] * 3)


def test_the_heat_to_the_sample_is_the_integral_of_h_T_by_another_rule(tiny_models):
    """The assembled sample path's heat 1ᵀHT against ∫ facing·h(g(X))·T(X) dA with a degree-4 rule, g(X) the
    distance of each quadrature point to the tilted plane through the lowest node, T interpolated from the
    solution: the edge-midpoint assembly and the gap geometry, checked by a second integration."""
    from probe_fem.model.environment import SAMPLE, exposed_surface, sample_direction
    from probe_fem.model.steady import solve_steady

    model = tiny_models["atm"]
    d, env = model.design, model.design.environment
    report, T = solve_steady(model)
    ex = exposed_surface(d, model.probe, model.problem.sink)
    p = model.probe.mesh.skfem.p
    n = sample_direction(env.sample.tilt_deg)
    top = float((n @ p).max())
    keep = ex.facing > 0
    tri = ex.surface.tri[:, keep]
    X = np.einsum("qi,cif->cqf", DUNAVANT_POINTS, p[:, tri])  # coord × point × triangle
    g = np.minimum(np.maximum(top - np.einsum("c,cqf->qf", n, X), 0.0), ex.far)
    h = gas_h(GASES[env.gas], g, env.pressure_Pa, 300.0, env.accommodation)
    Tq = np.einsum("qi,if->qf", DUNAVANT_POINTS, T[tri])
    heat = float(np.sum(ex.facing[keep] * ex.surface.area[keep] * np.einsum("q,qf->f", DUNAVANT_WEIGHTS, h * Tq)))
    assert report.heat_paths[SAMPLE] == pytest.approx(heat, rel=2e-3)


def test_the_exchange_is_continuous_in_the_tilt(tmp_path):
    """A face's share towards the sample is its projected area: a tilt of 1e-4° changes R_P by ~1e-6, not by the
    jump a face switching between the sample and the surroundings would make."""
    from probe_fem.model.steady import build_model, solve_steady

    cache = str(tmp_path)
    r = [
        solve_steady(build_model(tiny_in({"pressure_atm": 1.0, "sample": {"tilt_deg": t}}), 1.0, cache=cache))[0].R_P
        for t in (0.0, 1e-4)
    ]
    assert r[1] == pytest.approx(r[0], rel=1e-5)


def test_below_the_tilt_limit_the_apex_is_the_lowest_point(tmp_path):
    from probe_fem.model.environment import sample_direction
    from probe_fem.model.steady import build_model

    d = tiny_in({"sample": {"tilt_deg": 41.0}})  # the reference's limit is 41.2°
    model = build_model(d, 1.0, cache=str(tmp_path))
    p = model.probe.mesh.skfem.p
    lowest = p[:, int(np.argmax(sample_direction(41.0) @ p))]
    x_apex = d.body.length_m - d.tip.setback_m - d.coated_half_foot
    assert abs(lowest[0] - x_apex) <= d.tip.apex_radius_m * 1.01  # on the apex cap, not the body's end
    assert lowest[2] > d.body.thickness_m + d.tip.height_m  # above the tip core's top


def test_calibrate_at_another_pressure_names_the_design_and_drops_a_measured_R_P():
    from probe_fem.design.load import load_design
    from probe_fem.model.environment import with_pressure

    d = with_pressure(load_design(), 101325.0)
    assert d.name == "ntistp-101325Pa" and d.environment is not None
    assert d.measured.R_P_K_per_W is None and d.measured.S_TC_uV_per_K == 16.3
    assert with_pressure(load_design(), 1e-6).name == "ntistp-1e-06Pa"
