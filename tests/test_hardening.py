"""Every file and argument a user hands in, and every file we write.

Property-based suites (hypothesis, fixed seed, bounded counts; ``--hypothesis-profile=long`` for a
release run) mutate the reference design, study and calibration files and the CLI's numbers:
each generated input is accepted (and then usable) or refused with an InputError naming a field —
never another exception.  Process-level tests kill exports and interrupt calibrate.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pytest
from conftest import TINY_SIZES, coarse, coarse_design_file, leaves, raw_reference
from hypothesis import given
from hypothesis import strategies as st

from probe_fem.calibration import Calibration, CalibrationError
from probe_fem.calibration.schema import embedded_calibration_path
from probe_fem.cli.common import bounded
from probe_fem.cli.main import main
from probe_fem.cli.plan import duration
from probe_fem.design import DesignError, parse_design
from probe_fem.studies.spec import StudyError, parse_study

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = embedded_calibration_path()
STUDY = ROOT / "examples" / "ntistp-uncertainty.toml"

WEIRD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.booleans(),
    st.text(max_size=12),
    st.just(1e-300),
    st.just(".."),
    st.just("../../x"),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _mutate(tree, data, n_max=3):
    out = copy.deepcopy(tree)
    paths = list(leaves(out))
    for _ in range(data.draw(st.integers(1, n_max))):
        path = data.draw(st.sampled_from(paths))
        node = out
        for k in path[:-1]:
            node = node[k]
        action = data.draw(st.sampled_from(["set", "set", "delete", "add"]))
        if action == "delete":
            node.pop(path[-1], None)
        elif action == "add":
            node[data.draw(st.sampled_from(["length_um", "colour", "k_W_mK", "x_nm"]))] = data.draw(WEIRD)
        else:
            node[path[-1]] = data.draw(WEIRD)
    return out


ACCEPTED_DESIGNS: list = []
TRIED = {"design": 0, "study": 0, "calibration": 0, "numbers": 0}


@given(st.data())
def test_design_reader_accepts_or_names_the_field(data):
    TRIED["design"] += 1
    raw = _mutate(raw_reference(), data)
    try:
        design = parse_design(raw, "mutated.toml")
    except DesignError as exc:
        assert exc.messages and all(isinstance(m, str) and m for m in exc.messages)
        return
    if len(ACCEPTED_DESIGNS) < 3:
        ACCEPTED_DESIGNS.append(raw)
    assert design.fingerprint()


def test_accepted_mutated_designs_mesh_and_solve_on_a_tiny_mesh():
    from probe_fem.model.steady import build_model, solve_steady

    assert ACCEPTED_DESIGNS, "the design suite ran first and accepted some mutations"
    for raw in ACCEPTED_DESIGNS[:2]:
        design = parse_design(coarse(raw), "accepted")
        report, _ = solve_steady(build_model(design))
        assert math.isfinite(report.R_P) and report.R_P > 0


@given(st.data())
def test_study_reader_accepts_or_names_the_field(data):
    TRIED["study"] += 1
    raw = _mutate(tomllib.loads(STUDY.read_text(encoding="utf-8")), data)
    try:
        parse_study(raw, "mutated-study.toml")
    except StudyError as exc:
        assert exc.messages


@given(st.data())
def test_calibration_reader_accepts_or_names_the_field(data):
    TRIED["calibration"] += 1
    raw = _mutate(json.loads(SHIPPED.read_text(encoding="utf-8")), data)
    try:
        text = json.dumps(raw)
    except (ValueError, OverflowError):
        return  # not JSON at all (e.g. a 400-digit float); json refuses to write it
    try:
        cal = Calibration.from_json(text, "mutated.json")
    except CalibrationError as exc:
        assert str(exc)
        return
    q, u = cal.probe_power(1e-6, 1e-8)
    assert math.isfinite(float(q)) and math.isfinite(float(u))
    with tempfile.TemporaryDirectory() as tmp:
        back = Calibration.load(cal.save(Path(tmp) / "back.json"))
    assert back == cal  # whatever we accept, we write so that it reads back


@given(st.text(max_size=30))
def test_cli_numbers_are_in_range_or_refused(text):
    TRIED["numbers"] += 1
    for parse, lo, hi in ((bounded(float, 0.1, 16), 0.1, 16), (bounded(int, 1, 1000), 1, 1000)):
        try:
            v = parse(text)
        except argparse.ArgumentTypeError:
            continue
        assert math.isfinite(v) and lo <= v <= hi
    try:
        d = duration(text)
    except argparse.ArgumentTypeError:
        return
    assert math.isfinite(d) and d >= 0


def test_report_how_many_inputs_were_tried():
    print("hardening suites tried:", TRIED)
    assert all(n > 0 for n in TRIED.values())


def test_files_that_are_not_utf8_are_refused_by_every_reader(tmp_path):
    from probe_fem.analysis.junction_data import JunctionDataError, load_junction_data
    from probe_fem.analysis.noise import NoiseError, load_psd
    from probe_fem.design import load_design
    from probe_fem.studies import load_study

    bad = tmp_path / "latin1.toml"
    bad.write_bytes('name = "Déjà"\n'.encode("latin-1"))
    for reader, error in (
        (load_design, DesignError),
        (load_study, StudyError),
        (Calibration.load, CalibrationError),
        (load_psd, NoiseError),
        (load_junction_data, JunctionDataError),
    ):
        with pytest.raises(error, match="UTF-8"):
            reader(bad)


def test_design_errors_are_reported_together_with_type_errors():
    raw = raw_reference()
    raw["body"]["length_um"] = "x"  # a type error ...
    raw["tip"].update(base_um=40, height_um=28)  # ... and a geometry error elsewhere
    raw["name"] = ".."  # ... and an unsafe name
    with pytest.raises(DesignError) as err:
        parse_design(raw, "bad.toml")
    text = str(err.value)
    assert "body.length_um = 'x'" in text and "footprint wider than the body" in text and "name = '..'" in text


@pytest.mark.parametrize(
    "field, value", [("length_um", 1e-300), ("length_um", True), ("length_um", 10**400), ("length_um", "18")]
)
def test_numbers_that_broke_the_cad_kernel_are_refused_before_meshing(field, value):
    raw = raw_reference()
    raw["body"][field] = value
    with pytest.raises(DesignError, match=f"body.{field}"):
        parse_design(raw, "bad.toml")


@pytest.mark.parametrize("argv", [["--refine", "nan"], ["--refine", "inf"], ["--refine", "1" + "0" * 400]])
def test_cli_refuses_non_finite_numbers(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["calibrate", *argv])
    assert exc.value.code == 2 and "--refine" in capsys.readouterr().err


@pytest.mark.parametrize(
    "field, value", [("value", 0), ("value", -1), ("value", float("nan")), ("value", float("inf")), ("value", 1e300)]
)
def test_calibration_values_must_be_finite_and_positive(field, value):
    raw = json.loads(SHIPPED.read_text())
    raw["S_TC"][field] = value
    with pytest.raises(CalibrationError, match=r"S_TC.value"):
        Calibration.from_json(json.dumps(raw))


def test_output_paths_are_checked_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    t0 = time.perf_counter()
    assert main(["calibrate", "--out", str(blocker / "sub"), "--quiet"]) == 2
    assert time.perf_counter() - t0 < 5  # refused before meshing
    assert "--out" in capsys.readouterr().err
    assert main(["plan", str(SHIPPED), "--out", str(blocker)]) == 2


def test_export_follows_format_and_refuses_a_mismatching_suffix(tmp_path, capsys):
    assert main(["export", str(SHIPPED), "--format", "csv", "--out", str(tmp_path / "x.mat")]) == 2
    assert "must end in .csv" in capsys.readouterr().err
    assert not (tmp_path / "x.mat").exists()


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = Calibration.load(SHIPPED).save(tmp_path / "c.json")
    finally:
        os.umask(old)
    assert (path.stat().st_mode & 0o777) == 0o644


def test_a_corrupt_mesh_cache_entry_is_rebuilt(tmp_path):
    from probe_fem.mesh.cache import forget
    from probe_fem.mesh.probe import build_mesh, geometry_key

    design = parse_design(coarse(raw_reference()), "tiny")
    first = build_mesh(design, cache=str(tmp_path))
    entry = tmp_path / f"{geometry_key(design, 1.0)}.npz"
    assert entry.exists()
    entry.write_bytes(b"PK\x03\x04 not a zip any more")
    forget()  # the memory copy would hide the file
    again = build_mesh(design, cache=str(tmp_path))
    assert again.mesh.fingerprint() == first.mesh.fingerprint()


KILL_LOOP = """
import sys
from probe_fem.calibration import Calibration
cal = Calibration.load(sys.argv[1])
print("ready", flush=True)
while True:
    cal.save(sys.argv[2], "mat")
