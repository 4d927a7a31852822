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

V_M is estimated robustly per segment and bias samples far from both 0 and ±V_M (glitches) are
left out of the fit and counted (``PhaseResult.glitches``); what cannot be analysed — a segment
shorter than two periods, without modulation, with a flat V_TC or a dead current channel — is a
:class:`~probe_fem.analysis.traces.TraceError` naming the segment and the problem.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.interpolate import BSpline

from probe_fem import paper
from probe_fem.analysis.traces import PHASES, TraceError, Traces  # noqa: F401  (TraceError: re-exported)

GLITCH_BANDS = (0.25, 0.75, 1.5)
"""|bias|/V_M outside [0, 0.25] ∪ [0.75, 1.5] marks a sample as a bias glitch (excluded from the fit)."""
MAX_GLITCH_FRACTION = 0.1
"""More glitches than this fraction of a segment's samples: not a three-level bias, refused."""
MIN_PERIODS = 2
"""Shortest segment, in modulation periods."""


def levels(bias: np.ndarray, where: str = "traces") -> tuple[np.ndarray, float, np.ndarray]:
    """Phase of each sample (+1, 0, −1), the amplitude V_M (V) and the glitch mask of a bias record.

    V_M is robust: the 75th percentile of |bias| (inside the V_M level for ``+0-``, where 2/3 of the
    samples are at ±V_M, and for ``+0-0``, 1/2), refined to the median of the samples within
    [0.75, 1.5]·V_M of it, so isolated glitches of any size leave it unchanged. Glitches are samples
    whose |bias| lies in (0.25, 0.75)·V_M or above 1.5·V_M (see ``GLITCH_BANDS``).
    """
    b = np.abs(np.asarray(bias, float))
    if not np.any(b):
        raise TraceError(f"{where}: the bias never leaves 0 V; no modulation to demodulate")
    coarse = float(np.percentile(b, 75))
    if not coarse > 0:
        raise TraceError(
            f"{where}: the bias is 0 V in over 75 % of the samples ({np.count_nonzero(b)} non-zero of {b.size}): "
            "no +0- or +0-0 modulation found"
        )
    lo, mid, hi = GLITCH_BANDS
    at = (b >= mid * coarse) & (b <= hi * coarse)
    vm = float(np.median(b[at])) if at.any() else coarse
    glitch = (b > hi * vm) | ((b > lo * vm) & (b < mid * vm))
    return np.where(bias > vm / 2, 1, np.where(bias < -vm / 2, -1, 0)), vm, glitch


def phases(bias: np.ndarray) -> tuple[np.ndarray, float]:
    """Phase of each sample (+1, 0, −1) from the bias, and the amplitude V_M (V); see :func:`levels`."""
    ph, vm, _ = levels(bias)
    return ph, vm


@dataclass
class PhaseResult:
    """Demodulated values for one bias polarity at one amplitude V_M (SI units).

    ``periods``: per-period values behind ``u_dV``; ``glitches``: bias samples excluded as glitches
    (|bias| far from both 0 and V_M, see :func:`levels`) in the segments pooled for this amplitude —
    one count for the amplitude, the same in its +V and −V results.
    """

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
    glitches: int = 0

    @property
    def fraction(self) -> float:
        return self.Q_P / self.Q_total

    @property
    def u_fraction(self) -> float:
        # |f|·hypot(u_Q_P/Q_P, u_Q_total/Q_total), written so that Q_P = 0 is allowed
        return float(np.hypot(self.u_Q_P, self.fraction * self.u_Q_total) / abs(self.Q_total))

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
            "glitches": self.glitches,
        }


def _phases_per_period(ph: np.ndarray) -> int:
    """Phases per period of a phase sequence (3 for +0-, 4 for +0-0): runs per run of + phase."""
    runs = 1 + int(np.count_nonzero(ph[1:] != ph[:-1]))
    plus = max(1, int(np.count_nonzero(np.diff(np.concatenate([[0], (ph == 1).astype(int)])) == 1)))
    return max(2, round(runs / plus))


def _drift_basis(t: np.ndarray, period: float, knot_periods: float) -> sp.csr_matrix:
    span = t[-1] - t[0]
    n_int = max(1, int(np.ceil(span / (knot_periods * period))))
    if n_int > t.size:  # bounds the allocation (uniform steps and >= 3 samples per period keep it below t.size/3)
        raise TraceError(f"drift spline: {n_int:,} knot intervals for {t.size:,} samples (knot spacing too fine)")
    inner = np.linspace(t[0], t[-1], n_int + 1)
    knots = np.concatenate([[t[0]] * 3, inner, [t[-1]] * 3])
    return BSpline.design_matrix(np.clip(t, t[0], t[-1]), knots, 3).tocsr()


