"""Resistive probes: electrical solve against closed forms, reciprocity, heat balance, rules, calibration file."""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import numpy as np
import pytest
from conftest import coarse, raw_reference

from probe_fem.calibration.schema import SCHEMA_VERSION, Calibration, CalibrationError
from probe_fem.design.load import parse_design
from probe_fem.design.schema import DesignError
from probe_fem.mesh.bars import layered_bar
from probe_fem.physics import conduction
from probe_fem.physics.electrical import element_load, solve_potential, terminal_nodes
from probe_fem.physics.p1 import P1Tets

RHO_PD, TCR = 2.0e-7, 1.4e-3  # Ω·m, 1/K


def resistive_raw(lead_tcr: float = 2.8e-3) -> dict:
    """The reference made resistive: its band a Pd film, both legs Au leads (a tiny mesh)."""
    raw = coarse(raw_reference())
    tc = raw["thermocouple"]
    del tc["au_material"], tc["cr_material"]
    tc["junction_length_nm"] = 500
    raw["resistor"] = {"material": "pd_film", "lead_material": "au_film"}
    for key in ("S_TC_uV_per_K", "S_TC_uncertainty_uV_per_K"):  # no thermocouple
        del raw["measured"][key]
    raw["materials"]["au_film"].update(resistivity_ohm_m=4.0e-8, tcr_per_K=lead_tcr)
    raw["materials"]["pd_film"] = {
        "k_W_mK": 35.0,
        "rho_kg_m3": 12000.0,
        "cp_J_kgK": 244.0,
        "resistivity_ohm_m": RHO_PD,
        "tcr_per_K": TCR,
        "origin": "estimated",
    }
    return raw


# ---------------------------------------------------------------- a straight bar, closed forms
@pytest.fixture(scope="module")
def bar():
    L, W, H = 8.0, 1.0, 0.5  # µm
    mesh, _ = layered_bar(L, [H], width_um=W, size_um=0.25)
    return mesh, L * 1e-6, W * H * 1e-12


def test_bar_resistance_joule_power_and_self_heating_mean_rise(bar):
    """R_e = ρL/A to 1e-6; ∫σ|∇φ|² = V·I to 1e-9; ends at the sink: mean rise P·L/(12kA) within 0.5 %."""
    mesh, L, A = bar
    tets = P1Tets(mesh.skfem.p, mesh.skfem.t)
    everything = np.arange(mesh.n_elements)
    root, end = (np.unique(conduction.boundary_triangles(mesh, b)[0]) for b in ("root", "apex"))
    sigma = np.full(mesh.n_elements, 1 / RHO_PD)
    pot = solve_potential(tets, sigma, terminal_nodes(tets, end, everything), terminal_nodes(tets, root, everything))
    assert abs(pot.resistance - RHO_PD * L / A) <= 1e-6 * RHO_PD * L / A
    assert pot.power_error <= 1e-9
    k = 35.0
    prob = conduction.assemble(mesh, np.full(mesh.n_elements, k), 1.0, sink="root", sensor="sensor")
    prob = replace(prob, sink=np.union1d(root, end))  # both ends held at the sink temperature
    f = element_load(tets, pot.joule)
    res = conduction.solve(prob, f=f / f.sum())
    mean = float(f @ res.T / f.sum())  # uniform TCR: the readout weight is the Joule density
    assert abs(mean - L / (12 * k * A)) <= 5e-3 * L / (12 * k * A)
    assert res.balance_error <= 1e-9


def test_an_unconnected_terminal_is_a_solver_error(bar):
    from probe_fem.errors import SolverError

    mesh, _, _ = bar
    tets = P1Tets(mesh.skfem.p, mesh.skfem.t)
    root = np.unique(conduction.boundary_triangles(mesh, "root")[0])
    with pytest.raises(SolverError, match="terminals"):
        solve_potential(tets, np.ones(mesh.n_elements), root, root)


# ---------------------------------------------------------------- the probe
@pytest.fixture(scope="module")
def uniform_model():
    """A resistive probe whose leads and film share one TCR (the reciprocity case)."""
    from probe_fem.model.steady import build_model

    return build_model(parse_design(resistive_raw(lead_tcr=TCR), "tiny-resistive"), cache=None)


