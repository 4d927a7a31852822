"""Sampled thermocouple traces (time, V_TC, bias, current, junction segment): validated, read and written
as data only (.npz without pickles, or CSV).

Every problem a trace file or array can have is a :class:`TraceError` with one message naming it (the
command line turns it into exit code 2): a file that cannot be read (missing, empty, truncated or corrupt
``.npz``, non-UTF-8 or non-numeric CSV), missing or unknown columns, wrong shapes or dtypes, NaN/inf,
time stamps that are not strictly increasing or not uniform within a junction segment, and records
outside the limits below. Nothing is allocated from a size a file declares before that size is checked.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from probe_fem.errors import InputError

COLUMNS = ("t_s", "V_TC_V", "bias_V", "I_A", "segment")
PHASES = {"+": 1, "0": 0, "-": -1}

MIN_SAMPLES = 6
"""Fewest samples a record may hold."""
MAX_SAMPLES = 100_000_000
"""Most samples a record may hold (0.8 GB per column): bounds every allocation a file's header can ask for."""
STEP_RANGE = (0.5, 1.5)
"""Allowed time step within a segment, as multiples of the median step (gaps between segments are free)."""
_MAX_SEGMENT_ID = 2**53  # segment ids pass through float (CSV) exactly up to here


class TraceError(InputError):
    """Traces that cannot be analysed (the message names the problem)."""

    kind = "traces"


def _column(name: str, x: Any, integer: bool = False) -> np.ndarray:
    """One column as a float64 (or, for ``integer``, int64) array; anything not real-numeric is a TraceError."""
    try:
        a = np.asarray(x)
    except (ValueError, TypeError, OverflowError) as exc:  # ragged nested lists and the like
        raise TraceError(f"traces: column {name} is not an array of numbers ({exc})") from None
    if a.dtype.kind not in "biuf":
        raise TraceError(f"traces: column {name} has dtype {a.dtype}: allowed real numbers (bool, int, float)")
    if a.ndim != 1:
        return a  # the shape check in Traces names it, for all columns at once
    if a.size > MAX_SAMPLES:
        raise TraceError(f"traces: column {name} holds {a.size:,} samples: at most {MAX_SAMPLES:,} allowed")
    if not integer:
        with np.errstate(over="ignore"):  # float128 beyond float64: inf, reported by the finiteness check
            return a.astype(np.float64)
    if a.dtype.kind == "f":
        a = a.astype(np.float64)
        bad = ~np.isfinite(a)
        if bad.any():
            raise TraceError(f"traces: column {name} has {int(bad.sum())} NaN/inf values")
        if np.any(np.abs(a) >= _MAX_SEGMENT_ID) or np.any(a != np.round(a)):
            raise TraceError(f"traces: column {name} must hold integer ids below 2**53")
    elif a.dtype.kind == "u" and a.size and int(a.max()) >= _MAX_SEGMENT_ID:
        raise TraceError(f"traces: column {name} must hold integer ids below 2**53")
    return a.astype(np.int64)