def demodulate_segment(
    tr: Traces, mask: np.ndarray, period: float, dead_time: float, knot_periods: float = 10.0
) -> dict[int, tuple[float, np.ndarray, np.ndarray]]:
    """Least-squares ΔV± of one segment; returns {phase: (ΔV, per-period ΔV, per-period Q_total)}.

    Bias glitches (:func:`levels`) are left out first. Samples less than ``dead_time`` (s) after the
    first sample of their phase are left out: the edge lies somewhere in the sample interval before it,
    so every kept sample is at least ``dead_time`` after its edge (with ``dead_time`` > 0 the first
    sample of each phase is dropped).
    """
    ph, _, glitch = levels(tr.bias[mask])
    good = ~glitch
    t, v, ph = tr.t[mask][good], tr.v_tc[mask][good], ph[good]
    q_all = tr.current[mask][good] * tr.bias[mask][good]
    # fit V_TC in units of a power of two near its largest value: exact, and no overflow for any finite V_TC
    exponent = int(np.frexp(np.max(np.abs(v)))[1]) if v.size else 0
    v = np.ldexp(v, -exponent)
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
    cycle = np.cumsum(edge & (ph == 1))  # a new period starts at each + phase; non-decreasing
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(cycle)) + 1, [t.size]])
    out = {}
    for p, col in ((1, 0), (-1, 1)):
        per_v, per_q = [], []
        for lo, hi in itertools.pairwise(bounds):
            r, k, f = resid_free[lo:hi], keep[lo:hi], ph[lo:hi]
            a, z = k & (f == p), k & (f == 0)
            if a.any() and z.any():
                per_v.append(r[a].mean() - r[z].mean())
            q = f == p
            if q.any():
                per_q.append(np.mean(q_all[lo:hi][q]))
        out[p] = (float(np.ldexp(coef[col], exponent)), np.ldexp(np.array(per_v), exponent), np.array(per_q))
    return out


def _check_segment(tr: Traces, s: int, mask: np.ndarray, period: float, step: float) -> tuple[float, int, np.ndarray]:
    """Refuse a segment that cannot be demodulated (with the reason); return its V_M, glitch count and phases."""
    where = f"traces: segment {s}"
    t = tr.t[mask]
    duration = float(t[-1] - t[0]) + step
    if duration < MIN_PERIODS * period * (1 - 1e-9):
        raise TraceError(
            f"{where} lasts {duration:.6g} s ({t.size} samples): shorter than {MIN_PERIODS} modulation periods "
            f"({MIN_PERIODS} x {period:.6g} s)"
        )
    ph, vm, glitch = levels(tr.bias[mask], where)
    n_glitch = int(np.count_nonzero(glitch))
    if n_glitch > MAX_GLITCH_FRACTION * t.size:
        raise TraceError(
            f"{where}: {n_glitch} of {t.size} bias samples are neither near 0 V nor near ±V_M = {vm:.6g} V "
            f"(over {MAX_GLITCH_FRACTION:.0%}): not a three-level +0- or +0-0 bias"
        )
    good = ~glitch
    for p, name in ((1, "+V_M"), (-1, "-V_M"), (0, "0 V")):
        if not np.any(good & (ph == p)):
            raise TraceError(f"{where}: no {name} phase in the bias (V_M = {vm:.6g} V): need +V_M, 0 V and -V_M")
    v = tr.v_tc[mask]
    if np.ptp(v) == 0:
        raise TraceError(f"{where}: V_TC is constant ({v[0]:.6g} V, zero variance): a flat thermocouple channel")
    current = tr.current[mask]
    for p, name in ((1, "+V_M"), (-1, "-V_M")):
        if not np.any(current[good & (ph == p)]):
            raise TraceError(
                f"{where}: the current is 0 A in every {name} sample: Q_total = mean(I·V) is undefined "
                "(a dead current channel?)"
            )
    return vm, n_glitch, ph[good]


