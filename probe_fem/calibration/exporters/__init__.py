"""Calibration file formats, one small module each, registered by name and suffix (like meshio's).

A writer gets the calibration and a temporary path; :func:`export` renames it
onto the target only when the writer finished, so an interrupted export never
leaves a truncated file.  Add a format: a module with a ``@register`` writer,
imported below.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from probe_fem.errors import InputError
from probe_fem.io import atomic_path

Writer = Callable[["object", Path], None]
_WRITERS: dict[str, Writer] = {}
_SUFFIX: dict[str, str] = {}


def register(name: str, suffix: str) -> Callable[[Writer], Writer]:
    """Register ``writer(calibration, path)`` for format ``name`` with file ``suffix``."""

    def deco(fn: Writer) -> Writer:
        _WRITERS[name] = fn
        _SUFFIX[suffix] = name
        return fn

    return deco


def formats() -> list[str]:
    return sorted(_WRITERS)


class ExportError(InputError):
    """An export that cannot be written as asked (format and file name disagree)."""

    kind = "export"


def _suffix_of(fmt: str) -> str:
    return next(s for s, f in _SUFFIX.items() if f == fmt)


def target_format(path: str | Path, fmt: str | None = None) -> str:
    """The format to write ``path`` in: ``fmt``, or the one its suffix names; checked before any work.

    Raises :class:`ExportError` for an unknown format or a suffix that is not the format's."""
    path = Path(path)
    by_suffix = _SUFFIX.get(path.suffix.lower())
    name = fmt or by_suffix
    if name not in _WRITERS:
        allowed = ", ".join(f"{f} ({_suffix_of(f)})" for f in formats())
        raise ExportError(f"file {str(path)!r}: format {fmt or path.suffix or '(no suffix)'!r}; allowed {allowed}")
    if fmt and by_suffix != fmt:
        raise ExportError(f"file {str(path)!r}: a {fmt} file must end in {_suffix_of(fmt)}, not {path.suffix!r}")
    return name


def export(cal, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``cal`` to ``path`` atomically in ``fmt`` (default: from the suffix)."""
    path = Path(path)
    name = target_format(path, fmt)
    with atomic_path(path) as tmp:
        _WRITERS[name](cal, tmp)
    return path


from probe_fem.calibration.exporters import csv_, json_, mat  # noqa: E402,F401  (registration)
