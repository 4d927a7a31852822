"""Comparing designs: the table and figure come out, and the heat-capacity shares add up to ∫ρc dV."""

from __future__ import annotations

import json
import re

import pytest
from conftest import TINY_SIZES, coarse_design_file

from probe_fem.cli.main import main
from probe_fem.model.dynamics import capacity_shares, heat_capacity
from probe_fem.physics.transient import capacity_matrix


def test_heat_capacity_shares_add_up_to_the_capacity_matrix(tiny_model):
    shares = capacity_shares(tiny_model)
    total = capacity_matrix(tiny_model.problem, heat_capacity(tiny_model)).sum()  # Σ M_ij = ∫ ρc dV
    assert sum(shares.values()) == pytest.approx(total, rel=1e-12)
    assert shares["body"] > shares["tip"] > 0


def test_a_longer_body_is_slower_and_holds_more_heat(tmp_path):
    short = coarse_design_file(tmp_path / "short.toml", *TINY_SIZES)
    long_ = tmp_path / "long.toml"
    text = re.sub(r'name = "ntistp"', 'name = "ntistp-40um"', short.read_text())
    long_.write_text(re.sub(r"^length_um = \S+", "length_um = 40.0", text, flags=re.M))
    out = tmp_path / "cmp"
    assert main(["compare", str(short), str(long_), "--out", str(out), "--quiet"]) == 0
    rows = {r["design"]: r for r in json.loads((out / "compare.json").read_text())["designs"]}
    a, b = rows["ntistp"], rows["ntistp-40um"]
    assert b["R_P_K_per_W"] > a["R_P_K_per_W"]  # a longer heat path
    assert b["tau1_s"] > 2 * a["tau1_s"]  # τ₁ grows faster than the length (R·C)
    assert b["heat_capacity_J_per_K"]["body"] > 1.5 * a["heat_capacity_J_per_K"]["body"]
    assert b["max_quasi_static_Hz"] < a["max_quasi_static_Hz"]
    assert (out / "compare.png").stat().st_size > 10_000