@dataclass
class Traces:
    """Sampled traces: time (s), thermocouple voltage (V), bias (V), current (A), junction segment id.

    Validated on construction: 1-D columns of equal length between ``MIN_SAMPLES`` and ``MAX_SAMPLES``,
    finite, time strictly increasing, and within each segment a uniform time step (every step within
    ``STEP_RANGE`` times the median step; a gap or an outlier time stamp inside a segment is refused).
    """

    t: np.ndarray
    v_tc: np.ndarray
    bias: np.ndarray
    current: np.ndarray
    segment: np.ndarray

    def __post_init__(self):
        self.t = _column("t_s", self.t)
        self.v_tc = _column("V_TC_V", self.v_tc)
        self.bias = _column("bias_V", self.bias)
        self.current = _column("I_A", self.current)
        self.segment = _column("segment", self.segment, integer=True)
        arrays = {"t_s": self.t, "V_TC_V": self.v_tc, "bias_V": self.bias, "I_A": self.current, "segment": self.segment}
        n = {k: np.shape(v) for k, v in arrays.items()}
        if len({s for s in n.values()}) != 1 or len(n["t_s"]) != 1:
            raise TraceError(f"traces: columns must be 1-D arrays of equal length, got shapes {n}")
        for k, v in arrays.items():
            if not np.all(np.isfinite(v)):
                raise TraceError(f"traces: column {k} has {int(np.sum(~np.isfinite(v)))} NaN/inf values")
        if self.t.size < MIN_SAMPLES:
            raise TraceError(f"traces: {self.t.size} samples: at least {MIN_SAMPLES} needed")
        with np.errstate(over="ignore", invalid="ignore"):
            dt = np.diff(self.t)
        if not np.all(dt > 0):
            i = int(np.argmin(dt > 0))
            raise TraceError(
                f"traces: t_s must increase strictly: sample {i + 1} at t = {self.t[i + 1]:.9g} s follows "
                f"t = {self.t[i]:.9g} s (shuffled or duplicated time stamps)"
            )
        self._check_steps()

    def _within_segment_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """Time steps between consecutive samples of the same segment, and the index of each step's later sample."""
        order = np.argsort(self.segment, kind="stable")  # time order within each segment (t increases)
        same = self.segment[order][1:] == self.segment[order][:-1]
        with np.errstate(over="ignore", invalid="ignore"):
            steps = np.diff(self.t[order])[same]
        return steps, order[1:][same]

    def _check_steps(self) -> None:
        steps, later = self._within_segment_steps()
        if steps.size == 0:
            raise TraceError("traces: every segment holds a single sample: no sampling interval")
        step = float(np.median(steps))
        with np.errstate(over="ignore", divide="ignore"):
            fs = 1.0 / step
        if not (np.isfinite(step) and step > 0 and np.isfinite(fs)):
            raise TraceError(f"traces: median time step {step!r} s gives no finite sampling rate")
        lo, hi = STEP_RANGE
        with np.errstate(over="ignore", invalid="ignore"):
            ratio = steps / step
        bad = ~((ratio >= lo) & (ratio <= hi))
        if bad.any():
            k = int(np.argmax(bad))
            i = int(later[k])
            raise TraceError(
                f"traces: non-uniform time stamps in segment {int(self.segment[i])}: the step to t = "
                f"{self.t[i]:.9g} s is {steps[k]:.6g} s, {ratio[k]:.3g} x the median step {step:.6g} s "
                f"(allowed {lo:g}-{hi:g} x; {int(bad.sum())} such steps). An outlier time stamp or missing "
                "samples: give a block after a gap its own segment id"
            )

    @property
    def step(self) -> float:
        """Median sample interval (s) within segments (gaps between segments left out)."""
        steps, _ = self._within_segment_steps()
        return float(np.median(steps))

    @property
    def fs(self) -> float:
        """Sampling frequency (Hz) from the median sample interval (within segments)."""
        return 1.0 / self.step

    @staticmethod
    def from_arrays(t, v_tc, bias, current, segment=None) -> Traces:
        seg = np.zeros(np.shape(t)[:1], dtype=np.int64) if segment is None else segment
        return Traces(t, v_tc, bias, current, seg)

    @staticmethod
    def load(path: str | Path) -> Traces:
        """Read CSV (header ``t_s,V_TC_V,bias_V,I_A[,segment]``) or NPZ (same names; no pickles).

        Any failure is a :class:`TraceError` whose message names the file and the problem.
        """
        p = Path(path)
        if not p.is_file():
            raise TraceError(f"{p}: no such file" if not p.exists() else f"{p}: not a file")
        try:
            cols = _read_npz(p) if p.suffix.lower() == ".npz" else _read_csv(p)
        except TraceError as exc:
            raise TraceError(f"{p}: {exc}") from None
        except Exception as exc:  # a reader of untrusted files: whatever a corrupt file raises, one message
            raise TraceError(f"{p}: cannot read traces ({type(exc).__name__}: {exc})") from None
        try:
            return Traces.from_arrays(cols["t_s"], cols["V_TC_V"], cols["bias_V"], cols["I_A"], cols.get("segment"))
        except TraceError as exc:
            raise TraceError(f"{p}: {str(exc).removeprefix('traces: ')}") from None

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
                    fmt=["%.17g", "%.10g", "%.10g", "%.10g", "%d"],  # time stamps exact: uniform steps survive
                )
        return Path(path)


