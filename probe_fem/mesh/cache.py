"""Mesh cache on disk: NPZ arrays keyed by everything a mesh depends on (no pickles)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
from skfem import MeshTet1

from probe_fem.io import atomic_path
from probe_fem.mesh.core import Mesh


def default_cache() -> str:
    """Mesh cache folder: $PROBE_FEM_CACHE, else ~/.cache/probe-fem/meshes."""
    return os.environ.get("PROBE_FEM_CACHE") or str(Path.home() / ".cache" / "probe-fem" / "meshes")


def checked_cache(folder: str) -> str:
    """``folder`` if the mesh cache can live there (a folder, or a path where one can be made), checked
    before any work; else :class:`~probe_fem.errors.InputError` naming $PROBE_FEM_CACHE if it is set."""
    from probe_fem.io import check_writable

    named = "PROBE_FEM_CACHE" if os.environ.get("PROBE_FEM_CACHE") == folder else "mesh cache"
    check_writable(folder, folder=True, option=named)
    return folder


def store_cached(folder: str, key: str, mesh: Mesh) -> None:
    """Save a mesh as NPZ (arrays only, no pickles), atomically."""
    m = mesh.skfem
    arrays = {"p": m.p, "t": m.t}
    arrays.update({f"sub__{k}": v for k, v in (m.subdomains or {}).items()})
    arrays.update({f"bnd__{k}": v for k, v in (m.boundaries or {}).items()})
    with atomic_path(Path(folder) / f"{key}.npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load_cached(folder: str, key: str) -> Mesh | None:
    """The cached mesh for ``key``, or None if there is none; a corrupt entry is removed (and rebuilt)."""
    path = Path(folder) / f"{key}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            sub = {k[5:]: z[k] for k in z.files if k.startswith("sub__")}
            bnd = {k[5:]: z[k] for k in z.files if k.startswith("bnd__")}
            p, t = np.ascontiguousarray(z["p"], dtype=float), np.ascontiguousarray(z["t"])
        if p.ndim != 2 or p.shape[0] != 3 or t.ndim != 2 or t.shape[0] != 4 or t.size == 0 or t.max() >= p.shape[1]:
            raise ValueError("inconsistent arrays")
        return Mesh(MeshTet1(p, t, _boundaries=bnd, _subdomains=sub))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        path.unlink(missing_ok=True)  # a cache must never stop a run: mesh again
        return None
