"""Calibration object and files: propagation vs Monte Carlo, schema, round trip, bad files, atomic writes."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from probe_fem.calibration.schema import Calibration, CalibrationError, embedded_calibration_path, json_schema
from probe_fem.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def test_first_order_propagation_matches_monte_carlo(tiny_calibration):
    cal = tiny_calibration.model_copy(update={"R_P": tiny_calibration.R_P.model_copy(update={"uncertainty": 1500.0})})
    dV, u_dV = 1.2e-6, 0.03e-6
    Q, uQ = cal.probe_power(dV, u_dV)
    _T, uT = cal.temperature_rise(dV, u_dV)
    rng = np.random.default_rng(7)
    n = 400_000
    V = rng.normal(dV, u_dV, n)
    S = rng.normal(cal.S_TC.value, cal.S_TC.uncertainty, n)
    R = rng.normal(cal.R_P.value, cal.R_P.uncertainty, n)
    assert np.std(V / S / R) == pytest.approx(float(uQ), rel=0.05)
    assert np.std(V / S) == pytest.approx(float(uT), rel=0.05)
    assert float(Q) == pytest.approx(dV / (cal.S_TC.value * cal.R_P.value))


def test_reference_calibration_uses_measured_value_and_keeps_fem(tiny_calibration):
    cal = tiny_calibration
    assert cal.R_P.origin == "measured+fem" and cal.R_P.value == 72_800 and cal.R_P.uncertainty == 500
    assert cal.R_P_fem.origin == "fem" and cal.R_P_fem.value == pytest.approx(72_800, rel=0.02)
    assert cal.S_TC.value == pytest.approx(16.3e-6) and cal.S_TC.origin == "measured"
    assert all(j.valid for j in cal.network.junctions)


def test_shipped_schema_is_the_generated_one():
    shipped = json.loads((ROOT / "calib" / "schema.json").read_text())
    assert shipped == json_schema()


@pytest.mark.parametrize("source", ["shipped", "produced"])
def test_files_validate_against_schema(source, tiny_calibration, tmp_path):
    import jsonschema

    if source == "shipped":
        data = json.loads(embedded_calibration_path().read_text())
    else:
        data = json.loads(tiny_calibration.save(tmp_path / "c.json").read_text())
    jsonschema.validate(data, json.loads((ROOT / "calib" / "schema.json").read_text()))
    bad = dict(data, R_P={**data["R_P"], "uncertainty": -1})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json_schema())


def test_round_trip_is_exact(tiny_calibration, tmp_path):
    path = tiny_calibration.save(tmp_path / "c.json")
    assert Calibration.load(path) == tiny_calibration
    assert Calibration.load(embedded_calibration_path()).probe == "ntistp"


def _text(cal, **change):
    data = json.loads(cal.to_json())
    data.update(change)
    return json.dumps(data)


@pytest.mark.parametrize(
    "case,make,message",
    [
        ("truncated", lambda c: c.to_json()[:200], "not valid JSON"),
        (
            "wrong type",
            lambda c: _text(c, R_P={"value": "big", "uncertainty": 1, "unit": "K/W", "origin": "fem"}),
            "R_P.value",
        ),
        ("newer major", lambda c: _text(c, schema_version="2.0"), "newer probe-fem"),
        ("extra field", lambda c: _text(c, colour="red"), "colour"),
        ("not an object", lambda c: "[1, 2]", "JSON object"),
        (
            "no version",
            lambda c: json.dumps({k: v for k, v in json.loads(c.to_json()).items() if k != "schema_version"}),
            "schema_version",
        ),
    ],
)
def test_bad_files_are_refused_clearly(case, make, message, tiny_calibration, tmp_path):
    path = tmp_path / f"{case.replace(' ', '_')}.json"
    path.write_text(make(tiny_calibration))
    with pytest.raises(CalibrationError) as err:
        Calibration.load(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_failed_export_leaves_previous_file_intact(tiny_calibration, tmp_path, monkeypatch):
    from probe_fem.calibration import exporters

    target = tiny_calibration.save(tmp_path / "c.json")
    before = target.read_bytes()

    def broken(cal, path):
        path.write_text(cal.to_json()[:100])
        raise OSError("disk full")

    monkeypatch.setitem(exporters._WRITERS, "json", broken)
    with pytest.raises(OSError):
        tiny_calibration.save(target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def test_killed_export_never_truncates_the_target(tiny_calibration, tmp_path):
    """A real SIGKILL while the writer is half-way: the target keeps its previous content."""
    target = tiny_calibration.save(tmp_path / "c.json")
    before = target.read_bytes()
    script = f"""
import sys, time
from probe_fem.calibration import exporters
from probe_fem.calibration.schema import Calibration
cal = Calibration.load({str(target)!r})
def slow(cal, path):
    path.write_text(cal.to_json()[:100]); print("half", flush=True); time.sleep(60)
exporters._WRITERS["json"] = slow
cal.save({str(target)!r})
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout.readline().strip() == "half"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert target.read_bytes() == before
    assert Calibration.load(target) == Calibration.load(target)  # still a valid file


def test_csv_and_mat_exports_load_in_their_tools(tiny_calibration, tmp_path):
    src = tiny_calibration.save(tmp_path / "c.json")
    assert main(["export", str(src), "--format", "csv"]) == 0
    assert main(["export", str(src), "--format", "mat"]) == 0
    with open(tmp_path / "c.csv", newline="") as fh:
        rows = {r["quantity"]: r for r in csv.DictReader(fh)}
    assert float(rows["R_P"]["value"]) == tiny_calibration.R_P.value
    assert rows["S_TC"]["unit"] == "V/K"
    mat = scipy.io.loadmat(tmp_path / "c.mat", squeeze_me=True)
    assert float(mat["R_P"]["value"]) == tiny_calibration.R_P.value
    assert float(mat["R_P"]["uncertainty"]) == tiny_calibration.R_P.uncertainty
    assert str(mat["probe"]) == tiny_calibration.probe


def test_export_of_a_bad_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["export", str(bad), "--format", "csv"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "bad.csv").exists()
