"""Sampled thermocouple traces (time, V_TC, bias, current, junction segment): validated, read and written
as data only (.npz without pickles, or CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from probe_fem.errors import InputError

COLUMNS = ("t_s", "V_TC_V", "bias_V", "I_A", "segment")
PHASES = {"+": 1, "0": 0, "-": -1}


class TraceError(InputError):
    """Traces that cannot be analysed (the message names the problem)."""

    kind = "traces"


@dataclass
class Traces:
    """Sampled traces: time (s), thermocouple voltage (V), bias (V), current (A), junction segment id."""

    t: np.ndarray
    v_tc: np.ndarray
    bias: np.ndarray
    current: np.ndarray
    segment: np.ndarray

    def __post_init__(self):
        arrays = {"t_s": self.t, "V_TC_V": self.v_tc, "bias_V": self.bias, "I_A": self.current, "segment": self.segment}
        n = {k: np.shape(v) for k, v in arrays.items()}
        if len({s for s in n.values()}) != 1 or len(n["t_s"]) != 1:
            raise TraceError(f"traces: columns must be 1-D arrays of equal length, got shapes {n}")
        for k, v in arrays.items():
            if not np.all(np.isfinite(v)):
                raise TraceError(f"traces: column {k} has {int(np.sum(~np.isfinite(v)))} NaN/inf values")
        if self.t.size < 6 or np.any(np.diff(self.t) <= 0):
            raise TraceError("traces: t_s must increase strictly and hold at least 6 samples")

    @property
    def fs(self) -> float:
        """Sampling frequency (Hz) from the median sample interval."""
        return 1.0 / float(np.median(np.diff(self.t)))

    @staticmethod
    def from_arrays(t, v_tc, bias, current, segment=None) -> Traces:
        t = np.asarray(t, float)
        seg = np.zeros(t.shape, dtype=np.int64) if segment is None else np.asarray(segment).astype(np.int64)
        return Traces(t, np.asarray(v_tc, float), np.asarray(bias, float), np.asarray(current, float), seg)

    @staticmethod
    def load(path: str | Path) -> Traces:
        """Read CSV (header ``t_s,V_TC_V,bias_V,I_A[,segment]``) or NPZ (same names; no pickles)."""
        p = Path(path)
        try:
            if p.suffix == ".npz":
                with np.load(p, allow_pickle=False) as z:
                    cols = {k: z[k] for k in z.files}
            else:
                with open(p, encoding="utf-8") as fh:
                    header = fh.readline().strip().split(",")
                data = np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2)
                if data.shape[1] != len(header):
                    raise TraceError(f"{p}: {len(header)} column names but {data.shape[1]} columns of data")
                cols = {h.strip(): data[:, i] for i, h in enumerate(header)}
        except (OSError, ValueError) as exc:
            if isinstance(exc, TraceError):
                raise
            raise TraceError(f"{p}: cannot read traces ({exc})") from None
        unknown = sorted(set(cols) - set(COLUMNS))
        missing = [c for c in COLUMNS[:4] if c not in cols]
        if unknown or missing:
            raise TraceError(f"{p}: unknown columns {unknown}, missing {missing}; allowed {', '.join(COLUMNS)}")
        return Traces.from_arrays(cols["t_s"], cols["V_TC_V"], cols["bias_V"], cols["I_A"], cols.get("segment"))

    def save(self, path: str | Path) -> Path:
        """Write NPZ or CSV (by suffix), atomically."""
        from probe_fem.io import atomic_path

        cols: dict[str, Any] = dict(zip(COLUMNS, (self.t, self.v_tc, self.bias, self.current, self.segment)))
        with atomic_path(path) as tmp:
            if Path(path).suffix == ".npz":
                with open(tmp, "wb") as fh:
                    np.savez_compressed(fh, **cols)
            else:
                np.savetxt(
                    tmp,
                    np.column_stack(list(cols.values())),
                    delimiter=",",
                    header=",".join(COLUMNS),
                    comments="",
                    fmt="%.10g",
                )
        return Path(path)