def _finite(result: PhaseResult) -> PhaseResult:
    with np.errstate(all="ignore"):
        values = result.to_dict()
    bad = [k for k, x in values.items() if not np.isfinite(x)]
    if bad:
        raise TraceError(
            f"traces: at V_M = {result.V_M:+.6g} V the demodulated {', '.join(bad)} are not finite: V_TC, bias or "
            "current values out of floating-point range"
        )
    return result


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

    Refused with a :class:`TraceError` naming the segment: a segment shorter than ``MIN_PERIODS``
    periods, without modulation (bias at 0 V) or without one of the +V_M, 0, −V_M levels, with more
    than ``MAX_GLITCH_FRACTION`` bias glitches, a flat V_TC, or a current that is 0 A throughout a
    polarity (Q_total undefined); fewer than 2 usable periods per amplitude; non-finite results.
    Isolated bias glitches are excluded and counted (:attr:`PhaseResult.glitches`).
    """
    checked = _checked_segments(tr, period, knot_periods)
    if dead_time is None:
        d = calibration.dynamics
        dead_time = d.t999_s if d is not None else 0.0
    phase = period / _phases_per_period(next(iter(checked.values()))[3])
    if not (np.isfinite(dead_time) and 0 <= dead_time < phase):
        raise TraceError(f"dead_time = {dead_time!r} s: allowed [0, {phase:g}) s (shorter than a phase)")
    results = []
    for vm, segments in sorted(_by_amplitude(checked).items()):
        pooled, glitches = _pool(tr, checked, segments, period, dead_time, knot_periods)
        plus, minus = (_phase_result(calibration, vm * p, *pooled[p], glitches) for p in (1, -1))
        results.append((plus, minus))
    return results


Checked = dict[int, tuple[np.ndarray, float, int, np.ndarray]]  # segment -> (mask, V_M, glitches, levels)
Pooled = tuple[list[tuple[float, int]], list[float], list[float]]  # (fit, periods) per segment; per-period ΔV, Q_total


def _checked_segments(tr: Traces, period: float, knot_periods: float) -> Checked:
    """Every segment checked (see :func:`demodulate`), with its amplitude, glitches and bias levels."""
    if not (np.isfinite(period) and period > 0):
        raise TraceError(f"period = {period!r} s: must be a finite positive number")
    if not (np.isfinite(knot_periods) and knot_periods >= 1):
        raise TraceError(f"knot_periods = {knot_periods!r}: allowed >= 1 (drift knots closer than a period)")
    fs = 1.0 / tr.step
    if period * fs < 3:
        raise TraceError(f"period = {period:g} s holds {period * fs:.2f} samples at {fs:g} Hz: need >= 3")
    checked = {}
    for s in np.unique(tr.segment):
        mask = tr.segment == s
        checked[int(s)] = (mask, *_check_segment(tr, int(s), mask, period, tr.step))
    return checked


def _by_amplitude(checked: Checked) -> dict[float, list[int]]:
    """Segments grouped by V_M (within 1 %): the paper's ~100 junctions of one bias."""
    groups: dict[float, list[int]] = {}
    for s, (_, vm, _, _) in checked.items():
        key = min(groups, key=lambda g: abs(g - vm), default=None)
        if key is None or abs(key - vm) > 0.01 * vm:
            key = vm
        groups.setdefault(key, []).append(s)
    return groups


def _pool(
    tr: Traces, checked: Checked, segments: list[int], period: float, dead_time: float, knot_periods: float
) -> tuple[dict[int, Pooled], int]:
    """Each polarity's demodulated values over the segments of one amplitude, and their glitch count."""
    pooled: dict[int, Pooled] = {p: ([], [], []) for p in (1, -1)}
    glitches = 0
    for s in segments:
        mask, _, n_glitch, _ = checked[s]
        glitches += n_glitch
        with np.errstate(over="ignore", invalid="ignore"):
            seg = demodulate_segment(tr, mask, period, dead_time, knot_periods)
        for p in (1, -1):
            dv, per_v, per_q = seg[p]
            if per_v.size == 0:
                raise TraceError(
                    f"traces: segment {s}: no period holds both a {'+' if p > 0 else '-'}V_M and a 0 V phase "
                    f"after the dead time {dead_time:g} s"
                )
            pooled[p][0].append((dv, per_v.size))
            pooled[p][1].extend(per_v)
            pooled[p][2].extend(per_q)
    return pooled, glitches


def _phase_result(
    calibration, V_M: float, fits: list[tuple[float, int]], all_v: list[float], all_q: list[float], glitches: int
) -> PhaseResult:
    """One polarity's ΔV_TC, ΔT_TC, Q_P and Q_total with their uncertainties, through the calibration."""
    n = sum(w for _, w in fits)
    if n < 2:
        raise TraceError(f"traces: V_M = {V_M:+.6g} V: only {n} usable modulation period: need >= 2 for an uncertainty")
    with np.errstate(over="ignore", invalid="ignore"):
        dV = sum(v * w for v, w in fits) / n
        u_dV = float(np.std(all_v, ddof=1) / np.sqrt(len(all_v)))
        dT, u_dT = calibration.temperature_rise(dV, u_dV)
        Q, uQ = calibration.probe_power(dV, u_dV)
        qt = float(np.mean(all_q))
        u_qt = float(np.std(all_q, ddof=1) / np.sqrt(len(all_q))) if len(all_q) > 1 else float("nan")
    if qt == 0:
        raise TraceError(
            f"traces: V_M = {V_M:+.6g} V: the mean I·V over the phase is 0 W: Q_total and Q_P/Q_total are undefined"
        )
    result = PhaseResult(
        V_M=V_M,
        dV=dV,
        u_dV=u_dV,
        dT=float(dT),
        u_dT=float(u_dT),
        Q_P=float(Q),
        u_Q_P=float(uQ),
        Q_total=qt,
        u_Q_total=u_qt,
        periods=len(all_v),
        glitches=glitches,
    )
    return _finite(result)
