"""Evaluation of one study point, in a worker process: design, mesh, steady solve, modes, reduced model.

A point is evaluated by applying its overrides to the base design's raw TOML
mapping and calling :func:`~probe_fem.design.load.parse_design`; then mesh,
steady solve, slowest modes and the reduced (rational-Krylov) model give R_P,
τ (dominant mode), t63 and f−3dB.  gmsh is one global instance per process, so
one point at a time runs per process; a mesh is reused in the process when
only material values differ.  A failed point (invalid geometry, mesher or
solver error) is returned as a row with its error: it never raises.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from typing import Any

from probe_fem.design.load import parse_design
from probe_fem.design.schema import Design, DesignError
from probe_fem.studies.keys import apply_overrides
from probe_fem.threads import blas_limited

_PROCESS_LOCK = threading.Lock()  # gmsh is one global instance per process: one evaluation at a time


def _model(design: Design, refine: float):
    """Assembled model and whether its mesh came from this process's memory (:mod:`probe_fem.mesh.cache`).

    A point that changes only material values reuses the mesh and its element geometry.
    """
    from probe_fem.mesh.cache import MEMORY
    from probe_fem.model.steady import build_model

    model = build_model(design, refine, cache=MEMORY)
    return model, model.probe.cached


def quantities(model, n_modes: int) -> dict[str, float]:
    """R_P, R_apex (K/W), dominant and slowest τ (s), t63 (s), f−3dB (Hz) of an assembled model.

    The reduced model is the one :func:`probe_fem.model.dynamics.analyze` verifies against direct
    solves for the calibration (same shifts and depth); t63 is its closed-form step crossing.
    """
    from probe_fem.model.dynamics import reduced
    from probe_fem.model.steady import solve_steady

    report, _ = solve_steady(model)
    _, modes, rom = reduced(model, n_modes)
    dom = modes.dominant
    return {
        "R_P_K_per_W": report.R_P,
        "R_apex_K_per_W": report.R_apex,
        "tau_s": float(modes.tau[dom]),
        "tau_1_s": float(modes.tau[0]),
        "weight_tau": float(modes.weight_tc[dom]),
        "t63_s": rom.crossing(1 - math.exp(-1)),
        "f_3dB_Hz": rom.f_3dB(),
        "dofs": model.dofs,
        "mesh_fingerprint": report.mesh_fingerprint,
    }


@blas_limited  # runs in dask worker processes too
def evaluate_point(base_raw: dict, overrides: dict[str, float], refine: float, n_modes: int) -> dict[str, Any]:
    """Evaluate one study point (in a worker process): design, mesh, steady, modes, reduced model.

    Never raises for a bad point: the returned row has ``status`` "ok" or
    "failed" with ``error`` naming the stage (design, mesh, solve) and the problem.
    """
    t0 = time.perf_counter()
    row: dict[str, Any] = {"status": "failed", "error": "", "design_fingerprint": "", "pid": os.getpid()}
    stage = "design"
    with _PROCESS_LOCK:
        try:
            design = parse_design(apply_overrides(base_raw, overrides), "study point")
            row["design_fingerprint"] = design.fingerprint()
            stage = "mesh"
            model, cached = _model(design, refine)
            stage = "solve"
            row.update(quantities(model, n_modes), mesh_cached=cached, status="ok")
        except DesignError as exc:
            row["error"] = "design: " + "; ".join(exc.messages)
        except Exception as exc:  # a failed point is recorded, the study goes on
            row["error"] = f"{stage}: {type(exc).__name__}: {exc}"
    row["seconds_s"] = time.perf_counter() - t0
    return row


def point_key(fingerprint: str, refine: float, n_modes: int) -> str:
    """Table key of a result: design fingerprint plus the settings that change the numbers."""
    return hashlib.sha256(f"{fingerprint}|{refine!r}|{n_modes}".encode()).hexdigest()[:16]


def invalid_key(base: Design, overrides: dict[str, float], refine: float, n_modes: int) -> str:
    """Key of a point whose design is invalid (it has no fingerprint): base fingerprint plus overrides."""
    blob = json.dumps([base.fingerprint(), sorted(overrides.items()), refine, n_modes])
    return "x" + hashlib.sha256(blob.encode()).hexdigest()[:15]
