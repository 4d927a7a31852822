"""Design studies on tiny meshes: validation, dask (worker processes) = serial, resume, failed points, CLI."""

from __future__ import annotations

import csv
import json
import os
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import coarse_design_file, raw_reference, sum_kA_rectangular

from probe_fem.cli.main import main
from probe_fem.design.load import embedded_design_path, load_design, parse_design
from probe_fem.studies.parameters import DEFAULT_RANGES
from probe_fem.studies.runner import run_study
from probe_fem.studies.spec import StudyError, load_study, parse_study
from probe_fem.studies.table import ResultTable, TableError

VOLATILE = {"seconds_s", "pid", "mesh_cached"}  # differ between runs by nature
FUZZY = {"tau_s", "tau_1_s", "weight_tau", "t63_s", "f_3dB_Hz"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder with a tiny-mesh copy of the reference design (mesh sizes ×6: ~1,700 dofs)."""
    d = tmp_path_factory.mktemp("study")
    coarse_design_file(d / "tiny.toml", 60, 120, 2.25)
    return d


def write_study(folder, name: str, body: str):
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(body))
    return path


LIST_STUDY = """
    [study]
    name = "tiny-list"
    design = "tiny.toml"
    method = "list"
    modes = 4

    [parameters."body.length_um"]
    values = [16.0, 18.28, 5.0, 20.0, 18.28, 18.28]

    [parameters."materials.au_film.k_W_mK"]
    values = [200.0, 150.0, 200.0, 250.0, 150.0, 250.0]
"""
# point 3 cannot hold the tip (a failed point), point 5 repeats point 2 (computed once),
# point 6 differs from point 2 only in k (same mesh).


@pytest.fixture(scope="module")
def list_study(folder):
    return load_study(write_study(folder, "list", LIST_STUDY))


@pytest.fixture(scope="module")
def serial(list_study, tmp_path_factory):
    return run_study(list_study, tmp_path_factory.mktemp("serial") / "results.csv", serial=True)


def assert_same_results(a: dict[str, dict], b: dict[str, dict]) -> None:
    """Rows of two runs agree: exactly, except the run-dependent columns and those moved in the last digits by
    the eigen-solver's random start vector (ARPACK): τ and what depends on it, to 1e-9."""
    assert set(a) == set(b)
    for k in a:
        for c in a[k]:
            if c in FUZZY and a[k][c] is not None:
                assert a[k][c] == pytest.approx(b[k][c], rel=1e-9), (k, c)
            elif c not in VOLATILE:
                assert a[k][c] == b[k][c], (k, c)


# ---------------------------------------------------------------- running
def test_serial_run_records_every_design_once_and_the_failed_point(serial, list_study, folder):
    keys = serial.point_keys
    assert len(keys) == 6 and keys[1] == keys[4] and len(set(keys)) == 5
    assert serial.complete and not serial.interrupted
    assert sorted(serial.computed) == sorted(set(keys))
    failed = serial.failed
    assert failed == [keys[2]]
    err = serial.rows[keys[2]]["error"]
    assert err.startswith("design: ") and "body.length_um = 5.0" in err and "hold the coated tip" in err
    ok = [serial.rows[k] for k in set(keys) - {keys[2]}]
    assert all(r["status"] == "ok" and len(r["design_fingerprint"]) == 16 for r in ok)
    R = serial.column("R_P_K_per_W")
    # R_P grows with the body length by ΔL / Σ kᵢAᵢ of the cross-section; it falls with k_Au, a little less
    # than 1/k_Au (the Au films carry most of the heat, SiN and Cr the rest)
    d = load_design(folder / "tiny.toml")
    d250 = d.with_values({"materials.au_film.k_W_mK": 250.0})
    assert R[3] - R[5] == pytest.approx((20 - 18.28) * 1e-6 / sum_kA_rectangular(d250), rel=0.03)
    assert 0.85 * 250 / 150 < R[1] / R[5] < 250 / 150
    assert np.isnan(R[2]) and R[1] == R[4]
    # point 6 changes only k_Au: it reuses point 2's mesh (in memory, keyed by the geometry)
    assert serial.rows[keys[5]]["mesh_cached"] is True
    assert serial.rows[keys[5]]["mesh_fingerprint"] == serial.rows[keys[1]]["mesh_fingerprint"]
    tau = serial.column("tau_s")
    assert np.all((tau[~np.isnan(tau)] > 5e-6) & (tau[~np.isnan(tau)] < 30e-6))
    # the table on disk holds exactly these rows, floats exactly
    rows, notes = ResultTable.for_study(serial.table, list_study).load()
    assert not notes and rows == serial.rows


def test_two_worker_local_cluster_gives_the_serial_results(serial, list_study, tmp_path):
    run = run_study(list_study, tmp_path / "results.csv", workers=2)
    assert run.executor.startswith("dask local cluster (2 worker processes")
    assert run.workers == 2 and run.complete
    assert_same_results(run.rows, serial.rows)  # fingerprints, mesh fingerprints and R_P exactly
    assert sum(r["status"] == "ok" for r in run.rows.values()) == 4
    assert all(r["pid"] != os.getpid() for r in run.rows.values() if r["status"] == "ok")  # run in workers


def test_interrupted_study_resumes_without_recomputing_finished_points(serial, list_study, tmp_path):
    table = tmp_path / "results.csv"
    first = run_study(list_study, table, serial=True, max_new=2)
    assert first.interrupted and len(first.computed) == 2
    done = {k: dict(first.rows[k]) for k in first.computed}
    with open(table, "a") as f:  # the process was killed while writing the next row
        f.write(next(iter(serial.rows)) + ",abc,o")
    second = run_study(list_study, table, serial=True)
    assert any("incomplete last line" in n for n in second.notes)
    assert not set(second.computed) & set(done)  # nothing finished is recomputed
    assert sorted(second.computed + first.computed) == sorted(set(serial.point_keys))
    assert all(second.rows[k] == v for k, v in done.items())  # the same rows, time and pid included
    assert_same_results(second.rows, serial.rows)
    third = run_study(list_study, table, serial=True)
    assert third.computed == [] and third.complete
    with open(table) as f:  # one row per design, no duplicate from the interrupted write
        keys = [r["key"] for r in csv.DictReader(f)]
    assert sorted(keys) == sorted(set(serial.point_keys))


def test_failed_points_are_kept_unless_retried(serial, list_study, tmp_path):
    table = tmp_path / "results.csv"
    shutil.copy(serial.table, table)
    again = run_study(list_study, table, serial=True, retry_failed=True)
    assert again.computed == serial.failed


def test_a_table_from_another_study_is_refused(serial, folder, tmp_path):
    other = load_study(
        write_study(folder, "other", LIST_STUDY.replace('"materials.au_film.k_W_mK"', '"materials.cr_film.k_W_mK"'))
    )
    shutil.copy(serial.table, tmp_path / "results.csv")
    with pytest.raises(TableError, match="written by another study"):
        run_study(other, tmp_path / "results.csv", serial=True)


def test_study_command_on_an_existing_cluster_writes_table_summary_and_figures(folder, tmp_path, capsys):
    from distributed import LocalCluster

    path = write_study(
        folder,
        "lhs",
        """
        [study]
        name = "tiny-lhs"
        design = "tiny.toml"
        method = "latin-hypercube"
        samples = 8
        seed = 3
        modes = 4

        [parameters."materials.au_film.k_W_mK"]
        distribution = "uniform"

        [parameters."materials.sin_lpcvd.k_W_mK"]
        distribution = "normal"
        mean = 2.5
        std = 0.4
    """,
    )
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main(["study", str(path), "--scheduler", cluster.scheduler_address, "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "propagated uncertainty" in text and "Sobol' sensitivity" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["executor"].startswith("dask scheduler tcp://") and summary["workers"] == 2
    assert summary["points"] == 8 and summary["computed"] == 8 and summary["failed"] == []
    st = summary["statistics"]["R_P_K_per_W"]
    assert st["n"] == 8 and st["std"] > 0.05 * st["mean"]  # k_Au over 120-300 W/(m K) moves R_P by tens of %
    ranking = summary["sensitivity"]["R_P_K_per_W"]["sobol"]["ranking_by_ST"]
    assert ranking[0] == "materials.au_film.k_W_mK"
    for name in ("histograms.png", "sensitivity.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    lo, hi, _ = DEFAULT_RANGES["materials.au_film.k_W_mK"]
    assert len(rows) == 8 and all(lo <= float(r["materials.au_film.k_W_mK"]) <= hi for r in rows)
    assert {"R_P_K_per_W", "tau_s", "f_3dB_Hz", "t63_s"} <= set(rows[0])
    assert not [p for p in out.iterdir() if ".tmp" in p.name]
    # run again: everything is reused, nothing computed (serial: no cluster needed for nothing)
    assert main(["study", str(path), "--serial", "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "summary.json").read_text())["computed"] == 0


# ---------------------------------------------------------------- validation (no meshing)
def base(**extra) -> dict:
    study = {"name": "s", "design": f"{embedded_design_path()}", "method": "latin-hypercube", "samples": 4}
    study.update(extra)
    return {"study": study, "parameters": {"materials.au_film.k_W_mK": {"distribution": "uniform"}}}


def problems(raw: dict) -> list[str]:
    with pytest.raises(StudyError) as e:
        parse_study(raw, "s.toml")
    return e.value.messages


BAD = {
    "unknown key": (lambda r: r["study"].update(colour="red"), ["study.colour: unknown key (allowed: name, "]),
    "refine out of range": (
        lambda r: r["study"].update(refine=0.0),
        ["study.refine = 0.0: input should be greater than or equal to 0.1 (allowed [0.1, 16])"],
    ),
    "unknown method": (lambda r: r["study"].update(method="random"), ["study.method = 'random'", "'grid'"]),
    "no samples": (lambda r: r["study"].pop("samples"), ["study.samples: missing; method 'latin-hypercube'"]),
    "sobol not power of 2": (
        lambda r: r["study"].update(method="sobol", samples=12),
        ["study.samples = 12", "power of 2"],
    ),
    "missing design": (
        lambda r: r["study"].update(design="nowhere.toml"),
        ["study.design = 'nowhere.toml'", "cannot read"],
    ),
    "unknown parameter": (
        lambda r: r["parameters"].update({"body.colour_um": {"distribution": "uniform"}}),
        ['parameters."body.colour_um"', "unknown key", "length_um"],
    ),
    "other unit than the file": (
        lambda r: r["parameters"].update({"body.length_nm": {"values": [1.0]}}),
        ["body.length_nm", "writes this length as body.length_um"],
    ),
    "not a number in the design": (
        lambda r: r["parameters"].update({"body.material": {"distribution": "uniform"}}),
        ["body.material = 'sin_lpcvd'", "not a number"],
    ),
    "no default range": (
        lambda r: r["parameters"].update({"tip.setback_um": {"distribution": "uniform"}}),
        ['parameters."tip.setback_um"', "give low and high um", "no default range"],
    ),
    "outside the design's range": (
        lambda r: r["parameters"].update(
            {"materials.cr_film.k_W_mK": {"distribution": "uniform", "low": -5.0, "high": 60.0}}
        ),
        [
            'parameters."materials.cr_film.k_W_mK".low: -5 W/(m·K) is outside the design\'s allowed range: '
            "input should be greater than 0 (allowed (0, 5000] W/(m·K))"
        ],
    ),
    "normal without std": (
        lambda r: r["parameters"].update({"materials.sin_lpcvd.k_W_mK": {"distribution": "normal", "mean": 2.5}}),
        ["std: missing"],
    ),
    "mean outside bounds": (
        lambda r: r["parameters"].update(
            {"materials.sin_lpcvd.k_W_mK": {"distribution": "normal", "mean": 4.0, "std": 0.4}}
        ),
        ["mean = 4.0: must lie within [low, high] = [1.5, 3.2] W/(m·K)"],
    ),
    "negative std": (
        lambda r: r["parameters"].update(
            {"materials.sin_lpcvd.k_W_mK": {"distribution": "normal", "mean": 2.5, "std": -1.0}}
        ),
        ['parameters."materials.sin_lpcvd.k_W_mK".std = -1.0: input should be greater than 0'],
    ),
    "values in a sampled study": (
        lambda r: r["parameters"].update({"body.length_um": {"values": [15.0, 16.0]}}),
        ["values: not used by method 'latin-hypercube'"],
    ),
    "unknown parameter field": (
        lambda r: r["parameters"]["materials.au_film.k_W_mK"].update(sigma=3.0),
        ['parameters."materials.au_film.k_W_mK".sigma: unknown key'],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_study_files_name_field_value_and_range(case):
    change, expected = BAD[case]
    raw = base()
    change(raw)
    text = "\n".join(problems(raw))
    for fragment in expected:
        assert fragment in text


def test_grid_and_list_rules():
    grid = base(method="grid")
    grid["study"].pop("samples")
    grid["parameters"] = {
        "body.length_um": {"start": 16.0, "stop": 20.0, "num": 3},
        "materials.au_film.k_W_mK": {"values": [150.0, 250.0]},
    }
    s = parse_study(grid)
    X = s.values()
    assert X.shape == (6, 2) and sorted(set(X[:, 0])) == [16.0, 18.0, 20.0] and sorted(set(X[:, 1])) == [150, 250]
    assert s.points()[0] == {"body.length_um": 16.0, "materials.au_film.k_W_mK": 150.0}
    grid["parameters"]["body.length_um"] = {"start": 16.0, "stop": 20.0, "distribution": "uniform"}
    text = "\n".join(problems(grid))
    assert "start, stop and num go together (missing: num)" in text
    assert "distribution: not used by method 'grid'" in text
    lst = dict(
        grid,
        study=dict(grid["study"], method="list"),
        parameters={"body.length_um": {"values": [16.0, 17.0]}, "materials.au_film.k_W_mK": {"values": [150.0]}},
    )
    assert "equally many values per parameter" in problems(lst)[0]


def test_every_problem_is_reported_at_once():
    raw = base(refine=50.0)
    raw["parameters"]["body.width_nm"] = {"distribution": "uniform"}
    raw["parameters"]["materials.au_film.k_W_mK"] = {"distribution": "lognormal", "median": 200.0}
    msgs = problems(raw)
    assert len(msgs) == 1 and "study.refine = 50.0" in msgs[0]  # the file structure is checked first
    raw["study"]["refine"] = 0.5
    msgs = problems(raw)
    assert len(msgs) == 2
    assert any("body.width_nm" in m and "body.width_um" in m for m in msgs)
    assert any("sigma_ln: missing" in m for m in msgs)


def test_study_command_rejects_a_bad_file_with_exit_2_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(
        '[study]\nname = "bad"\ndesign = "embedded:ntistp"\nmethod = "grid"\nrefine = 0.5\n'
        '[parameters."body.length_um"]\nvalues = [16, -3]\n'
        '[parameters."materials.au_film.k_W_mK"]\nstart = 100\nstop = 300\n'
    )
    out = tmp_path / "out"
    assert main(["study", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"invalid study {path}" in err
    assert (
        'parameters."body.length_um".values: -3 um is outside the design\'s allowed range: '
        "input should be greater than 0 (allowed (0, 1000] um)" in err
    )
    assert 'parameters."materials.au_film.k_W_mK": start, stop and num go together (missing: num)' in err
    path.write_text(path.read_text().replace("refine = 0.5", "refine = 99"))
    assert main(["study", str(path), "--out", str(out)]) == 2
    assert "study.refine = 99: input should be less than or equal to 16 (allowed [0.1, 16])" in capsys.readouterr().err
    assert not out.exists()
    assert main(["study", str(path), "--serial", "--workers", "2"]) == 2
    assert "--workers sets the size of the local cluster" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["study", str(path), "--scheduler", "localhost"])
    assert e.value.code == 2 and "tcp://HOST:PORT" in capsys.readouterr().err


def test_reference_example_is_a_valid_modest_study():
    s = load_study(Path(__file__).resolve().parents[1] / "examples" / "ntistp-uncertainty.toml")
    assert s.method == "latin-hypercube" and 16 <= len(s.points()) <= 32
    assert s.base.fingerprint() == parse_design(raw_reference()).fingerprint()
    X = s.values()
    for j, p in enumerate(s.parameters):
        assert p.low <= X[:, j].min() and X[:, j].max() <= p.high