"""


def test_sigkilled_exports_leave_a_complete_file_and_no_temporaries(tmp_path):
    import scipy.io

    target = tmp_path / "cal.mat"
    Calibration.load(SHIPPED).save(target)
    for i in range(8):
        p = subprocess.Popen([sys.executable, "-c", KILL_LOOP, str(SHIPPED), str(target)], stdout=subprocess.PIPE)
        assert p.stdout.readline().strip() == b"ready"
        time.sleep(0.05 + 0.03 * i)
        p.kill()
        p.wait()
        assert scipy.io.loadmat(target)  # always a complete file
    Calibration.load(SHIPPED).save(target)  # the next write cleans up after the killed ones
    assert sorted(x.name for x in tmp_path.iterdir()) == ["cal.mat"]


def test_interrupted_calibrate_exits_130_and_leaves_no_partial_results(tmp_path):
    """Ctrl-C at several moments once probe-fem's own code runs (the child says "ready" just before).  An
    interrupt during the interpreter's start-up (site, runpy) ends Python by the signal, which no program can
    change: a fixed delay from the start landed there on a fresh, busy machine."""
    design = coarse_design_file(tmp_path / "tiny.toml", *TINY_SIZES)
    launcher = "import sys, probe_fem.cli; print('ready', flush=True); probe_fem.cli.console_main()"
    for i, delay in enumerate((0.5, 1.5, 2.5, 3.5, 5.0)):
        out, calib = tmp_path / f"out{i}", tmp_path / f"calib{i}.json"
        argv = ["calibrate", str(design), "--quiet", "--no-cache", "--out", str(out), "--calib", str(calib)]
        p = subprocess.Popen([sys.executable, "-c", launcher, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        if p.returncode == 0:  # finished, or the signal came once results were being put in place: complete
            assert json.loads((out / "results.json").read_text()) and calib.exists()
            continue
        assert p.returncode == 130, err.decode()[-500:]
        assert not out.exists() and not calib.exists()
        assert not [x for x in tmp_path.iterdir() if "staging" in x.name or ".tmp" in x.name]


def _ctrl_c_at_the_first_rename(monkeypatch) -> None:
    """os.replace that delivers SIGINT to this process at its first call, before doing its work."""
    import probe_fem.io as io

    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        real(src, dst)

    monkeypatch.setattr(io.os, "replace", replace)


def test_a_ctrl_c_during_the_renames_is_held_until_every_output_is_in_place(tmp_path, monkeypatch):
    from probe_fem.io import InterruptedAfterWriting, staged_outputs

    _ctrl_c_at_the_first_rename(monkeypatch)
    targets = [tmp_path / "a" / "one.txt", tmp_path / "two.txt"]
    with pytest.raises(InterruptedAfterWriting) as caught:
        with staged_outputs() as stage:
            for i, t in enumerate(targets):
                stage.path(t).write_text(f"file {i}")
    assert caught.value.paths == targets
    assert [t.read_text() for t in targets] == ["file 0", "file 1"]  # both complete, none split off
    assert sorted(x.name for x in tmp_path.rglob("*")) == ["a", "one.txt", "two.txt"]  # no temporary left
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the caller's handler is back


FINISH_SCRIPT = """
import os, signal, sys
from pathlib import Path
import probe_fem.io as io
io.finish_once_written()
real = os.replace
def replace(src, dst):
    os.kill(os.getpid(), signal.SIGINT)
    real(src, dst)
