"""File input and output: UTF-8 text reading and parsing, writable-path checks, atomic writes (temporary file, rename).

Every reader of a TOML or JSON input goes through :func:`parse_toml` or :func:`parse_json`: whatever the
text holds (deep nesting, a 5,000-digit integer, bytes that are not UTF-8), the caller's error names the
problem in one message; never a RecursionError or a ValueError from the parser.
"""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import threading
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


class InterruptedAfterWriting(KeyboardInterrupt):
    """Ctrl-C came while outputs were renamed into place: it was held until every one of them was, so the
    outputs are complete.  ``paths`` are the files written."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__(f"interrupted after writing {len(paths)} complete file(s)")
        self.paths = paths


_finish_once_written = False


def finish_once_written() -> None:
    """For a command-line process: from the first result renamed into place on, Ctrl-C is ignored, so the
    command finishes writing and printing (a second or two) and a command that exits interrupted has
    written no result.  Intermediate files (``final=False``: the mesh cache, a study's table) do not count.
    A library caller keeps Ctrl-C: one during the renames is held until they are all done."""
    global _finish_once_written
    _finish_once_written = True


@contextmanager
def _renames_whole(targets: list[Path], final: bool) -> Iterator[None]:
    """Let no Ctrl-C split a set of renames (main thread only: other threads do not receive signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _finish_once_written and final:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:  # a handler installed outside Python reads as None: Python's own is the nearest
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
    if held:  # complete files; an intermediate one (a cache entry) is not a result the caller asked for
        raise InterruptedAfterWriting(targets) if final else KeyboardInterrupt()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Staging:
    """Outputs written to temporaries, each in its own target's folder, renamed onto the targets together.

    A temporary beside its target is on the target's filesystem, so the rename never crosses devices
    (a results folder on one disk, a calibration file on another, /dev/shm, ...).  Use it through
    :func:`staged_outputs`; :meth:`path` gives the temporary to write for a target.
    """

    def __init__(self, final: bool = True) -> None:
        self.final = final  # a result (see finish_once_written), not an intermediate file
        self.pending: list[tuple[Path, Path]] = []  # (temporary, target)
        self.created: list[Path] = []  # folders made for the outputs, removed again if nothing is placed

    def path(self, target: str | Path) -> Path:
        """The temporary to write for ``target`` (same folder and suffix); its folder is created if needed."""
        target = Path(target)
        if any(t == target for _, t in self.pending):
            from probe_fem.errors import InputError

            raise InputError(f"{str(target)!r}: two outputs would be written to this one file; allowed: one each")
        missing = [f for f in (target.parent, *target.parent.parents) if not f.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        self.created += reversed(missing)
        remove_stale_temporaries(target)
        tmp = _temporary(target, os.getpid())
        tmp.unlink(missing_ok=True)
        self.pending.append((tmp, target))
        return tmp

    def commit(self) -> None:
        """Give every temporary the mode of a plain ``open`` (0666 less the umask), flush it to disk,
        then rename each onto its target (same folder: atomic, never across devices)."""
        mode = 0o666 & ~_umask()
        for tmp, _ in self.pending:
            os.chmod(tmp, mode)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        with _renames_whole([target for _, target in self.pending], self.final):
            for tmp, target in self.pending:
                os.replace(tmp, target)
            self.created.clear()

    def discard(self) -> None:
        """Remove the temporaries not renamed, and the folders made for them if they stayed empty."""
        for tmp, _ in self.pending:
            tmp.unlink(missing_ok=True)
        for folder in reversed(self.created):
            try:
                folder.rmdir()
            except OSError:  # not empty (something else was put there) or already gone
                pass


@contextmanager
def staged_outputs(final: bool = True) -> Iterator[Staging]:
    """Write several outputs all-or-nothing: on success every temporary is renamed onto its target; if the
    body raises or is interrupted (Ctrl-C), no target changes and no temporary or new folder is left.
    ``final=False`` marks intermediate files (see :func:`finish_once_written`)."""
    stage = Staging(final)
    try:
        yield stage
        stage.commit()
    finally:
        stage.discard()


@contextmanager
def atomic_path(target: str | Path, final: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` (same suffix); rename it onto ``target`` on success.

    If the body raises (or is interrupted), the temporary file is removed and ``target`` is left as
    it was; temporaries of killed writers (named by their pid) are removed first.  The file gets the
    mode a plain ``open`` would give it (0666 less the umask), not ``mkstemp``'s 0600.
    """
    with staged_outputs(final) as stage:
        yield stage.path(target)


def write_text(target: str | Path, text: str) -> Path:
    """Write UTF-8 text, atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json(target: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    return write_text(target, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_vtu(target: str | Path, p, t, point_data: dict, cell_data: dict) -> Path:
    """Write a tetrahedral field for ParaView (VTU), atomically.  ``p`` is 3×N in metres."""
    import meshio

    mesh = meshio.Mesh(p.T, [("tetra", t.T)], point_data=point_data, cell_data={k: [v] for k, v in cell_data.items()})
    with atomic_path(target) as tmp:
        meshio.write(tmp, mesh, file_format="vtu")
    return Path(target)


def check_writable(target: str | Path, folder: bool = False, option: str = "output") -> Path:
    """Refuse, before any work, a ``target`` file (or folder, ``folder=True``) that cannot be written.

    Beyond the folder's permissions, a probe file (the target's temporary, its name as long) is made
    and removed in the nearest existing folder, so that what only writing tells (a read-only or
    special file system, a name too long for it, running as root) is told now.  An existing target
    must be a regular file (never a device, pipe or socket that the rename would replace).
    Raises :class:`~probe_fem.errors.InputError` naming ``option``, the path and the reason.
    """
    from probe_fem.errors import InputError

    p = Path(target)

    def refuse(reason: str) -> InputError:
        return InputError(f"{option} = {str(p)!r}: {reason}")

    if "\0" in str(p):
        raise refuse("holds a NUL character; allowed: a path without it")
    longest = max((len(part.encode()) for part in p.parts), default=0)
    if longest > 255:
        raise refuse(f"holds a name of {longest} bytes; allowed at most 255 per folder or file name")
    try:
        base = _existing_folder(p, folder, refuse)
        _probe(base, p, folder)
    except InputError as exc:
        raise refuse(str(exc)) from None
    except OSError as exc:
        raise refuse(f"cannot write there: {exc.strerror or exc}") from None
    return p


def _existing_folder(p: Path, folder: bool, refuse: Callable[[str], Exception]) -> Path:
    """The nearest existing folder the target will be written in, after the checks that need no writing."""
    if folder and p.exists() and not p.is_dir():
        raise refuse("exists and is not a folder; allowed: a folder, or a path where one can be made")
    if not folder and p.is_dir():
        raise refuse("is a folder; allowed: a file name")
    if not folder and p.exists() and not p.is_file():
        raise refuse("exists and is not a regular file (a device, pipe or socket); allowed: a file name")
    base = p if folder else p.parent
    while not base.exists() and base.parent != base:
        base = base.parent
    if not base.is_dir():
        raise refuse(f"{str(base)!r} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise refuse(f"no permission to write in {str(base)!r}")
    return base


def _name_max(base: Path) -> int:
    try:
        return int(os.pathconf(base, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows) or no answer: the common limit
        return 255


def _probe(base: Path, p: Path, folder: bool) -> None:
    """Make and remove, in ``base``, a file named as long as the longest name the write will make."""
    from probe_fem.errors import InputError

    limit = _name_max(base)
    parts = p.relative_to(base).parts if p != base and p.is_relative_to(base) else ()
    for part in parts if folder else parts[:-1]:
        if len(part.encode()) > limit:
            raise InputError(f"folder name {part[:20]!r}… has {len(part.encode())} bytes; allowed at most {limit}")
    name = _temporary(p, os.getpid()).name if not folder else f".probe-fem-check.{os.getpid()}.tmp"
    extra = len(name.encode()) - len(p.name.encode())
    if not folder and len(name.encode()) > limit:
        raise InputError(
            f"a file name of {len(p.name.encode())} bytes; allowed at most {limit - extra} "
            f"(the file system's {limit}, less the {extra} of the temporary written beside it first)"
        )
    probe = base / name
    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600))
    probe.unlink()


def read_text(path: str | Path, fail: Callable[[str], Exception]) -> str:
    """A UTF-8 text file's content; ``fail(message)`` makes the error to raise (naming the problem) if the
    file cannot be read or is not UTF-8."""
    if "\0" in str(path):
        raise fail("cannot read file: the path holds a NUL character (\\0); allowed: a file name without it")
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start}): save the file as UTF-8") from None
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror or exc}") from None


MAX_DEPTH = 64  # arrays, tables and objects nested deeper than this are refused (our files need about 5)
MAX_DIGITS = 4300  # the longest integer Python converts from text (sys.get_int_max_str_digits)


class _LongInteger:
    """A JSON integer too long to convert: kept as a marker, so that validation names its field."""

    def __init__(self, digits: str):
        self.digits = digits

    def __repr__(self) -> str:
        return f"{self.digits[:6]}…({len(self.digits.lstrip('-'))} digits)"


def _json_int(text: str) -> int | _LongInteger:
    return _LongInteger(text) if len(text.lstrip("-")) > MAX_DIGITS else int(text)


def _first_deep_line(text: str) -> int | None:
    """Line (1-based) where brackets or braces outside strings and comments first nest deeper than MAX_DEPTH."""
    depth, line, quote, escaped, comment = 0, 1, "", False, False
    for ch in text:
        if ch == "\n":
            line, comment = line + 1, False
        elif comment:
            continue
        elif quote:
            escaped, quote = (not escaped and ch == "\\"), ("" if ch == quote and not escaped else quote)
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif ch in "]}":
            depth -= 1
    return None


def _too_deep(what: str, text: str) -> str:
    line = _first_deep_line(text)
    where = f"line {line}: " if line is not None else ""
    return f"{where}arrays or {what} nested too deeply; allowed at most {MAX_DEPTH} levels"


def check_depth(data: Any, fail: Callable[[str], Exception]) -> Any:
    """``data`` unchanged if no table, array or object in it is nested deeper than MAX_DEPTH; else ``fail``."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            shown = ".".join(path[:3]) + ".…"
            raise fail(
                f"{shown}: tables or arrays nested more than {MAX_DEPTH} levels deep; allowed at most {MAX_DEPTH}"
            )
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        stack.extend((v, (*path, str(k))) for k, v in items if isinstance(v, (dict, list)))
    return data


def parse_toml(text: str, fail: Callable[[str], Exception]) -> dict[str, Any]:
    """Parse TOML text as data; ``fail(message)`` makes the one error raised for anything unreadable."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"not valid TOML: {exc}") from None
    except RecursionError:
        raise fail(f"not valid TOML: {_too_deep('tables', text)}") from None
    except ValueError:  # an integer longer than Python converts
        raise fail(f"not valid TOML: {_long_integer(text)}") from None
    return check_depth(data, fail)


def _long_integer(text: str) -> str:
    m = re.search(rf"\d{{{MAX_DIGITS + 1},}}", text)
    if m is None:
        return "a value Python cannot convert"
    line = text.count("\n", 0, m.start()) + 1
    key = re.match(r"\s*([^=\s]+)\s*=", text.splitlines()[line - 1])
    name = f"{key.group(1)} = " if key else ""
    return f"line {line}: {name}{m.group()[:6]}…: an integer of {len(m.group())} digits; allowed at most {MAX_DIGITS}"


def parse_json(text: str, fail: Callable[[str], Exception]) -> Any:
    """Parse JSON text as data; ``fail(message)`` makes the one error raised for anything unreadable.

    An integer longer than Python converts is kept as a marker that no validation accepts, so the
    validation names its field."""
    try:
        data = json.loads(text, parse_int=_json_int)
    except RecursionError:
        raise fail(f"not valid JSON: {_too_deep('objects', text)}") from None
    except ValueError as exc:  # json.JSONDecodeError is one
        raise fail(f"not valid JSON (truncated or corrupt?): {exc}") from None
    return check_depth(data, fail)
