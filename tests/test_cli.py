"""End-to-end CLI on a coarse copy of the reference design: outputs, units, no half-written files."""

from __future__ import annotations

import json

import pytest
from conftest import TINY_SIZES, coarse_design_file

from probe_fem.cli.main import main


@pytest.fixture(scope="module")
def tiny_toml(tmp_path_factory):
    return coarse_design_file(tmp_path_factory.mktemp("design") / "tiny.toml", *TINY_SIZES)


@pytest.fixture(scope="module")
def calibrated(tiny_toml, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    assert (
        main(
            [
                "calibrate",
                str(tiny_toml),
                "--out",
                str(out),
                "--quiet",
                "--calib",
                str(out / "calib.json"),
            ]
        )
        == 0
    )
    return out


def test_calibrate_writes_results_with_units(calibrated):
    data = json.loads((calibrated / "results.json").read_text())
    assert data["R_P_K_per_W"] == pytest.approx(72_800, rel=0.02)
    assert data["heat_balance"]["relative_error"] < 1e-8
    dyn = data["dynamics"]
    assert 5e-6 < dyn["step_response"]["t63_s"] < 20e-6
    assert 5e-6 < dyn["modes"]["dominant_tau_s"] < 20e-6
    assert dyn["frequency_response"]["reduced_vs_direct_max_relative_error"] < 1e-3
    assert dyn["modulation"]["frequency_Hz"] == 12.25
    assert set(data["wall_time_s"]) >= {"meshing", "assembly", "solve", "eigen", "step response"}


def test_calibrate_writes_field_and_figures_and_no_temporaries(calibrated):
    import meshio

    field = meshio.read(calibrated / "temperature.vtu")
    assert "dT_K" in field.point_data and "region" in field.cell_data
    for name in ("heat_path.png", "step_response.png", "bode.png"):
        assert (calibrated / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in calibrated.iterdir() if ".tmp" in p.name]


def test_modulation_command_verdicts(tiny_toml, capsys):
    assert main(["modulation", str(tiny_toml), "--frequency", "12.25", "--quiet"]) == 0
    assert "quasi-static" in capsys.readouterr().out
    assert main(["modulation", str(tiny_toml), "--frequency", "5000", "--quiet"]) == 1
    assert "NOT quasi-static" in capsys.readouterr().out


def test_mesh_command(tiny_toml, tmp_path, capsys):
    assert main(["mesh", str(tiny_toml), "--out", str(tmp_path / "m.vtu"), "--quiet"]) == 0
    assert (tmp_path / "m.vtu").stat().st_size > 0
    out = capsys.readouterr().out
    assert "fingerprint" in out
    assert "legs 2.000 µm (Au) and 2.000 µm (Cr) wide on the body" in out  # the design's leg_width, as meshed
    assert "to the 1 µm stripes at the tip's foot" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["modulation", "--frequency", "-3"],
        ["modulation", "--tolerance", "2"],
        ["modulation", "--levels", "1,0"],
        ["calibrate", "--refine", "0"],
    ],
)
def test_bad_options_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "allowed" in err or "three heat levels" in err


def test_a_failed_computation_exits_1_with_one_message_and_no_traceback(monkeypatch, capsys, tmp_path):
    import probe_fem.pipeline
    from probe_fem.errors import MeshError

    def broken(*args, **kwargs):
        raise MeshError("gmsh could not mesh the geometry: test")

    monkeypatch.setattr(probe_fem.pipeline, "calibrate", broken)
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "calibrate failed: gmsh could not mesh the geometry: test"
    assert not list(tmp_path.iterdir())  # nothing written
    with pytest.raises(MeshError):  # --debug shows the traceback
        main(["--debug", "calibrate", "--quiet"])


def test_every_calibration_argument_falls_back_the_same_way(tmp_path, monkeypatch, capsys):
    """simulate, analyze and plan read calib/ntistp.json when this folder has one, else the shipped one."""
    from probe_fem.calibration.schema import Calibration, embedded_calibration_path

    monkeypatch.chdir(tmp_path)
    argv = ["simulate", "--model", "bda", "--bias", "0.6,0.8", "--junctions", "1", "--seconds", "1", "--quiet"]
    assert main([*argv, "--out", "tr.npz"]) == 0
    assert "shipped in the package" not in capsys.readouterr().err  # quiet
    assert main(["analyze", "tr.npz", "--out", "a.png"]) == 0
    assert f"calibration: {embedded_calibration_path()} (shipped in the package)" in capsys.readouterr().err
    Calibration.load(embedded_calibration_path()).save(tmp_path / "calib" / "ntistp.json")
    assert main(["plan", "--out", "plan"]) == 0
    assert "calibration: calib/ntistp.json (in this folder)" in capsys.readouterr().err


def test_common_options_are_accepted_by_every_command_that_can_use_them():
    """--out by every command that writes a file; --quiet by every command that shows progress or notes."""
    import argparse

    from probe_fem.cli.main import _parser

    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        flags = {f for a in parser._actions for f in a.option_strings}
        # a design or study is built with progress shown; a calibration that may be left out gets a note
        builds = {a.dest for a in parser._actions} & {"design", "designs", "study"}
        falls_back = any(
            a.dest == "calibration" and a.nargs in ("?", None) and a.default is None and not a.required
            for a in parser._actions
        )
        writes = name != "landauer"  # landauer prints a table only
        notes = bool(builds) or falls_back
        assert not writes or "--out" in flags, name
        assert not notes or "--quiet" in flags, name