def _check_names(names: list[str]) -> None:
    if len(set(names)) != len(names):
        raise TraceError(f"repeated column names {sorted({n for n in names if names.count(n) > 1})}")
    unknown = sorted(set(names) - set(COLUMNS))
    missing = [c for c in COLUMNS[:4] if c not in names]
    if unknown or missing:
        raise TraceError(f"unknown columns {unknown}, missing {missing}; allowed {', '.join(COLUMNS)}")


def _read_npz(p: Path) -> dict[str, np.ndarray]:
    """Columns of an NPZ archive, read without pickles; each array's declared size is checked before reading."""
    if p.stat().st_size == 0:
        raise TraceError("empty file (0 bytes): not an .npz archive")
    if not zipfile.is_zipfile(p):
        raise TraceError("not an .npz archive (no zip directory: truncated or another format)")
    cols: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(p) as zf:
        infos = zf.infolist()
        names = [i.filename.removesuffix(".npy") for i in infos]
        _check_names(names)
        for info, name in zip(infos, names):
            if not info.filename.endswith(".npy"):
                raise TraceError(f"archive member {info.filename!r} is not a .npy array")
            with zf.open(info) as fh:
                cols[name] = _read_npy(fh, name, info.file_size)
    return cols


def _read_npy(fh: Any, name: str, member_bytes: int) -> np.ndarray:
    fmt = np.lib.format
    version = fmt.read_magic(fh)
    if version == (1, 0):
        shape, _, dtype = fmt.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _, dtype = fmt.read_array_header_2_0(fh)
    else:
        raise TraceError(f"column {name}: .npy format version {version} not supported (1.0, 2.0)")
    if dtype.hasobject or dtype.kind not in "biuf":
        raise TraceError(f"column {name} has dtype {dtype}: allowed real numbers (bool, int, float)")
    if len(shape) != 1:
        raise TraceError(f"column {name} has shape {shape}: must be 1-D")
    n = int(shape[0])
    if n > MAX_SAMPLES:
        raise TraceError(f"column {name} declares {n:,} samples: at most {MAX_SAMPLES:,} allowed")
    nbytes = n * dtype.itemsize
    if nbytes > member_bytes:
        raise TraceError(f"column {name} declares {nbytes:,} bytes of data in a {member_bytes:,}-byte member")
    data = fh.read(nbytes)
    if len(data) != nbytes:
        raise TraceError(f"column {name} is truncated: {len(data):,} of {nbytes:,} bytes")
    if fh.read(1):  # reading to the end also has zipfile check the member's CRC
        raise TraceError(f"column {name} holds more data than its declared shape {shape}")
    return np.frombuffer(data, dtype=dtype, count=n).copy()


def _read_csv(p: Path) -> dict[str, np.ndarray]:
    raw = p.read_bytes()
    if not raw.strip():
        raise TraceError("empty file: expected a header line t_s,V_TC_V,bias_V,I_A[,segment] and data rows")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TraceError(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start}") from None
    if "\x00" in text:
        raise TraceError("not a text file (NUL characters)")
    lines = text.splitlines()
    header = [h.strip() for h in lines[0].split(",")]
    _check_names(header)
    body = "\n".join(lines[1:])
    if not body.strip():
        raise TraceError("no data rows after the header")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data" for comment-only bodies: checked below
            data = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise TraceError(f"cannot parse the data rows ({exc})") from None
    if data.shape[0] == 0:
        raise TraceError("no data rows after the header")
    if data.shape[1] != len(header):
        raise TraceError(f"{len(header)} column names but {data.shape[1]} columns of data")
    return {h: data[:, i] for i, h in enumerate(header)}
