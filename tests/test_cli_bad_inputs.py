"""Every ``probe-fem`` command, handed a file it cannot use, exits 2 with one line and writes nothing.

The bad inputs are those that gave tracebacks: bytes that are not UTF-8, arrays nested 2,000 deep,
an integer of 5,000 digits, a path holding a NUL (possible in-process, not from a shell), a folder
and a missing file; for ``study`` also a study file whose ``design`` is one of them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from probe_fem.calibration.schema import embedded_calibration_path
from probe_fem.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = embedded_calibration_path()
DESIGN = ROOT / "geometry" / "ntistp.toml"
STUDY = ROOT / "examples" / "ntistp-uncertainty.toml"
KINDS = ("binary", "deep", "long", "nul", "folder", "missing")


def _bad_files(d: Path) -> dict[str, dict[str, str]]:
    """For each kind, the bad file as a design/study (TOML), a calibration/data file (JSON) and traces."""
    (d / "binary.toml").write_bytes(bytes(range(256)) * 4)
    (d / "deep.toml").write_text("x = " + "[" * 2000 + "]" * 2000 + "\n", encoding="utf-8")
    (d / "deep.json").write_text("[" * 2000 + "]" * 2000, encoding="utf-8")
    long = re.sub(
        r"^length_um = \S+", "length_um = " + "9" * 5000, DESIGN.read_text(encoding="utf-8"), count=1, flags=re.M
    )
    (d / "long.toml").write_text(long, encoding="utf-8")
    (d / "long.json").write_text(re.sub(r'"dofs": \d+', '"dofs": ' + "9" * 5000, SHIPPED.read_text(), count=1))
    (d / "folder").mkdir()
    toml = {k: str(d / f"{k}.toml") for k in ("binary", "deep", "long")}
    toml.update(nul=str(d / "a\0b.toml"), folder=str(d / "folder"), missing=str(d / "absent.toml"))
    return {"toml": toml, "json": dict(toml, deep=str(d / "deep.json"), long=str(d / "long.json"))}


COMMANDS = {  # command → argv for a bad file (t: TOML-like, j: JSON-like), outputs inside the folder
    "calibrate": lambda t, j: ["calibrate", t, "--out", "o", "--calib", "c.json", "--quiet"],
    "mesh": lambda t, j: ["mesh", t, "--out", "m.vtu", "--quiet"],
    "converge": lambda t, j: ["converge", t, "--out", "o", "--quiet"],
    "modulation": lambda t, j: ["modulation", t, "--quiet"],
    "network": lambda t, j: ["network", t, "--quiet"],
    "fit": lambda t, j: ["fit", t, "--target-rp", "72800±500", "--free", "body_length", "--out", "o", "--quiet"],
    "compare": lambda t, j: ["compare", t, "--out", "o", "--quiet"],
    "study": lambda t, j: ["study", t, "--out", "o", "--serial", "--quiet"],
    "export": lambda t, j: ["export", j, "--format", "csv", "--out", "x.csv"],
    "plan": lambda t, j: ["plan", j, "--out", "o"],
    "simulate": lambda t, j: ["simulate", "--calibration", j, "--out", "t.npz"],
    "analyze": lambda t, j: ["analyze", t, "--calibration", str(SHIPPED), "--out", "a.png"],
    "analyze --calibration": lambda t, j: ["analyze", t, "--calibration", j, "--out", "a.png"],
    "fit-junction": lambda t, j: ["fit-junction", j, "--out", "o"],
    "landauer --table": lambda t, j: ["landauer", "--table", t],
}


def _clean_exit(argv: list[str], folder: Path, capsys) -> str:
    """Run ``argv`` in ``folder``; return what is wrong ('' if it exited 2 with one line and wrote nothing)."""
    before = sorted(os.listdir(folder))
    code = main(argv)
    err = capsys.readouterr().err.strip()
    left = sorted(set(os.listdir(folder)) - set(before))
    if code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err and not left:
        return ""
    return f"{argv[:2]}: exit {code}, files left {left}, stderr {err[:300]!r}"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_command_given_a_bad_file_exits_2_in_one_line_and_writes_nothing(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    files = _bad_files(tmp_path)
    problems = [_clean_exit(COMMANDS[command](files["toml"][k], files["json"][k]), tmp_path, capsys) for k in KINDS]
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)


@pytest.mark.parametrize("kind", KINDS)
def test_a_study_whose_design_is_a_bad_file_exits_2_in_one_line(kind, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    design = _bad_files(tmp_path)["toml"][kind]
    study = tmp_path / "study.toml"
    text = STUDY.read_text(encoding="utf-8")
    study.write_text(text.replace('design = "embedded:ntistp"', f"design = {json.dumps(design)}"), encoding="utf-8")
    assert "embedded:ntistp" not in study.read_text(encoding="utf-8")
    problem = _clean_exit(["study", str(study), "--out", "o", "--serial", "--quiet"], tmp_path, capsys)
    assert not problem, problem


@pytest.mark.parametrize(
    "value", ["--junction-conductance=1e400G0", "--junction-resistance=0K/W", "--phonon-conductance=1e999pW/K"]
)
def test_a_network_quantity_that_is_not_finite_and_positive_is_refused_before_the_fem(value, monkeypatch, capsys):
    import probe_fem.model.steady as commands  # the network command imports build_model from here when it runs

    def fem(*args, **kwargs):
        raise AssertionError("the FEM started")

    monkeypatch.setattr(commands, "build_model", fem)
    assert main(["network", value, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "allowed (0, inf)" in err, err