def test_reciprocity_heat_balance_and_joule_power(uniform_model):
    """R_tip (sensor per watt at the apex) = R_apex,self (apex per watt of Joule heat) to 1e-9 with one TCR."""
    from probe_fem.model.resistor import solve_resistor
    from probe_fem.model.steady import solve_steady

    steady, _ = solve_steady(uniform_model)
    r, _ = solve_resistor(uniform_model, steady)
    assert r.uniform_tcr and r.reciprocity_error is not None
    assert r.reciprocity_error <= 1e-9
    assert r.balance_error <= 1e-9 and steady.balance_error <= 1e-9
    assert r.joule_error <= 1e-9
    assert abs(r.tcr - TCR) <= 1e-12  # α_eff of one TCR is that TCR
    assert 0 < r.film_share < 1 and r.R_e > 0
    # the readout sums to one and lives on the conductors only
    s = uniform_model.problem.sensor
    assert abs(s.sum() - 1) <= 1e-12
    sub = uniform_model.probe.mesh.skfem.subdomains
    conductors = np.unique(uniform_model.problem.elements.t[:, np.concatenate([sub["tc_au"], sub["tc_cr"]])])
    assert np.all(s[np.setdiff1d(np.arange(s.size), conductors)] == 0)


@pytest.fixture(scope="module")
def resistive_run():
    from probe_fem.pipeline import calibrate

    return calibrate(parse_design(resistive_raw(), "tiny-resistive"), cache=None)


def test_resistive_calibration_file_and_its_refusals(resistive_run, tmp_path):
    """calibrate writes schema 1.3 with the resistor section and no S_TC; it loads; simulate refuses it by name."""
    from probe_fem.cli.main import main

    run = resistive_run
    cal = run.calibration
    assert cal.sensor == "resistor" and cal.S_TC is None and cal.resistor is not None
    r = cal.resistor
    assert r.R_tip_over_R_self == pytest.approx(cal.R_P_fem.value / r.R_self.value, rel=1e-12)
    assert r.self_transfer_function is not None
    assert r.self_transfer_function.steady_K_per_W == pytest.approx(r.R_self.value, rel=1e-6)
    assert r.self_f_3dB_Hz is not None and r.self_f_3dB_Hz > 0
    path = cal.save(tmp_path / "r.json")
    again = Calibration.load(path)
    assert again.resistor == cal.resistor and again.schema_version == SCHEMA_VERSION
    with pytest.raises(CalibrationError, match="resistive probe"):
        again.require_S_TC()
    argv = ["simulate", "--calibration", str(path), "--out", str(tmp_path / "t.npz"), "--quiet"]
    assert main(argv) == 2
    res = run.results()["resistor"]
    assert res["checks"]["self_heating_heat_balance_relative_error"] <= 1e-9
    assert len(res["self_heating_dynamics"]["ac_drive"]["V3omega_per_I0_cubed_V_per_A3"]) == 6


def test_resistive_plan_against_its_closed_forms(resistive_run, tmp_path):
    """Bias from the allowed self-heating, responsivity I·R_e·α·R_tip at low frequency, a bridge half of it,
    NEP = √(4kTR_e + w²(1 + f_c/f)) / responsivity; the plan command writes it for a resistive calibration."""
    import json

    from probe_fem.analysis.resistive import Readout, plan_resistive
    from probe_fem.cli.main import main
    from probe_fem.constants import K_B

    cal = resistive_run.calibration
    r = cal.resistor
    f = np.array([1e-3, 10.0, 1e3])
    p = plan_resistive(cal, Readout("current", 0.5, 4e-9, 3.0), f, seconds=10.0)
    assert p.self_heating_K == pytest.approx(0.5, rel=1e-12)
    assert p.bias_A == pytest.approx(math.sqrt(0.5 / (r.R_e.value * r.R_self.value)), rel=1e-12)
    dc = p.bias_A * r.R_e.value * r.tcr_per_K * cal.R_P.value
    assert p.responsivity_V_per_W[0] == pytest.approx(dc, rel=1e-6)  # 1 mHz is DC for a µs-ms probe
    noise = np.sqrt(4 * K_B * 300 * r.R_e.value + (4e-9) ** 2 * (1 + 3.0 / f))
    assert np.allclose(p.nep_W_per_rtHz, noise / p.responsivity_V_per_W, rtol=1e-12)
    bridge = plan_resistive(cal, Readout("bridge", 0.5, 4e-9, 3.0), f, seconds=10.0)
    assert np.allclose(bridge.responsivity_V_per_W, p.responsivity_V_per_W / 2, rtol=1e-12)
    path = cal.save(tmp_path / "r.json")
    assert main(["plan", str(path), "--out", str(tmp_path / "plan"), "--quiet", "--readout", "bridge"]) == 0
    data = json.loads((tmp_path / "plan" / "plan.json").read_text())
    assert data["sensor"] == "resistor" and data["readout"] == "bridge"
    assert data["self_heating_K"] == pytest.approx(1.0, rel=1e-12)


