"""File output: every write is atomic (temporary file in the target folder, then rename)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` (same suffix); rename it onto ``target`` on success.

    If the body raises, the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_json(target: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return Path(target)


def write_vtu(target: str | Path, p, t, point_data: dict, cell_data: dict) -> Path:
    """Write a tetrahedral field for ParaView (VTU), atomically.  ``p`` is 3×N in metres."""
    import meshio

    mesh = meshio.Mesh(p.T, [("tetra", t.T)], point_data=point_data, cell_data={k: [v] for k, v in cell_data.items()})
    with atomic_path(target) as tmp:
        meshio.write(tmp, mesh, file_format="vtu")
    return Path(target)
