"""Every design the loader accepts meshes and solves at the levels ``calibrate`` uses; the rest are refused
before meshing, with a message that names the field.

Designs come from :mod:`design_space` (every planform × tip shape × leg layout, dimensions over their
usual ranges).  The default run tries a few seeded small designs; ``-m slow`` adds refine 2 and the full ranges;
``python benchmarks/design_space.py`` is the long run that reports success rates per combination.
"""

from __future__ import annotations

import itertools
import random

import pytest
from design_space import LEGS, PLANFORMS, SHAPES, draw
from hypothesis import given, settings
from hypothesis import strategies as st

from probe_fem.design.load import parse_design
from probe_fem.design.schema import DesignError
from probe_fem.mesh.probe import MIN_QUALITY, REGIONS, build_meshes, worst_element
from probe_fem.mesh.worker import Limits
from probe_fem.model.environment import with_environment
from probe_fem.model.steady import ProbeModel, conductivity, solve_steady
from probe_fem.physics import conduction

COMBOS = list(itertools.product(PLANFORMS, SHAPES, LEGS))
LIMITS = Limits(base_s=120.0, per_item_s=2e-3)  # the library's defaults would allow more; a test wants less


def _accepted(seed: int, combo: tuple[str, str, str], small: bool, environment: bool = False):
    raw = draw(random.Random(seed), *combo, small=small, environment=environment)
    try:
        return parse_design(raw, raw["name"])
    except DesignError as exc:
        assert exc.messages and all("=" in m or ":" in m for m in exc.messages)  # field = value: rule
        return None


def _check_meshes_and_solves(design, levels):
    for refine, pm in zip(levels, build_meshes(design, levels, limits=LIMITS)):
        q, _ = worst_element(pm.mesh)
        assert q >= MIN_QUALITY, f"refine {refine}: degenerate element (quality {q:.1e})"
        assert all(pm.mesh.skfem.subdomains[r].size for r in REGIONS)
        prob = conduction.assemble(pm.mesh, conductivity(design, pm), design.source.power_W)
        prob = with_environment(prob, design, pm)  # unchanged without [environment]
        report, _ = solve_steady(ProbeModel(design, pm, prob, refine))
        assert report.balance_error < 1e-9 and report.R_P > 0


@settings(max_examples=3)
@given(seed=st.integers(0, 2**32 - 1), combo=st.sampled_from(COMBOS))
def test_an_accepted_design_meshes_at_the_calibrate_levels(seed, combo):
    design = _accepted(seed, combo, small=True, environment=True)
    if design is not None:
        _check_meshes_and_solves(design, [0.5, 1.0])


@pytest.mark.slow
@settings(max_examples=12)
@given(seed=st.integers(0, 2**32 - 1), combo=st.sampled_from(COMBOS))
def test_an_accepted_design_meshes_at_refine_2_too(seed, combo):
    design = _accepted(seed, combo, small=False)
    if design is not None:
        _check_meshes_and_solves(design, [0.5, 1.0, 2.0])
