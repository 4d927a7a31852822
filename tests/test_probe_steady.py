"""Steady probe model on a tiny mesh: conservation, reciprocity, scaling, determinism, breakdown."""

from __future__ import annotations

import numpy as np
import pytest

from probe_fem.mesh.probe import build_mesh
from probe_fem.model.steady import ProbeModel, solve_steady
from probe_fem.physics import conduction as steady


def test_heat_balance_and_breakdown(tiny_model):
    report, _ = solve_steady(tiny_model)
    assert report.balance_error < 1e-8
    assert report.breakdown_error < 1e-8
    # the junction sits below the apex, on the heat path: its rise is smaller but of the same order
    assert 0.5 * report.R_apex < report.R_P < report.R_apex
    assert all(v > 0 for v in report.breakdown.values())


def test_reciprocity(tiny_model):
    """Apex-heated junction rise equals junction-heated apex rise (symmetric conduction)."""
    prob = tiny_model.problem
    q = prob.power
    apex_heated = steady.solve(prob).T
    tc_heated = steady.solve(prob, f=q * prob.sensor).T
    assert prob.sensor @ apex_heated == pytest.approx(prob.source_mean @ tc_heated, rel=1e-9)


def test_doubling_conductivity_halves_R_P(tiny_model):
    prob = tiny_model.problem
    doubled = steady.assemble(tiny_model.probe.mesh, 2 * prob.k, prob.power)
    base = ProbeModel(tiny_model.design, tiny_model.probe, prob, 1.0)
    r1, _ = solve_steady(base)
    r2, _ = solve_steady(ProbeModel(tiny_model.design, tiny_model.probe, doubled, 1.0))
    assert r2.R_P == pytest.approx(r1.R_P / 2, rel=1e-9)


def test_R_P_independent_of_power(tiny_model):
    prob = tiny_model.problem
    strong = steady.assemble(tiny_model.probe.mesh, prob.k, 1e3 * prob.power)
    r1, _ = solve_steady(tiny_model)
    r2, _ = solve_steady(ProbeModel(tiny_model.design, tiny_model.probe, strong, 1.0))
    assert r2.dT_tc == pytest.approx(1e3 * r1.dT_tc, rel=1e-9)
    assert r2.R_P == pytest.approx(r1.R_P, rel=1e-9)


def test_amg_and_direct_agree(tiny_model):
    direct = steady.solve(tiny_model.problem, method="direct")
    amg = steady.solve(tiny_model.problem, method="amg")
    s = tiny_model.problem.sensor
    assert s @ amg.T == pytest.approx(s @ direct.T, rel=1e-8)
    assert amg.balance_error < 1e-8


def test_mesh_is_deterministic_and_fingerprint_discriminates(tiny_design, tiny_model):
    again = build_mesh(tiny_design)
    assert again.mesh.fingerprint() == tiny_model.probe.mesh.fingerprint()
    finer = build_mesh(tiny_design, refine=1.25)
    assert finer.mesh.fingerprint() != tiny_model.probe.mesh.fingerprint()


def test_named_groups_are_present_and_refined(tiny_model):
    m = tiny_model.probe.mesh.skfem
    for name in ("body", "tip", "tc_au", "tc_cr", "insulator", "electrode", "tc_junction"):
        assert len(m.subdomains[name]) > 0, name
    for name in ("root", "apex", "tc_junction"):
        assert len(m.boundaries[name]) > 0, name
    # root facets lie on x = 0, apex facets on the top plane
    assert np.allclose(m.p[0, m.facets[:, m.boundaries["root"]]], 0.0, atol=1e-12)
    z_apex = tiny_model.probe.layout.z_apex * 1e-6
    assert np.allclose(m.p[2, m.facets[:, m.boundaries["apex"]]], z_apex, atol=1e-12)
    # local refinement: elements at the apex are far smaller than those of the SiN body
    vol = steady.element_volumes(tiny_model.probe.mesh)
    apex_nodes = np.unique(m.facets[:, m.boundaries["apex"]])
    at_apex = np.isin(m.t, apex_nodes).any(axis=0)
    assert np.median(vol[at_apex]) < 1e-3 * np.median(vol[m.subdomains["body"]])


def test_point_values_match_skfem_probes(tiny_model):
    from skfem import Basis, ElementTetP1

    from probe_fem.plots.fields import heat_path, point_values

    T = steady.solve(tiny_model.problem).T
    pts, _, _ = heat_path(tiny_model, n=60)
    m = tiny_model.probe.mesh.skfem
    ref = Basis(m, ElementTetP1(), intorder=1).probes(pts).tocsr() @ T
    assert np.allclose(point_values(m, T, pts), ref, rtol=1e-10, atol=0)


def test_mesh_cache_reuses_identical_mesh_and_ignores_materials(tiny_design, tiny_model, tmp_path):
    from probe_fem.mesh.probe import geometry_key

    first = build_mesh(tiny_design, cache=str(tmp_path))
    assert len(list(tmp_path.glob("*.npz"))) == 1
    again = build_mesh(tiny_design, cache=str(tmp_path))
    assert again.mesh.fingerprint() == first.mesh.fingerprint() == tiny_model.probe.mesh.fingerprint()
    softer = tiny_design.with_values({"materials.au_film.k_W_mK": 150.0})
    assert geometry_key(softer, 1.0) == geometry_key(tiny_design, 1.0)
    longer = tiny_design.with_values({"body.length_m": 2e-5})
    assert geometry_key(longer, 1.0) != geometry_key(tiny_design, 1.0)
    assert geometry_key(tiny_design, 2.0) != geometry_key(tiny_design, 1.0)
