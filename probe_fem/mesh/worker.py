"""Meshing in child processes: a gmsh crash or hang becomes a :class:`MeshError`, not the end of the program.

gmsh is C++ in this process's address space: a segmentation fault in OCC or in the
3-D boundary recovery would kill the caller, and a mesher caught in a loop would
never return.  :func:`run` therefore runs each task in a child process (forked, so a
task starts in milliseconds) and watches it: the child reports each stage it enters
with a count of what it has made so far, and each stage gets a time limit scaled to
that count (:class:`Limits`).  A crash
(the child dies by a signal), a stage over its limit, or an exception in the child
raises :class:`MeshError` naming the task, the stage and the reason.  Tasks run
side by side, at most ``parallel`` at a time (two mesh levels on two cores).

A daemonic process (a dask worker) may not have children: there the task runs in
the process itself, and the worker process is the isolation (its nanny restarts it
after a crash and the study records the point as failed).
"""

from __future__ import annotations

import faulthandler
import multiprocessing as mp
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from probe_fem.errors import MeshError

Report = Callable[[str, int], None]  # (stage entered, count of what the previous stage made)


@dataclass(frozen=True)
class Task:
    """``function(report, *args)`` run in a child; ``label`` names it in errors and progress."""

    function: Callable[..., Any]
    args: tuple
    label: str


@dataclass(frozen=True)
class Limits:
    """Time limit of a stage: ``base_s`` plus ``per_item_s`` per item the previous stage made
    (1-D nodes before the surfaces, triangles before the volumes, tetrahedra before the checks)."""

    base_s: float = 60.0
    per_item_s: float = 2e-3

    def of(self, count: int) -> float:
        return self.base_s + self.per_item_s * max(count, 0)


def _context() -> Any:
    """Fork on Linux: the child starts at once with the caller's modules and needs no ``__main__`` guard
    in the user's script (it only runs gmsh and numpy, and talks through its pipe).  Elsewhere spawn."""
    return mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _child(task: Task, conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends the child
    faulthandler.disable()  # a crash is reported by the parent, in one line

    def report(stage: str, count: int) -> None:
        conn.send(("stage", stage, count))

    try:
        conn.send(("done", task.function(report, *task.args)))
    except BaseException as exc:  # everything goes back to the parent as a message
        conn.send(("error", exc if isinstance(exc, MeshError) else None, f"{type(exc).__name__}: {exc}"))
        conn.send(("trace", traceback.format_exc()))
    finally:
        conn.close()


@dataclass
class _Running:
    task: Task
    index: int
    process: Any
    conn: Connection
    stage: str = "starting"
    deadline: float = 0.0


def run(
    tasks: Sequence[Task],
    limits: Limits = Limits(),  # frozen: a safe default
    parallel: int = 2,
    on_stage: Callable[[str, str], None] | None = None,
) -> list[Any]:
    """Run the tasks in child processes (at most ``parallel`` at once); their results in order.

    ``on_stage(label, stage)`` is called as each task enters a stage (for progress)."""
    if mp.current_process().daemon:
        return [t.function(lambda stage, n, t=t: on_stage and on_stage(t.label, stage), *t.args) for t in tasks]
    ctx = _context()
    results: list[Any] = [None] * len(tasks)
    queue = list(enumerate(tasks))
    running: list[_Running] = []
    try:
        while queue or running:
            while queue and len(running) < max(parallel, 1):
                running.append(_start(ctx, *queue.pop(0), limits))
            ready = wait([r.conn for r in running], timeout=max(0.05, min(r.deadline for r in running) - time.time()))
            for r in list(running):
                if r.conn in ready:
                    done = _receive(r, limits, on_stage)
                elif time.time() > r.deadline:
                    raise MeshError(f"{r.task.label}: {r.stage} took longer than its limit; stopped")
                else:
                    continue
                if done is not _PENDING:
                    results[r.index] = done
                    _stop(r)
                    running.remove(r)
    finally:
        for r in running:
            _stop(r)
    return results


_PENDING = object()


def _start(ctx: Any, index: int, task: Task, limits: Limits) -> _Running:
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(task, child), daemon=True)
    process.start()
    child.close()
    return _Running(task, index, process, parent, deadline=time.time() + limits.of(0))


def _receive(r: _Running, limits: Limits, on_stage: Callable[[str, str], None] | None) -> Any:
    """Handle one message of a child: a stage (new deadline), its result, its error, or its death."""
    try:
        msg = r.conn.recv()
    except EOFError:
        r.process.join(5)
        code = r.process.exitcode
        how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        raise MeshError(f"{r.task.label}: gmsh crashed during {r.stage} ({how})") from None
    if msg[0] == "stage":
        r.stage, r.deadline = msg[1], time.time() + limits.of(msg[2])
        if on_stage:
            on_stage(r.task.label, msg[1])
        return _PENDING
    if msg[0] == "error":
        err = MeshError(
            f"{r.task.label}: {msg[1]}" if msg[1] is not None else f"{r.task.label}: {r.stage} failed: {msg[2]}"
        )
        if r.conn.poll(5):
            err.add_note("in the meshing process:\n" + r.conn.recv()[1])  # shown with the traceback
        raise err
    return msg[1]


def _stop(r: _Running) -> None:
    if r.process.is_alive():
        r.process.kill()
    r.process.join()
    r.conn.close()
