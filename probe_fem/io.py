"""File input and output: UTF-8 text reading, writable-path checks, and atomic writes (temporary file, rename)."""

from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _temporary(target: Path, pid: int) -> Path:
    return target.with_name(f".{target.name}.{pid}.tmp{target.suffix}")


def remove_stale_temporaries(target: Path) -> int:
    """Remove temporaries of ``target`` left by processes that no longer run (a killed write); return how many."""
    removed = 0
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.tmp{re.escape(target.suffix)}$")
    for p in target.parent.glob(f".{glob.escape(target.name)}.*.tmp*"):
        m = pattern.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            p.unlink(missing_ok=True)
            removed += 1
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` (same suffix); rename it onto ``target`` on success.

    If the body raises (or is interrupted), the temporary file is removed and ``target`` is left as
    it was; temporaries of killed writers (named by their pid) are removed first.  The file gets the
    mode a plain ``open`` would give it (0666 less the umask), not ``mkstemp``'s 0600.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp_path = _temporary(target, os.getpid())
    tmp_path.unlink(missing_ok=True)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
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


def check_writable(target: str | Path, folder: bool = False, option: str = "--out") -> Path:
    """Refuse, before any work, a ``target`` file (or folder, ``folder=True``) that cannot be written.

    Raises :class:`~probe_fem.errors.InputError` naming the option, the path and the reason.
    """
    from probe_fem.errors import InputError

    p = Path(target)
    if folder and p.exists() and not p.is_dir():
        raise InputError(f"{option} = {str(p)!r}: exists and is not a folder")
    if not folder and p.is_dir():
        raise InputError(f"{option} = {str(p)!r}: is a folder; a file name is needed")
    base = p if folder else p.parent
    while not base.exists() and base.parent != base:
        base = base.parent
    if not base.is_dir():
        raise InputError(f"{option} = {str(p)!r}: {str(base)!r} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{option} = {str(p)!r}: no permission to write in {str(base)!r}")
    return p


def read_text(path: str | Path, fail: Callable[[str], Exception]) -> str:
    """A UTF-8 text file's content; ``fail(message)`` makes the error to raise (naming the problem) if the
    file cannot be read or is not UTF-8."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start}): save the file as UTF-8") from None
