"""Where outputs go: each file staged on its own target's filesystem, all placed together or none;
output paths and the mesh cache checked before any work.

The slow writers of the results (VTU, figures) are replaced by small files in the staging tests:
what is tested is where files go and when, not their content (tests elsewhere check that).
"""

from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path

import pytest

import probe_fem.pipeline as pipeline
from probe_fem.calibration import Calibration
from probe_fem.calibration.schema import embedded_calibration_path
from probe_fem.errors import InputError


def _small_file(path) -> Path:
    """What a real writer does, quickly: its folder made if needed, the file written."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(b"figure or mesh")
    return Path(path)


@pytest.fixture
def fast_writers(monkeypatch):
    monkeypatch.setattr(pipeline, "write_vtu", lambda p, *a, **k: _small_file(p))
    monkeypatch.setattr(pipeline, "plot_heat_path", lambda model, T, p: _small_file(p))
    monkeypatch.setattr(pipeline, "plot_step", lambda dyn, p: _small_file(p))
    monkeypatch.setattr(pipeline, "plot_bode", lambda dyn, p: _small_file(p))


def _leftovers(*folders: Path) -> list[str]:
    """Temporaries or staging folders anywhere under ``folders``."""
    return [str(p) for f in folders if f.exists() for p in f.rglob("*") if ".tmp" in p.name or "staging" in p.name]


def _no_rename_across_folders(monkeypatch) -> None:
    """os.replace as between two filesystems: a rename from one folder into another fails with EXDEV."""
    real = os.replace

    def replace(src, dst):
        if Path(src).resolve().parent != Path(dst).resolve().parent:
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(src), None, str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_results_and_calibration_in_different_folders_are_never_renamed_across(
    tiny_run, fast_writers, monkeypatch, tmp_path
):
    _no_rename_across_folders(monkeypatch)
    out, calib = tmp_path / "results" / "tiny", tmp_path / "elsewhere" / "tiny.json"
    files = tiny_run.write(out, calib)
    assert files[0] == calib and Calibration.load(calib) == tiny_run.calibration
    assert sorted(p.name for p in out.iterdir()) == sorted(pipeline.CalibrationRun.RESULT_FILES)
    assert not _leftovers(tmp_path)


def test_a_calibration_file_in_dev_shm_is_written(tiny_run, fast_writers, tmp_path):
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("no writable /dev/shm")
    if os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same filesystem as the temporary folder")
    calib = shm / f"probe-fem-test-{uuid.uuid4().hex}.json"
    try:
        tiny_run.write(tmp_path / "out", calib)
        assert Calibration.load(calib) == tiny_run.calibration
        assert not [p for p in shm.iterdir() if p.name.startswith(f".{calib.name}")]
    finally:
        calib.unlink(missing_ok=True)
    assert not _leftovers(tmp_path)


def test_an_interrupted_write_leaves_the_previous_results_and_nothing_else(
    tiny_run, fast_writers, monkeypatch, tmp_path
):
    out, calib = tmp_path / "out", tmp_path / "calib" / "tiny.json"
    tiny_run.write(out, calib)
    before = {p: p.read_bytes() for p in [calib, *out.iterdir()]}

    def interrupted(dyn, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "plot_bode", interrupted)  # the last file: every other one is staged
    renamed = tiny_run.calibration.model_copy(update={"probe": "renamed"})
    monkeypatch.setattr(tiny_run, "calibration", renamed)
    with pytest.raises(KeyboardInterrupt):
        tiny_run.write(out, calib)
    assert {p: p.read_bytes() for p in [calib, *out.iterdir()]} == before
    with pytest.raises(KeyboardInterrupt):
        tiny_run.write(tmp_path / "new" / "out", tmp_path / "new-calib" / "c.json")
    assert not (tmp_path / "new").exists() and not (tmp_path / "new-calib").exists()
    assert not _leftovers(tmp_path)


def test_a_calibration_file_named_like_a_result_is_refused_before_writing(tiny_run, fast_writers, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(InputError, match="also one of the results"):
        tiny_run.write(out, out / "results.json")
    assert not out.exists()


# ---------------------------------------------------------------- output paths and the cache, checked before work
ROOT = Path(__file__).resolve().parents[1]
SHIPPED = embedded_calibration_path()


@pytest.fixture
def no_work(monkeypatch):
    """Make any work of mesh, export, analyze or calibrate fail loudly: refusals must come first."""
    import probe_fem.analysis.demodulation as demodulation
    import probe_fem.mesh.probe as probe

    def work(*args, **kwargs):
        raise AssertionError("the work started before the output path was checked")

    monkeypatch.setattr(probe, "build_mesh", work)
    monkeypatch.setattr(pipeline, "calibrate", work)
    monkeypatch.setattr(Calibration, "load", work)
    monkeypatch.setattr(demodulation.Traces, "load", work)


def _bad_outputs(tmp_path: Path, folder: bool) -> dict[str, Path]:
    """Paths that pass a look at the folder but cannot be written: the temporary beside a 245-character
    file name is longer than a file system allows (a folder: a 260-character name), a pipe, /proc."""
    fifo = tmp_path / "pipe"
    if not fifo.exists():
        os.mkfifo(fifo)
    outputs = {"long name": tmp_path / ("x" * (260 if folder else 245)), "pipe": fifo}
    if Path("/proc/self").is_dir():
        outputs["/proc"] = Path("/proc/probe-fem-test")
    return outputs


COMMANDS = {  # command → (argv with OUT for the output path, suffix the output needs)
    "mesh": (["mesh", "--out", "OUT", "--quiet"], ".vtu"),
    "export": (["export", str(SHIPPED), "--format", "csv", "--out", "OUT"], ".csv"),
    "analyze": (["analyze", "traces.npz", "--calibration", str(SHIPPED), "--out", "OUT"], ".png"),
    "calibrate --out": (["calibrate", "--out", "OUT", "--quiet"], ""),
    "calibrate --calib": (["calibrate", "--calib", "OUT", "--quiet"], ".json"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_output_that_cannot_be_written_is_refused_before_any_work(command, no_work, tmp_path, monkeypatch, capsys):
    from probe_fem.cli.main import main

    monkeypatch.chdir(tmp_path)
    argv, suffix = COMMANDS[command]
    for what, path in _bad_outputs(tmp_path, folder=not suffix).items():
        target = str(path) + (suffix if what != "pipe" else "")
        code = main([target if a == "OUT" else a for a in argv])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and target[:40] in err, (what, code, err)
        assert not [p for p in tmp_path.iterdir() if p.name not in ("pipe",)], (what, list(tmp_path.iterdir()))


@pytest.mark.parametrize("out", ["fig.json", "fig.txt"])
def test_analyze_refuses_a_figure_that_is_not_png_before_any_work(out, no_work, tmp_path, monkeypatch, capsys):
    from probe_fem.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["analyze", "traces.npz", "--calibration", str(SHIPPED), "--out", out]) == 2
    assert ".png" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("calib", ["c.txt", "out/results.json"])
def test_calibrate_refuses_a_calibration_file_it_cannot_write_before_any_work(
    calib, no_work, tmp_path, monkeypatch, capsys
):
    from probe_fem.cli.main import main

    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", "--out", "out", "--calib", calib, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--calib" in err and len(err.splitlines()) == 1, err
    assert not list(tmp_path.iterdir())


def test_a_mesh_cache_that_is_a_file_is_reported_before_any_work(no_work, tmp_path, monkeypatch, capsys):
    from probe_fem.cli.main import main

    cache = tmp_path / "cache-file"
    cache.write_text("not a folder")
    monkeypatch.setenv("PROBE_FEM_CACHE", str(cache))
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("PROBE_FEM_CACHE = ") and "not a folder" in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache-file"]


def test_the_library_checks_the_default_mesh_cache_before_meshing(tiny_design, tmp_path, monkeypatch):
    import probe_fem.pipeline as pl

    cache = tmp_path / "cache-file"
    cache.write_text("not a folder")
    monkeypatch.setenv("PROBE_FEM_CACHE", str(cache))

    def meshing(*args, **kwargs):
        raise AssertionError("meshing started")

    monkeypatch.setattr(pl, "build_model", meshing)
    with pytest.raises(InputError, match="PROBE_FEM_CACHE"):
        pl.calibrate(tiny_design)
