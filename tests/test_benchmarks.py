"""The benchmark suite's smoke run: it runs end to end, prints its tables and writes its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # ~3 min on 2 cores (every case, dask clusters included): `python -m pytest -m slow`
def test_benchmark_smoke_run(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "targets" in proc.stdout
    data = json.loads(out.read_text())
    levels = data["accuracy_levels"]
    assert [lv["dofs"] for lv in levels] == sorted(lv["dofs"] for lv in levels)
    assert all(lv["sweep_vs_direct_error"] < 1e-3 for lv in levels)
    peer = levels[0]["ngsolve"]
    if "skipped" not in peer:  # the optional peer: same P1 system, same answer
        assert peer["R_P_relative_difference"] < 1e-6
    assert data["calibrate"]["wall_s"] > 0 and {t["target"] for t in data["targets"]}
