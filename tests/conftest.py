"""Shared fixtures: a coarse NTISTP variant (tiny mesh) and the design's raw TOML."""

from __future__ import annotations

import copy
import tomllib

import pytest

from probe_fem.design import embedded_design_path, parse_design
from probe_fem.results import build_model


def raw_reference() -> dict:
    """The embedded NTISTP design as parsed TOML (unit-suffixed keys)."""
    return tomllib.loads(embedded_design_path().read_text())


def coarse(raw: dict, factor: float = 3.0) -> dict:
    """A copy of a raw design with every mesh size multiplied by ``factor`` (a tiny test mesh)."""
    out = copy.deepcopy(raw)
    m = out["mesh"]
    m["size_apex_nm"] = min(m["size_apex_nm"] * factor, 2 * raw["tip"]["apex_radius_nm"])
    m["size_tc_nm"] *= factor
    m["size_far_um"] *= factor
    return out


@pytest.fixture(scope="session")
def tiny_design():
    return parse_design(coarse(raw_reference()), "tiny-ntistp")


@pytest.fixture(scope="session")
def tiny_model(tiny_design):
    return build_model(tiny_design)


@pytest.fixture(scope="session")
def tiny_dynamics(tiny_model):
    from probe_fem.dynamics import analyze

    return analyze(tiny_model)


@pytest.fixture(scope="session")
def tiny_calibration(tiny_design, tiny_model, tiny_dynamics):
    from probe_fem.calibration import build
    from probe_fem.results import build_model, solve_steady

    report, _ = solve_steady(tiny_model)
    coarse, _ = solve_steady(build_model(tiny_design, refine=0.5))
    return build(tiny_design, report, coarse.R_P, 1.0, tiny_dynamics)
