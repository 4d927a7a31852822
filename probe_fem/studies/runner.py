"""Planning and running a study: every point's key, then evaluation serially or on dask, streamed to the table.

:func:`plan` computes each point's design fingerprint (no meshing) so that
points already in the results table are reused; :func:`run_study` evaluates
the rest with :func:`probe_fem.studies.evaluate.evaluate_point`, in this
process (``serial``) or on dask.distributed worker *processes* (gmsh is one
global instance per process), appending each row to the CSV table as it
completes.  A failed point is recorded with its error and the study goes on.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from probe_fem.design.load import parse_design
from probe_fem.design.schema import DesignError
from probe_fem.studies.evaluate import evaluate_point, invalid_key, point_key
from probe_fem.studies.keys import apply_overrides
from probe_fem.studies.spec import Study
from probe_fem.studies.table import ResultTable


@dataclass
class StudyRun:
    """Outcome of running a study: rows by key, the key of every point (in point order), what was done."""

    study: Study
    table: Path
    rows: dict[str, dict[str, Any]]
    point_keys: list[str]
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False
    workers: int = 0
    executor: str = "serial"
    seconds: float = 0.0

    @property
    def failed(self) -> list[str]:
        return [k for k in dict.fromkeys(self.point_keys) if self.rows.get(k, {}).get("status") == "failed"]

    @property
    def complete(self) -> bool:
        return all(k in self.rows for k in self.point_keys)

    def column(self, name: str) -> np.ndarray:
        """Values of a column for every point in point order (NaN where missing or failed)."""
        out = []
        for k in self.point_keys:
            r = self.rows.get(k)
            v = r.get(name) if r and r["status"] == "ok" else None
            out.append(np.nan if v is None else float(v))
        return np.array(out)

    def ok_mask(self) -> np.ndarray:
        return np.array([self.rows.get(k, {}).get("status") == "ok" for k in self.point_keys])


def _settings_row(study: Study, key: str, overrides: dict[str, float]) -> dict[str, Any]:
    return {"key": key, "refine": float(study.refine), "n_modes": study.settings.modes, **overrides}


def plan(study: Study) -> tuple[list[dict[str, float]], list[str], dict[str, str]]:
    """Overrides and key of every point, and the design error of each invalid point (by key).

    Runs in the calling process and never meshes: only :func:`parse_design` (for the fingerprint).
    """
    points = study.points()
    keys: list[str] = []
    invalid: dict[str, str] = {}
    s = study.settings
    for ov in points:
        try:
            d = parse_design(apply_overrides(study.base_raw, ov), "study point")
            keys.append(point_key(d.fingerprint(), s.refine, s.modes))
        except DesignError as exc:
            k = invalid_key(study.base, ov, s.refine, s.modes)
            keys.append(k)
            invalid[k] = "design: " + "; ".join(exc.messages)
    return points, keys, invalid


def default_workers() -> int:
    """Worker processes of the default local cluster: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run_study(
    study: Study,
    table_path: str | Path,
    *,
    serial: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
    max_new: int | None = None,
    retry_failed: bool = False,
    on_start: Callable[[int, int], None] | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> StudyRun:
    """Run (or resume) a study, streaming rows to the CSV table at ``table_path``.

    ``serial`` evaluates in this process (no dask); otherwise a local cluster of
    ``workers`` single-threaded worker processes is started, or the existing
    scheduler at ``scheduler`` (``tcp://HOST:PORT``) is used.  Finished rows in
    the table are reused (failed ones too, unless ``retry_failed``); at most
    ``max_new`` new points are computed.  ``on_start(total, reused)`` and
    ``on_done(row)`` report progress.
    """
    t0 = time.perf_counter()
    table = ResultTable.for_study(Path(table_path), study)
    existing, notes = table.load()
    points, keys, invalid = plan(study)
    by_key = dict(zip(keys, points))
    done = {k for k, r in existing.items() if r["status"] == "ok" or (r["status"] == "failed" and not retry_failed)}
    todo = [k for k in dict.fromkeys(keys) if k not in done]
    reused = [k for k in dict.fromkeys(keys) if k in done]
    if max_new is not None:
        todo = todo[:max_new]
    run = StudyRun(study=study, table=table.path, rows=dict(existing), point_keys=keys, reused=reused, notes=notes)
    if on_start:
        on_start(len(todo), len(reused))

    def record(key: str, result: dict[str, Any]) -> None:
        row = table.normalize({**_settings_row(study, key, by_key[key]), **result})
        table.append(row)
        run.rows[key] = row
        run.computed.append(key)
        if on_done:
            on_done(row)

    for k in [k for k in todo if k in invalid]:  # invalid designs: recorded without meshing
        record(k, {"status": "failed", "error": invalid[k], "design_fingerprint": ""})
    todo = [k for k in todo if k not in invalid]
    s = study.settings
    if not todo:
        run.executor = "none (nothing to compute)"
    elif serial:
        run.executor, run.workers = "serial (this process)", 1
        for k in todo:
            record(k, evaluate_point(study.base_raw, by_key[k], s.refine, s.modes))
    else:
        _run_dask(study, todo, by_key, record, run, scheduler, workers)
    if not run.complete:
        run.interrupted = True
    run.seconds = time.perf_counter() - t0
    return run


def _run_dask(
    study: Study, todo: list[str], by_key: dict, record, run: StudyRun, scheduler: str | None, workers: int | None
) -> None:
    from distributed import Client, LocalCluster, as_completed

    s = study.settings
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="10s")
        run.executor = f"dask scheduler {scheduler}"
    else:
        n = min(workers or default_workers(), len(todo))
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        )
        client = Client(cluster)
        run.executor = f"dask local cluster ({n} worker processes × 1 thread)"
    try:
        client.wait_for_workers(1, timeout=120)
        info = client.scheduler_info()["workers"]
        run.workers = len(info)
        threaded = [w["nthreads"] for w in info.values() if w["nthreads"] > 1]
        if threaded:
            run.notes.append(
                f"{len(threaded)} worker(s) have several threads: points in one worker process run "
                "one at a time (gmsh is one instance per process)"
            )
        base = client.scatter([study.base_raw], broadcast=True)[0]  # one future for the whole mapping
        futures = {
            client.submit(evaluate_point, base, by_key[k], s.refine, s.modes, key=f"point-{k}", pure=False): k
            for k in todo
        }
        for fut in as_completed(futures):
            k = futures[fut]
            try:
                result = fut.result()
            except Exception as exc:  # worker died (e.g. a mesher crash): recorded, the study goes on
                result = {"status": "failed", "error": f"worker: {type(exc).__name__}: {exc}", "design_fingerprint": ""}
            record(k, result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def dask_evaluator(
    base_raw: dict, refine: float, n_modes: int, workers: int | None = None, scheduler: str | None = None
) -> Iterator[Callable[[list[dict[str, float]]], list[dict[str, Any]]]]:
    """A function that evaluates a list of override mappings on a dask cluster (a local one of ``workers``
    processes, or ``scheduler``), in the order given; the cluster lives as long as the block."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="10s")
    else:
        cluster = LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        client.wait_for_workers(1, timeout=120)
        base = client.scatter([base_raw], broadcast=True)[0]

        def evaluate_many(ovs: list[dict[str, float]]) -> list[dict[str, Any]]:
            futures = [client.submit(evaluate_point, base, ov, refine, n_modes, pure=False) for ov in ovs]
            return list(client.gather(futures))

        yield evaluate_many
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