io.os.replace = replace
folder = Path(sys.argv[1])
try:
    with io.atomic_path(folder / "cache.npz", final=False) as tmp:
        tmp.write_text("intermediate")
except KeyboardInterrupt:
    print("an intermediate file keeps Ctrl-C live", flush=True)
io.write_text(folder / "result.txt", "complete")
print("a result makes the command finish", flush=True)
"""


def test_a_command_finishes_once_its_first_result_is_in_place(tmp_path):
    """The CLI's promise (exit 130 = no result written) rests on this: from the first result renamed into
    place, Ctrl-C is ignored; intermediate files (mesh cache, a study's table) leave it live."""
    p = subprocess.run([sys.executable, "-c", FINISH_SCRIPT, str(tmp_path)], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()[-500:]
    assert p.stdout.decode().splitlines() == [
        "an intermediate file keeps Ctrl-C live",
        "a result makes the command finish",
    ]
    assert (tmp_path / "cache.npz").read_text() == "intermediate"
    assert (tmp_path / "result.txt").read_text() == "complete"


def test_two_runs_write_bit_identical_calibration_files(tmp_path, monkeypatch, tiny_design):
    from probe_fem.pipeline import calibrate

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = [calibrate(tiny_design).calibration.save(tmp_path / f"run{i}.json") for i in (1, 2)]
    assert files[0].read_bytes() == files[1].read_bytes()