def test_a_calibration_cannot_mix_the_sensors(tiny_calibration):
    import json

    data = tiny_calibration.model_dump(mode="json")
    with pytest.raises(CalibrationError, match="S_TC: not allowed"):
        Calibration.from_json(json.dumps({**data, "sensor": "resistor"}))
    no_s = {k: v for k, v in data.items() if k != "S_TC"}
    with pytest.raises(CalibrationError, match="S_TC: required"):
        Calibration.from_json(json.dumps(no_s))


# ---------------------------------------------------------------- design rules
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r["thermocouple"].update(au_material="au_film"), "thermocouple.au_material"),
        (lambda r: r["materials"]["pd_film"].pop("resistivity_ohm_m"), "materials.pd_film.resistivity_ohm_m"),
        (lambda r: r["materials"]["au_film"].pop("tcr_per_K"), "materials.au_film.tcr_per_K"),
        (lambda r: r["materials"]["pd_film"].update(tcr_per_K=0.0), "needs a TCR"),
        (lambda r: r["resistor"].update(material="pt_film"), "resistor.material = "),
    ],
)
def test_a_resistive_design_is_refused_with_the_field_named(edit, message):
    raw = resistive_raw()
    edit(raw)
    with pytest.raises(DesignError, match=message):
        parse_design(raw, "bad")


def test_a_thermocouple_needs_both_leg_materials():
    raw = copy.deepcopy(raw_reference())
    del raw["thermocouple"]["cr_material"]
    with pytest.raises(DesignError, match=r"thermocouple\.cr_material: missing"):
        parse_design(raw, "bad")


def test_R_self_and_R_tip_converge_under_refinement():
    """Each halving of the sizes changes R_self and R_tip less than the one before (tiny mesh, refine 0.5/1/2)."""
    from probe_fem.model.resistor import solve_resistor
    from probe_fem.model.steady import build_models, solve_steady

    d = parse_design(resistive_raw(lead_tcr=TCR), "tiny-resistive")
    reports = [solve_resistor(m, solve_steady(m)[0])[0] for m in build_models(d, [0.5, 1.0, 2.0])]
    for name in ("R_self", "R_tip", "R_apex_self"):
        a, b, c = (getattr(r, name) for r in reports)
        assert abs(c - b) < 0.7 * abs(b - a), (name, a, b, c)


def test_the_accuracy_loop_drives_R_tip_of_a_resistive_probe():
    """--accuracy refines for the quantity a resistive calibration reports as R_P: the resistor's R_tip."""
    from probe_fem.model.adapt import adapt
    from probe_fem.model.resistor import solve_resistor

    d = parse_design(resistive_raw(lead_tcr=TCR), "tiny-resistive")
    ad = adapt(d, 0.01, start_refine=0.5, max_iterations=4)
    assert ad.met and len(ad.history) >= 2
    r, _ = solve_resistor(ad.model, ad.report)
    assert r.R_tip == ad.report.R_P  # the loop's goal is the resistor's readout
    assert r.reciprocity_error is not None and r.reciprocity_error <= 1e-9  # on the adapted mesh too
