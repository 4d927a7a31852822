"""Meshing in child processes: a crash, a hang or an exception in gmsh's process is a MeshError that says
which task and stage, and the caller goes on."""

from __future__ import annotations

import os
import signal
import time

import pytest

from probe_fem.errors import MeshError
from probe_fem.mesh import worker
from probe_fem.mesh.probe import build_mesh


def _square(report, x):
    report("squaring", 1)
    return x * x


def _crash(report):
    report("volumes", 1234)
    os.kill(os.getpid(), signal.SIGSEGV)


def _hang(report):
    report("surfaces", 0)
    time.sleep(60)


def _raise(report):
    report("checks", 7)
    raise ZeroDivisionError("no volume")


def test_results_come_back_in_order_and_stages_are_reported():
    seen = []
    tasks = [worker.Task(_square, (x,), f"task {x}") for x in range(5)]
    assert worker.run(tasks, parallel=2, on_stage=lambda label, stage: seen.append((label, stage))) == [
        0,
        1,
        4,
        9,
        16,
    ]
    assert sorted(seen) == [(f"task {x}", "squaring") for x in range(5)]


def test_a_segfault_is_a_mesh_error_naming_task_and_stage():
    with pytest.raises(MeshError, match=r"design X at level 1: gmsh crashed during volumes \(signal SIGSEGV\)"):
        worker.run([worker.Task(_crash, (), "design X at level 1")])


def test_a_hang_is_stopped_at_its_stage_limit():
    t0 = time.perf_counter()
    with pytest.raises(MeshError, match="hanging: surfaces took longer than its limit"):
        worker.run([worker.Task(_hang, (), "hanging")], limits=worker.Limits(base_s=0.5, per_item_s=0.0))
    assert time.perf_counter() - t0 < 10


def test_an_exception_in_the_child_names_its_type_and_stage():
    with pytest.raises(MeshError, match="raising: checks failed: ZeroDivisionError: no volume") as info:
        worker.run([worker.Task(_raise, (), "raising")])
    assert any("Traceback" in note for note in info.value.__notes__)  # shown with --debug


def test_the_other_tasks_are_stopped_when_one_fails():
    tasks = [worker.Task(_hang, (), "slow"), worker.Task(_crash, (), "crashing")]
    t0 = time.perf_counter()
    with pytest.raises(MeshError, match="crashing"):
        worker.run(tasks, parallel=2)
    assert time.perf_counter() - t0 < 10


def test_a_crash_inside_the_cad_names_the_design_and_the_level(tiny_design, monkeypatch):
    import probe_fem.mesh.probe as probe

    def crash(d):
        os.kill(os.getpid(), signal.SIGSEGV)

    monkeypatch.setattr(probe, "build_cad", crash)  # the forked child inherits the patch
    with pytest.raises(MeshError, match=r"meshing 'ntistp' at refine 0.7 .*crashed during CAD .*SIGSEGV"):
        build_mesh(tiny_design, refine=0.7)
