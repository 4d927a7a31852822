"""From thermocouple traces to the heat dissipated in the probe: three-level demodulation.

The bias cycles +V_M, 0, −V_M, each held a third of the period T_P.  For each
junction segment the thermocouple voltage is fitted by least squares as

    V_TC(t) = ΔV₊·[+ phase] + ΔV₋·[− phase] + drift(t),

with drift(t) a cubic B-spline whose knots are ``drift_knot_periods`` periods
apart (one spline per segment: junctions concatenated back to back each get
their own baseline).  Samples within the probe's settling time after a phase
edge (from the transient model's step response) are excluded.  The standard
uncertainty of ΔV± comes from the scatter of per-period demodulated values
(drift removed), then ΔT = ΔV/S_TC and Q_P = ΔT/R_P carry the calibration's
uncertainties (first order, :class:`~probe_fem.calibration.schema.Calibration`).
Q_Total,Avg(±) is the mean of I·V over each bias phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.interpolate import BSpline

COLUMNS = ("t_s", "V_TC_V", "bias_V", "I_A", "segment")
PHASES = {"+": 1, "0": 0, "-": -1}


class TraceError(ValueError):
    """Traces that cannot be analysed (the message names the problem)."""


@dataclass
class Traces:
    """Sampled traces: time (s), thermocouple voltage (V), bias (V), current (A), junction segment id."""

    t: np.ndarray
    v_tc: np.ndarray
    bias: np.ndarray
    current: np.ndarray
    segment: np.ndarray

    def __post_init__(self):
        arrays = {"t_s": self.t, "V_TC_V": self.v_tc, "bias_V": self.bias, "I_A": self.current,
                  "segment": self.segment}
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
    def from_arrays(t, v_tc, bias, current, segment=None) -> "Traces":
        t = np.asarray(t, float)
        seg = np.zeros(t.shape, dtype=np.int64) if segment is None else np.asarray(segment).astype(np.int64)
        return Traces(t, np.asarray(v_tc, float), np.asarray(bias, float), np.asarray(current, float), seg)

    @staticmethod
    def load(path: str | Path) -> "Traces":
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

        cols = dict(zip(COLUMNS, (self.t, self.v_tc, self.bias, self.current, self.segment)))
        with atomic_path(path) as tmp:
            if Path(path).suffix == ".npz":
                with open(tmp, "wb") as fh:
                    np.savez_compressed(fh, **cols)
            else:
                np.savetxt(tmp, np.column_stack(list(cols.values())), delimiter=",", header=",".join(COLUMNS),
                           comments="", fmt="%.10g")
        return Path(path)


def phases(bias: np.ndarray) -> tuple[np.ndarray, float]:
    """Phase of each sample (+1, 0, −1) from the bias, and the amplitude V_M (V)."""
    vm = float(np.median(np.abs(bias[np.abs(bias) > 0.5 * np.max(np.abs(bias))]))) if np.any(bias) else 0.0
    if vm <= 0:
        raise TraceError("traces: the bias never leaves 0 V; no modulation to demodulate")
    return np.where(bias > vm / 2, 1, np.where(bias < -vm / 2, -1, 0)), vm


@dataclass
class PhaseResult:
    """Demodulated values for one bias polarity at one amplitude V_M (SI units)."""

    V_M: float
    dV: float
    u_dV: float
    dT: float
    u_dT: float
    Q_P: float
    u_Q_P: float
    Q_total: float
    u_Q_total: float
    periods: int

    @property
    def fraction(self) -> float:
        return self.Q_P / self.Q_total

    @property
    def u_fraction(self) -> float:
        return abs(self.fraction) * float(np.hypot(self.u_Q_P / self.Q_P, self.u_Q_total / self.Q_total))


def _drift_basis(t: np.ndarray, period: float, knot_periods: float) -> sp.csr_matrix:
    span = t[-1] - t[0]
    n_int = max(1, int(np.ceil(span / (knot_periods * period))))
    inner = np.linspace(t[0], t[-1], n_int + 1)
    knots = np.concatenate([[t[0]] * 3, inner, [t[-1]] * 3])
    return BSpline.design_matrix(np.clip(t, t[0], t[-1]), knots, 3).tocsr()


def demodulate_segment(tr: Traces, mask: np.ndarray, period: float, settle: float,
                       knot_periods: float = 10.0) -> dict[int, tuple[float, np.ndarray, np.ndarray]]:
    """Least-squares ΔV± of one segment; returns {phase: (ΔV, per-period ΔV, per-period Q_total)}."""
    t, v, ph = tr.t[mask], tr.v_tc[mask], phases(tr.bias[mask])[0]
    edge = np.concatenate([[True], ph[1:] != ph[:-1]])
    last_edge = np.maximum.accumulate(np.where(edge, np.arange(t.size), 0))
    # the edge lies between the previous sample and the first of the new phase: count from halfway
    t_edge = np.where(last_edge > 0, 0.5 * (t[last_edge] + t[np.maximum(last_edge - 1, 0)]), -np.inf)
    keep = (t - t_edge) > settle
    B = _drift_basis(t, period, knot_periods)
    X = sp.hstack([sp.csr_matrix((ph == 1).astype(float)[:, None]), sp.csr_matrix((ph == -1).astype(float)[:, None]),
                   B]).tocsr()[keep]
    coef = spla.lsqr(X, v[keep], atol=1e-14, btol=1e-14, iter_lim=20000)[0]
    resid_free = v - B @ coef[2:]  # drift removed
    cycle = np.cumsum(edge & (ph == 1))  # a new period starts at each + phase
    out = {}
    for p, col in ((1, 0), (-1, 1)):
        per_v, per_q = [], []
        for k in np.unique(cycle):
            in_k = cycle == k
            a, z = in_k & keep & (ph == p), in_k & keep & (ph == 0)
            if a.any() and z.any():
                per_v.append(resid_free[a].mean() - resid_free[z].mean())
            q = in_k & (ph == p)
            if q.any():
                per_q.append(np.mean(tr.current[mask][q] * tr.bias[mask][q]))
        out[p] = (float(coef[col]), np.array(per_v), np.array(per_q))
    return out


def demodulate(tr: Traces, calibration, period: float = 1 / 12.25, settle: float | None = None,
               knot_periods: float = 10.0) -> list[tuple[PhaseResult, PhaseResult]]:
    """(+V, −V) results per bias amplitude, segments of equal V_M pooled (the paper's ~100 junctions)."""
    fs = tr.fs
    if period * fs < 3:
        raise TraceError(f"period = {period:g} s holds {period * fs:.2f} samples at {fs:g} Hz: need >= 3")
    if settle is None:
        d = calibration.dynamics
        settle = d.t999_s if d is not None else 0.0
    groups: dict[float, list[np.ndarray]] = {}
    for s in np.unique(tr.segment):
        mask = tr.segment == s
        vm = phases(tr.bias[mask])[1]
        key = min(groups, key=lambda g: abs(g - vm), default=None)
        if key is None or abs(key - vm) > 0.01 * vm:
            key = vm
        groups.setdefault(key, []).append(mask)
    results = []
    for vm in sorted(groups):
        pooled = {1: ([], [], []), -1: ([], [], [])}
        for mask in groups[vm]:
            seg = demodulate_segment(tr, mask, period, settle, knot_periods)
            for p in (1, -1):
                dv, per_v, per_q = seg[p]
                pooled[p][0].append((dv, per_v.size))
                pooled[p][1].extend(per_v)
                pooled[p][2].extend(per_q)
        pair = []
        for p in (1, -1):
            fits, per_v, per_q = pooled[p]
            n = sum(w for _, w in fits)
            dV = sum(v * w for v, w in fits) / n
            u_dV = float(np.std(per_v, ddof=1) / np.sqrt(len(per_v)))
            dT, u_dT = calibration.temperature_rise(dV, u_dV)
            Q, uQ = calibration.probe_power(dV, u_dV)
            qt = float(np.mean(per_q))
            pair.append(PhaseResult(V_M=vm * p, dV=dV, u_dV=u_dV, dT=float(dT), u_dT=float(u_dT), Q_P=float(Q),
                                    u_Q_P=float(uQ), Q_total=qt, u_Q_total=float(np.std(per_q, ddof=1) / np.sqrt(len(per_q))),
                                    periods=len(per_v)))
        results.append(tuple(pair))
    return results
