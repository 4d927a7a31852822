"""Shared fixtures: a coarse NTISTP variant (tiny mesh) and the design's raw TOML; one mesh cache per session."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import tomllib

import pytest
from hypothesis import HealthCheck, settings

from probe_fem.design.load import embedded_design_path, parse_design
from probe_fem.pipeline import calibrate

# property-based suites: a fixed seed and a bounded count in CI; ``--hypothesis-profile=long`` for releases
settings.register_profile(
    "ci", max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("long", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


def pytest_configure(config):
    """One mesh cache for the whole session (meshes are deterministic and keyed by all they depend on):
    every test, every xdist worker and every command the tests start finds a mesh made once; the
    process that made the folder removes it at the end."""
    if os.environ.get("PROBE_FEM_TEST_CACHE"):  # an xdist worker: the controller's folder
        os.environ["PROBE_FEM_CACHE"] = os.environ["PROBE_FEM_TEST_CACHE"]
        return
    config._probe_fem_cache = tempfile.mkdtemp(prefix="probe-fem-test-meshes-")
    os.environ["PROBE_FEM_CACHE"] = os.environ["PROBE_FEM_TEST_CACHE"] = config._probe_fem_cache


def pytest_unconfigure(config):
    shutil.rmtree(getattr(config, "_probe_fem_cache", ""), ignore_errors=True)


def raw_reference() -> dict:
    """The embedded NTISTP design as parsed TOML (unit-suffixed keys)."""
    return tomllib.loads(embedded_design_path().read_text())


def mesh_table(raw: dict) -> dict:
    """The raw design's [mesh] table, or the sizes derived from its features (unit-suffixed keys)."""
    from probe_fem.mesh.sizing import mesh_settings

    if "mesh" in raw:
        return dict(raw["mesh"])
    m = mesh_settings(parse_design(raw))
    return {"size_apex_nm": m.size_apex_m * 1e9, "size_tc_nm": m.size_tc_m * 1e9, "size_far_um": m.size_far_m * 1e6}


def coarse(raw: dict, factor: float = 3.0) -> dict:
    """A copy of a raw design with every mesh size multiplied by ``factor`` (a tiny test mesh)."""
    out = copy.deepcopy(raw)
    m = out["mesh"] = mesh_table(raw)
    m["size_apex_nm"] = min(m["size_apex_nm"] * factor, 2 * raw["tip"]["apex_radius_nm"])
    m["size_tc_nm"] *= factor
    m["size_far_um"] *= factor
    return out


TINY_SIZES = (30.0, 60.0, 1.125)  # apex nm, junction nm, far µm: coarse(reference) as a design file's [mesh]


def coarse_design_file(path, apex_nm: float, tc_nm: float, far_um: float):
    """Write the embedded design file, comments and layout kept, with the given mesh sizes; return the path."""
    import re

    text = embedded_design_path().read_text()
    if not re.search(r"^\[mesh\]", text, re.M):
        text = text.replace(
            "\n[measured]", "\n[mesh]\nsize_apex_nm = 0\nsize_tc_nm = 0\nsize_far_um = 0\n\n[measured]", 1
        )
    for key, value in (("size_apex_nm", apex_nm), ("size_tc_nm", tc_nm), ("size_far_um", far_um)):
        text = re.sub(rf"{key} = \S+", f"{key} = {value:g}", text)
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def tiny_design():
    return parse_design(coarse(raw_reference()), "tiny-ntistp")


@pytest.fixture(scope="session")
def tiny_run(tiny_design):
    """The one calibrate pipeline on the tiny mesh (meshes in the session's cache)."""
    return calibrate(tiny_design, verify_step=True)


@pytest.fixture(scope="session")
def tiny_model(tiny_run):
    return tiny_run.model


@pytest.fixture(scope="session")
def tiny_dynamics(tiny_run):
    return tiny_run.dynamics


@pytest.fixture(scope="session")
def tiny_calibration(tiny_run):
    return tiny_run.calibration


def leaves(tree: dict, path: tuple = ()):
    """Every path to a leaf of a nested mapping, as a tuple of keys."""
    for k, v in tree.items():
        if isinstance(v, dict):
            yield from leaves(v, (*path, k))
        else:
            yield (*path, k)


def legs_k(d) -> float:
    """k_Au + k_Cr of a thermocouple's legs, or twice the lead's k of a resistive design (W/(m·K))."""
    from probe_fem.mesh.probe import region_materials

    names = region_materials(d)
    return d.materials[names["tc_au"]].k_W_mK + d.materials[names["tc_cr"]].k_W_mK


def sum_kA_rectangular(d) -> float:
    """Σ kᵢAᵢ (W·m/K) of the uniform cross-section of a rectangular design, from its values."""
    k = {n: m.k_W_mK for n, m in d.materials.items()}
    tc, W, w = d.thermocouple, d.body.width_m, d.thermocouple.leg_width_m
    return (
        k[d.body.material] * W * d.body.thickness_m
        + legs_k(d) * w * tc.thickness_m
        + k[d.insulator.material] * ((W - 2 * w) * tc.thickness_m + W * d.insulator.thickness_m)
        + k[d.electrode.material] * d.electrode.width_m * d.electrode.thickness_m
    )
