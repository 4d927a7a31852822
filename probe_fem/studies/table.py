"""The results table of a study: a CSV file, one row per evaluated design, appended as points complete.

Rows are keyed by the design fingerprint, the mesh refine factor and the
number of modes (:func:`probe_fem.studies.evaluate.point_key`), so an
interrupted study resumes without recomputing finished points; a last line cut
by an interruption is dropped on reading.  Columns: the settings
(:data:`KEY_COLUMNS`), the varied keys as written in the design file, the
outputs in SI with the unit in the name (:data:`OUTPUT_COLUMNS`) and run
information (:data:`INFO_COLUMNS`).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probe_fem.errors import InputError
from probe_fem.studies.spec import Study

# Output columns of the results table (SI, unit in the name) and the settings columns.
OUTPUT_COLUMNS = ("R_P_K_per_W", "R_apex_K_per_W", "tau_s", "tau_1_s", "weight_tau", "t63_s", "f_3dB_Hz")
KEY_COLUMNS = ("key", "design_fingerprint", "status", "error", "refine", "n_modes")
INFO_COLUMNS = ("dofs", "mesh_fingerprint", "mesh_cached", "seconds_s", "pid")
_INT_COLUMNS = {"n_modes", "dofs", "pid"}
_STR_COLUMNS = {"key", "design_fingerprint", "status", "error", "mesh_fingerprint"}
_BOOL_COLUMNS = {"mesh_cached"}


class TableError(InputError):
    """A results table that this study cannot resume from."""

    kind = "results table"


@dataclass
class ResultTable:
    """CSV results table, one row per evaluated design; rows are appended (flushed, fsynced) as they complete."""

    path: Path
    columns: tuple[str, ...]

    @staticmethod
    def for_study(path: Path, study: Study) -> ResultTable:
        return ResultTable(path, KEY_COLUMNS + tuple(study.keys) + OUTPUT_COLUMNS + INFO_COLUMNS)

    def normalize(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row exactly as it reads back from the table (every column, typed)."""
        return {c: _parse(c, _cell(row.get(c))) for c in self.columns}

    def _line(self, row: dict[str, Any]) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([_cell(row.get(c)) for c in self.columns])
        return buf.getvalue()

    def load(self) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """Rows by key and notes; a last line cut by an interruption is dropped (and noted)."""
        if not self.path.exists():
            return {}, []
        text = self.path.read_text(encoding="utf-8")
        notes = []
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            notes.append(f"{self.path}: dropped an incomplete last line (an interrupted write); that point reruns")
            lines = lines[:-1]
        reader = csv.reader(lines)
        header = next(reader, None)
        if header is None:
            return {}, notes
        if tuple(header) != self.columns:
            raise TableError(
                f"{self.path}: columns differ from this study's ({', '.join(header[:8])}, …); it was "
                "written by another study: write the study elsewhere or remove the file"
            )
        rows: dict[str, dict[str, Any]] = {}
        for n, cells in enumerate(reader, start=2):
            if len(cells) != len(self.columns):
                raise TableError(f"{self.path}, line {n}: {len(cells)} fields, expected {len(self.columns)}")
            try:
                row = {c: _parse(c, v) for c, v in zip(self.columns, cells)}
            except ValueError as exc:
                raise TableError(f"{self.path}, line {n}: {exc}") from None
            if row["status"] not in ("ok", "failed"):
                raise TableError(f"{self.path}, line {n}: status {row['status']!r} (allowed ok, failed)")
            rows[row["key"]] = row
        if notes:
            self.rewrite(rows.values())
        return rows, notes

    def rewrite(self, rows) -> None:
        """Write header and rows atomically (replaces the file)."""
        from probe_fem.io import atomic_path

        with atomic_path(self.path, final=False) as tmp:  # the study goes on: Ctrl-C stays live
            tmp.write_text(
                self._line(dict(zip(self.columns, self.columns))) + "".join(self._line(r) for r in rows),
                encoding="utf-8",
            )

    def append(self, row: dict[str, Any]) -> None:
        """Append one row with a single write, flushed and fsynced (creates the file with its header first)."""
        if not self.path.exists():
            self.rewrite([])
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(self._line(row))
            f.flush()
            os.fsync(f.fileno())


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)  # round-trips exactly
    return str(v)


def _parse(col: str, text: str) -> Any:
    if col in _STR_COLUMNS:
        return text
    if text == "":
        return None
    if col in _BOOL_COLUMNS:
        if text not in ("true", "false"):
            raise InputError(f"{col} = {text!r}: expected true or false")
        return text == "true"
    if col in _INT_COLUMNS:
        return int(text)
    return float(text)
