"""Mesh cache: in this process's memory and on disk (NPZ arrays, no pickles), keyed by everything a mesh depends on.

A key is :func:`probe_fem.mesh.probe.geometry_key`; meshes are deterministic, so a hit is the
mesh that meshing would make.  Memory holds the last :data:`MEMORY_SIZE` meshes (a calibrate's two
levels, a study's material-only points, a test session's fixtures); the folder keeps them across
runs.  A corrupt file is removed and the mesh made again: a cache never stops a run.

A second level keeps, in memory only, what assembly derives from a mesh alone (its element
geometry: gradients, volumes, matrix pattern) under the same key, so that a study point that changes
only materials re-assembles without recomputing it.  :data:`MEMORY` as the folder: memory only.
"""

from __future__ import annotations

import os
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from probe_fem.io import atomic_path
from probe_fem.mesh.core import Mesh, from_arrays, to_arrays

MEMORY_SIZE = 8
MEMORY = ":memory:"  # a cache folder that is no folder: meshes are kept in this process's memory only
_MEMORY: OrderedDict[str, Mesh] = OrderedDict()
_ELEMENTS: dict[str, Any] = {}  # key -> element geometry of the mesh held in _MEMORY under that key


def default_cache() -> str:
    """Mesh cache folder: $PROBE_FEM_CACHE, else ~/.cache/probe-fem/meshes."""
    return os.environ.get("PROBE_FEM_CACHE") or str(Path.home() / ".cache" / "probe-fem" / "meshes")


def lookup(folder: str | None, key: str) -> Mesh | None:
    """The cached mesh for ``key`` (memory first, then ``folder``), or None; ``folder`` None: no cache at all."""
    if folder is None:
        return None
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        # keep the folder whole (the mesh may have been made in memory for another folder)
        if folder != MEMORY and not (Path(folder) / f"{key}.npz").exists():
            store_cached(folder, key, _MEMORY[key])
        return _MEMORY[key]
    mesh = None if folder == MEMORY else load_cached(folder, key)
    if mesh is not None:
        _remember(key, mesh)
    return mesh


def store(folder: str | None, key: str, mesh: Mesh) -> None:
    """Keep ``mesh`` under ``key`` in memory and in ``folder`` (nothing if ``folder`` is None)."""
    if folder is None:
        return
    _remember(key, mesh)
    if folder != MEMORY:
        store_cached(folder, key, mesh)


def elements(key: str) -> Any | None:
    """The element geometry kept for the mesh cached in memory under ``key`` (:func:`keep_elements`), or None."""
    return _ELEMENTS.get(key) if key in _MEMORY else None


def keep_elements(key: str, geometry: Any) -> None:
    """Keep ``geometry`` (derived from the mesh cached under ``key`` alone) while that mesh is in memory."""
    if key in _MEMORY:
        _ELEMENTS[key] = geometry


def forget() -> None:
    """Drop the meshes (and their element geometry) held in memory; the folder keeps its copies."""
    _MEMORY.clear()
    _ELEMENTS.clear()


def _remember(key: str, mesh: Mesh) -> None:
    _MEMORY[key] = mesh
    _MEMORY.move_to_end(key)
    while len(_MEMORY) > MEMORY_SIZE:
        old, _ = _MEMORY.popitem(last=False)
        _ELEMENTS.pop(old, None)


def checked_cache(folder: str) -> str:
    """``folder`` if the mesh cache can live there (a folder, or a path where one can be made), checked
    before any work; else :class:`~probe_fem.errors.InputError` naming $PROBE_FEM_CACHE if it is set."""
    from probe_fem.io import check_writable

    named = "PROBE_FEM_CACHE" if os.environ.get("PROBE_FEM_CACHE") == folder else "mesh cache"
    check_writable(folder, folder=True, option=named)
    return folder


def store_cached(folder: str, key: str, mesh: Mesh) -> None:
    """Save a mesh as NPZ in ``folder`` (arrays only, no pickles), atomically."""
    with atomic_path(Path(folder) / f"{key}.npz", final=False) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **to_arrays(mesh))  # type: ignore[arg-type]


def load_cached(folder: str, key: str) -> Mesh | None:
    """The mesh stored in ``folder`` for ``key``, or None if there is none; a corrupt entry is removed."""
    path = Path(folder) / f"{key}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return from_arrays({k: z[k] for k in z.files})
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        path.unlink(missing_ok=True)  # a cache must never stop a run: mesh again
        return None
