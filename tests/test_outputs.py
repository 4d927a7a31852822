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
