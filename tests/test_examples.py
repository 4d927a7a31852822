"""The numbered examples are methods-section scripts; these tests run them (coarse) and assert on them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_01_layered_bar_matches_analytic():
    r = load("01_layered_bar").run(size_um=0.5)
    assert r["fem_K_per_W"] == pytest.approx(r["analytic_K_per_W"], rel=5e-3)
    assert r["balance_error"] < 1e-8


def test_02_reference_design_coarse(tmp_path):
    r = load("02_ntistp_steady").run(refine=0.4, figure=str(tmp_path / "p.png"))
    # even a mesh 2.5x coarser than the calibrate mesh is within 2 % of the published R_P
    assert r["R_P"] == pytest.approx(72_800, rel=0.02)
    assert r["balance_error"] < 1e-8 and r["breakdown_error"] < 1e-8
    assert (tmp_path / "p.png").stat().st_size > 10_000


def test_03_convergence_study_is_monotone_with_positive_order():
    r = load("03_mesh_convergence").run(start=0.25, levels=3)
    assert r["order"] is not None and r["order"] > 0.5
    assert r["changes"][1] < r["changes"][0]


def test_04_chain_shows_the_papers_three_findings():
    r = load("04_dissipation_chain").run(refine=0.4, junctions=10)  # realistic noise: 10 junctions per V_M
    assert np.all(r["bdnc"]["z"] < -5)  # more heat in the probe at negative bias
    assert np.all(r["bda"]["z"] > 5)  # more at positive bias
    assert np.all(np.abs(r["au"]["z"]) < 4)  # none
    # and back to the junction: the fit picks the level's side of E_F
    assert r["bdnc"]["fit"]["branch"] == "LUMO" and r["bda"]["fit"]["branch"] == "HOMO"
