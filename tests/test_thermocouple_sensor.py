"""The thermocouple's electrical side: S_TC from the films' Seebeck coefficients, R_TC, stripes that reach the band."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from conftest import raw_reference

from probe_fem.calibration.build import _seebeck
from probe_fem.design.load import parse_design
from probe_fem.design.schema import DesignError
from probe_fem.errors import SolverError


def without_measured_S(raw: dict) -> dict:
    out = copy.deepcopy(raw)
    for key in ("S_TC_uV_per_K", "S_TC_uncertainty_uV_per_K"):
        out["measured"].pop(key)
    return out


def test_S_TC_follows_from_the_films_seebeck_coefficients_with_their_uncertainty():
    raw = without_measured_S(raw_reference())
    au, cr = raw["materials"]["au_film"], raw["materials"]["cr_film"]
    s = _seebeck(parse_design(raw, "films"))
    assert s.value == pytest.approx(abs(cr["seebeck_uV_per_K"] - au["seebeck_uV_per_K"]) * 1e-6, rel=1e-12)
    u = math.hypot(au["seebeck_uncertainty_uV_per_K"], cr["seebeck_uncertainty_uV_per_K"]) * 1e-6
    assert s.uncertainty == pytest.approx(u, rel=1e-12)
    assert s.origin == "estimated"  # the library's films are estimates, so is their pair
    # the case: an Au–Ni pair is no longer given the Au–Cr value
    raw["materials"]["ni_film"] = {**cr, "seebeck_uV_per_K": -19.5, "seebeck_uncertainty_uV_per_K": 2.0}
    raw["thermocouple"]["cr_material"] = "ni_film"
    assert _seebeck(parse_design(raw, "au-ni")).value == pytest.approx(21.4e-6, rel=1e-12)
    # a measured S_TC wins
    assert _seebeck(parse_design(raw_reference(), "measured")).origin == "measured"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r["materials"]["cr_film"].pop("seebeck_uV_per_K"), "S_TC is unknown"),
        (lambda r: r["materials"]["cr_film"].pop("seebeck_uncertainty_uV_per_K"), "together"),
        (lambda r: r["materials"]["cr_film"].update(seebeck_uV_per_K=1.9), "make no thermocouple"),
    ],
)
def test_a_thermocouple_without_a_known_S_TC_is_told_so(edit, message):
    raw = without_measured_S(raw_reference())
    edit(raw)
    with pytest.raises(DesignError, match=message):
        parse_design(raw, "bad")


def test_back_stripes_wider_apart_than_the_tip_at_the_band_are_refused():
    raw = raw_reference()
    raw["thermocouple"]["tip_leg_gap_um"] = 0.5
    with pytest.raises(DesignError, match=r"thermocouple\.tip_leg_gap_um = 0\.5: the two stripes must reach"):
        parse_design(raw, "gap")


def test_conductors_that_fall_apart_are_a_solver_error():
    """A bar whose middle slab does not conduct: no current path, said before any solve."""
    from probe_fem.mesh.bars import layered_bar
    from probe_fem.physics import conduction
    from probe_fem.physics.electrical import solve_potential
    from probe_fem.physics.p1 import P1Tets

    mesh, _ = layered_bar(4.0, [0.5], size_um=0.25)
    tets = P1Tets(mesh.skfem.p, mesh.skfem.t)
    sigma = np.full(mesh.n_elements, 1e6)
    sigma[mesh.skfem.subdomains["sensor"]] = 0.0
    root, end = (np.unique(conduction.boundary_triangles(mesh, b)[0]) for b in ("root", "apex"))
    with pytest.raises(SolverError, match="fall apart into 2 pieces"):
        solve_potential(tets, sigma, end, root)


def test_the_thermocouple_resistance_goes_into_the_calibration_and_the_plan(tiny_calibration, tmp_path):
    """The tiny reference's legs give R_TC (FEM); plan takes it for the Johnson noise unless --r-tc-ohm is given."""
    from probe_fem.cli.main import main

    r_tc = tiny_calibration.thermocouple_resistance_ohm
    assert r_tc is not None and 10 < r_tc < 1e4
    path = tiny_calibration.save(tmp_path / "cal.json")
    assert main(["plan", str(path), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert json.loads((tmp_path / "a" / "plan.json").read_text())["noise"]["R_TC_ohm"] == r_tc
    assert main(["plan", str(path), "--out", str(tmp_path / "b"), "--quiet", "--r-tc-ohm", "50"]) == 0
    assert json.loads((tmp_path / "b" / "plan.json").read_text())["noise"]["R_TC_ohm"] == 50.0
