"""From thermocouple traces to the heat dissipated in the probe: three-level demodulation.

The bias cycles +V_M, 0, −V_M, each held a third of the period T_P.  For each
junction segment the thermocouple voltage is fitted by least squares as

    V_TC(t) = ΔV₊·[+ phase] + ΔV₋·[− phase] + drift(t),

with drift(t) a cubic B-spline whose knots are ``drift_knot_periods`` periods
apart (one spline per segment: junctions concatenated back to back each get
their own baseline).  Samples within the probe's settling time after a phase
edge are excluded (a dead time: by default the probe's own settling time t999).  The standard
uncertainty of ΔV± comes from the scatter of per-period demodulated values
(drift removed), then ΔT = ΔV/S_TC and Q_P = ΔT/R_P carry the calibration's
uncertainties (first order, :class:`~probe_fem.calibration.schema.Calibration`).
Q_Total,Avg(±) is the mean of I·V over each bias phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.interpolate import BSpline

from probe_fem import paper
from probe_fem.analysis.traces import PHASES, TraceError, Traces  # noqa: F401  (TraceError: re-exported)


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

    def to_dict(self) -> dict[str, float]:
        """JSON-ready, units in the keys; the mean current is Q_total / V (the bias is constant in a phase)."""
        return {
            "V_V": self.V_M,
            "dV_TC_V": self.dV,
            "sigma_dV_TC_V": self.u_dV,
            "dT_TC_K": self.dT,
            "sigma_dT_TC_K": self.u_dT,
            "Q_P_W": self.Q_P,
            "sigma_Q_P_W": self.u_Q_P,
            "Q_total_W": self.Q_total,
            "sigma_Q_total_W": self.u_Q_total,
            "current_A": self.Q_total / self.V_M,
            "sigma_current_A": self.u_Q_total / abs(self.V_M),
            "fraction": self.fraction,
            "sigma_fraction": self.u_fraction,
            "periods": self.periods,
        }


def _phases_per_period(ph: np.ndarray) -> int:
    """Phases per period of a phase sequence (3 for +0-, 4 for +0-0): runs per run of + phase."""
    runs = 1 + int(np.count_nonzero(ph[1:] != ph[:-1]))
    plus = max(1, int(np.count_nonzero(np.diff(np.concatenate([[0], (ph == 1).astype(int)])) == 1)))
    return max(2, round(runs / plus))


def _drift_basis(t: np.ndarray, period: float, knot_periods: float) -> sp.csr_matrix:
    span = t[-1] - t[0]
    n_int = max(1, int(np.ceil(span / (knot_periods * period))))
    inner = np.linspace(t[0], t[-1], n_int + 1)
    knots = np.concatenate([[t[0]] * 3, inner, [t[-1]] * 3])
    return BSpline.design_matrix(np.clip(t, t[0], t[-1]), knots, 3).tocsr()


def demodulate_segment(
    tr: Traces, mask: np.ndarray, period: float, dead_time: float, knot_periods: float = 10.0
) -> dict[int, tuple[float, np.ndarray, np.ndarray]]:
    """Least-squares ΔV± of one segment; returns {phase: (ΔV, per-period ΔV, per-period Q_total)}.

    Samples less than ``dead_time`` (s) after the first sample of their phase are left out: the
    edge lies somewhere in the sample interval before it, so every kept sample is at least
    ``dead_time`` after its edge (with ``dead_time`` > 0 the first sample of each phase is dropped).
    """
    t, v, ph = tr.t[mask], tr.v_tc[mask], phases(tr.bias[mask])[0]
    edge = np.concatenate([[True], ph[1:] != ph[:-1]])
    last_edge = np.maximum.accumulate(np.where(edge, np.arange(t.size), 0))
    t_first = np.where(last_edge > 0, t[last_edge], -np.inf)  # the segment's first phase has no edge
    keep = (t - t_first) >= dead_time if dead_time > 0 else np.ones(t.size, bool)
    B = _drift_basis(t, period, knot_periods)
    X = sp.hstack(
        [sp.csr_matrix((ph == 1).astype(float)[:, None]), sp.csr_matrix((ph == -1).astype(float)[:, None]), B]
    ).tocsr()[keep]
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


def demodulate(
    tr: Traces,
    calibration,
    period: float = 1 / paper.MODULATION_FREQUENCY_HZ,
    dead_time: float | None = None,
    knot_periods: float = 10.0,
) -> list[tuple[PhaseResult, PhaseResult]]:
    """(+V, −V) results per bias amplitude, segments of equal V_M pooled (the paper's ~100 junctions).

    ``period`` (s) of the bias sequence (``+0-`` or ``+0-0``, read from the bias); ``dead_time`` (s)
    excluded after each phase's first sample (default: the calibration's 99.9 % settling time t999,
    the probe's own lag; add the electronics' settling, e.g. from ``probe-fem plan``).
    """
    fs = tr.fs
    if period * fs < 3:
        raise TraceError(f"period = {period:g} s holds {period * fs:.2f} samples at {fs:g} Hz: need >= 3")
    if dead_time is None:
        d = calibration.dynamics
        dead_time = d.t999_s if d is not None else 0.0
    phase = period / _phases_per_period(phases(tr.bias[tr.segment == tr.segment[0]])[0])
    if not (np.isfinite(dead_time) and 0 <= dead_time < phase):
        raise TraceError(f"dead_time = {dead_time!r} s: allowed [0, {phase:g}) s (shorter than a phase)")
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
        # per sign: (fit value, samples) per segment, per-period ΔV values, per-period Q_total values
        pooled: dict[int, tuple[list[tuple[float, int]], list[float], list[float]]] = {p: ([], [], []) for p in (1, -1)}
        for mask in groups[vm]:
            seg = demodulate_segment(tr, mask, period, dead_time, knot_periods)
            for p in (1, -1):
                dv, per_v, per_q = seg[p]
                pooled[p][0].append((dv, per_v.size))
                pooled[p][1].extend(per_v)
                pooled[p][2].extend(per_q)
        pair = []
        for p in (1, -1):
            fits, all_v, all_q = pooled[p]
            n = sum(w for _, w in fits)
            dV = sum(v * w for v, w in fits) / n
            u_dV = float(np.std(all_v, ddof=1) / np.sqrt(len(all_v)))
            dT, u_dT = calibration.temperature_rise(dV, u_dV)
            Q, uQ = calibration.probe_power(dV, u_dV)
            qt = float(np.mean(all_q))
            pair.append(
                PhaseResult(
                    V_M=vm * p,
                    dV=dV,
                    u_dV=u_dV,
                    dT=float(dT),
                    u_dT=float(u_dT),
                    Q_P=float(Q),
                    u_Q_P=float(uQ),
                    Q_total=qt,
                    u_Q_total=float(np.std(all_q, ddof=1) / np.sqrt(len(all_q))),
                    periods=len(all_v),
                )
            )
        results.append((pair[0], pair[1]))
    return results
