"""Measurement planning: the uncertainty of phase-averaged ΔT_TC against the modulation frequency.

The estimator (the paper's, and :func:`~probe_fem.analysis.demodulation.demodulate`'s) is a
difference of window means: ΔT̂± = mean(± phases) − mean(0 phases), each window starting a dead
time ``t_ex`` after its edge.  As a weight h(t) repeated every period P = 1/f over a record of
length T, its variance under a one-sided voltage PSD S_V is (harmonics k of f, the record's drift
model removes the k = 0 term)::

    var = (1/T) Σ_{k≥1} S_V(k f) |E_k|² + Σ_lines A²|G(f_line)|²,   E_k = ∫_period h(t) e^{−i2πkft} dt

divided by S_TC² for kelvin.  For the white part the sum is closed: (S_w/T)(P/2)∫h², which for
three equal phases and windows of length L = P/3 − t_ex is 3·S_w/(T·(1 − 3 f t_ex)).  Mains
lines enter through the estimator's response G at their frequency over the record (leakage).
The lag bias is exact: the calibration's transfer function (a sum of relaxations) in periodic
steady state, averaged over the same windows (:func:`~probe_fem.physics.modulation.phase_averages`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from probe_fem.analysis.noise import Noise
from probe_fem.analysis.sequences import SEQUENCES
from probe_fem.calibration.schema import Calibration
from probe_fem.errors import InputError
from probe_fem.physics.modulation import Waveform, phase_averages
from probe_fem.physics.pole_residue import PoleResidue

ESTIMATES = ("+V", "-V", "asymmetry")  # ΔT(+) − ΔT(0), ΔT(−) − ΔT(0), ΔT(−) − ΔT(+)


class PlanError(InputError):
    """Planning inputs that cannot be used."""

    kind = "plan"


@dataclass(frozen=True)
class Acquisition:
    """How the experiment is recorded (SI): sequence, dead time after each edge, sampling, durations."""

    sequence: str = "+0-"
    dead_time_s: float = 5e-3
    fs_Hz: float = 2000.0
    seconds_per_junction: float = 5.0
    junctions: int = 100
    harmonics: int | None = None  # weighted harmonics summed for colored noise; None: all below fs/2

    def __post_init__(self) -> None:
        if self.sequence not in SEQUENCES:
            raise PlanError(f"sequence = {self.sequence!r}: allowed {', '.join(map(repr, SEQUENCES))}")
        checks = [
            ("dead_time_s", self.dead_time_s, 0.0, "s"),
            ("fs_Hz", self.fs_Hz, None, "Hz"),
            ("seconds_per_junction", self.seconds_per_junction, None, "s"),
        ]
        for name, value, lo, unit in checks:
            if not math.isfinite(value) or (value < 0 if lo == 0.0 else value <= 0):
                raise PlanError(f"{name} = {value!r}: allowed {'[0' if lo == 0.0 else '(0'}, ∞) {unit}, finite")
        if isinstance(self.junctions, bool) or self.junctions < 1:
            raise PlanError(f"junctions = {self.junctions!r}: allowed an integer >= 1")
        if self.harmonics is not None and (isinstance(self.harmonics, bool) or self.harmonics < 1):
            raise PlanError(f"harmonics = {self.harmonics!r}: allowed an integer >= 1")

    @property
    def phases(self) -> tuple[int, ...]:
        return SEQUENCES[self.sequence]

    @property
    def excluded_s(self) -> float:
        """The dead time as the analysis applies it: whole samples from each phase's first sample (s)."""
        return math.ceil(self.dead_time_s * self.fs_Hz - 1e-9) / self.fs_Hz

    def check_frequency(self, f: float) -> None:
        """Raise :class:`PlanError` if ``f`` cannot be planned with this acquisition."""
        n = len(self.phases)
        phase = 1 / (n * f)
        if not math.isfinite(f) or f <= 0:
            raise PlanError(f"frequency = {f!r}: allowed (0, ∞) Hz, finite")
        if self.excluded_s >= phase:
            raise PlanError(
                f"dead_time = {self.dead_time_s * 1e3:g} ms at {f:g} Hz: longer than a phase "
                f"({phase * 1e3:.3g} ms); allowed [0, {phase * 1e3:.3g}) ms"
            )
        if phase * self.fs_Hz < 2:
            raise PlanError(
                f"fs = {self.fs_Hz:g} Hz at {f:g} Hz: {phase * self.fs_Hz:.2g} samples per phase; "
                f"allowed fs >= {2 * n * f:g} Hz (2 samples per phase)"
            )
        if self.harmonics is not None:
            k = weighted_harmonics(self.phases, self.harmonics)[-1]
            if self.fs_Hz < 2 * k * f:
                raise PlanError(
                    f"fs = {self.fs_Hz:g} Hz: below 2× the highest weighted harmonic used "
                    f"(harmonic {k} of {f:g} Hz = {k * f:g} Hz; harmonics = {self.harmonics}); "
                    f"allowed fs >= {2 * k * f:g} Hz"
                )


def weighted_harmonics(phases: tuple[int, ...], count: int) -> list[int]:
    """The first ``count`` harmonics k at which the demodulation weights are not zero (any dead time)."""
    n = len(phases)
    return [k for k in range(1, count * n + 1) if k % n != 0][:count]


def windows(phases: tuple[int, ...], f: float, dead_time: float, estimate: str) -> list[tuple[float, float, float]]:
    """(start, end, weight) per window of one period for an estimate; weights make each side a mean."""
    n, P = len(phases), 1 / f
    pos, neg = {"+V": (1, 0), "-V": (-1, 0), "asymmetry": (-1, 1)}[estimate]
    out = []
    for sign, side in ((pos, 1.0), (neg, -1.0)):
        idx = [i for i, s in enumerate(phases) if s == sign]
        length = len(idx) * (P / n - dead_time)
        out += [(i * P / n + dead_time, (i + 1) * P / n, side / length) for i in idx]
    return out


def harmonic_weights(win: list[tuple[float, float, float]], freqs: np.ndarray) -> np.ndarray:
    """E(ν) = Σ_j w_j ∫_{s_j}^{e_j} e^{−i2πνt} dt for each frequency ν (Hz) (dimensionless)."""
    w = 2 * np.pi * np.asarray(freqs, float)[:, None]
    s, e, a = (np.array(x)[None, :] for x in zip(*win))
    return np.sum(a * (np.exp(-1j * w * s) - np.exp(-1j * w * e)) / (1j * w), axis=1)


def variance(noise: Noise, acq: Acquisition, f: float, estimate: str) -> float:
    """Variance (V²) of one junction's estimate at modulation frequency ``f`` (Hz)."""
    acq.check_frequency(f)
    win = windows(acq.phases, f, acq.excluded_s, estimate)
    T, P = acq.seconds_per_junction, 1 / f
    white = noise.white() * (P / 2) * sum(a * a * (e - s) for s, e, a in win) / T
    kmax = int(acq.fs_Hz / (2 * f))
    k = np.array(weighted_harmonics(acq.phases, acq.harmonics) if acq.harmonics else range(1, kmax + 1), float)
    E2 = np.abs(harmonic_weights(win, k * f)) ** 2
    colored = float(np.sum(noise.colored(k * f) * E2)) / T
    return white + colored + line_variance(noise, acq, f, win)


def line_variance(noise: Noise, acq: Acquisition, f: float, win: list[tuple[float, float, float]]) -> float:
    """Mean-square pickup (V²) of the mains lines in one junction's estimate: a line of rms A at ν
    contributes A²·|E(ν)|²·|D_N(ν/f)|², D_N the Dirichlet kernel of the record's N periods (random phase)."""
    n_per = max(1, int(acq.seconds_per_junction * f))
    out = 0.0
    for fl, amp in noise.lines():
        if fl >= acq.fs_Hz / 2:
            continue  # above Nyquist: the amplifier's anti-alias filter removes it
        x = fl / f
        s = math.sin(math.pi * x)
        dirichlet = 1.0 if abs(s) < 1e-12 else abs(math.sin(math.pi * n_per * x) / (n_per * s))
        out += amp**2 * (abs(harmonic_weights(win, np.array([fl]))[0]) * dirichlet) ** 2
    return out


def lag_errors(rom: PoleResidue, acq: Acquisition, f: float, q_plus: float, q_minus: float) -> dict[str, float]:
    """ΔT estimates (K per W of R_P·Q) minus their quasi-static values, for heat q± (W) in the ± phases:
    {"+V", "-V": relative errors; "asymmetry": absolute error of ΔT(−) − ΔT(+) over R_P·mean(q)}."""
    phases = acq.phases
    levels = tuple(q_plus if s > 0 else q_minus if s < 0 else 0.0 for s in phases)
    wave = Waveform(levels=levels, fractions=(1 / len(phases),) * len(phases), names=tuple(map(str, phases)))
    avg = phase_averages(rom, wave, f, acq.excluded_s)

    def mean_of(sign: int) -> float:
        return float(np.mean([a for a, s in zip(avg, phases) if s == sign]))

    d_plus, d_minus = mean_of(1) - mean_of(0), mean_of(-1) - mean_of(0)
    R = rom.dc
    return {
        "+V": d_plus / (R * q_plus) - 1,
        "-V": d_minus / (R * q_minus) - 1,
        "asymmetry": ((d_minus - d_plus) - R * (q_minus - q_plus)) / (R * (q_plus + q_minus) / 2),
    }


@dataclass
class Plan:
    """σ and lag bias against frequency, the optimum and its plateau, and a verdict on one frequency (SI)."""

    frequencies_Hz: np.ndarray
    sigma_dT_K: dict[str, np.ndarray]  # per junction, per estimate
    lag: dict[str, np.ndarray]  # relative lag errors per estimate (asymmetry: relative to R_P·mean Q)
    fake_asymmetry: np.ndarray  # lag-made ΔT(−) − ΔT(+) of a symmetric junction, relative to R_P·Q
    acquisition: Acquisition
    noise: dict[str, Any]
    R_P: float
    S_TC: float
    q_plus_W: float
    q_minus_W: float
    chosen_Hz: float
    chosen: dict[str, Any] = field(default_factory=dict)

    @property
    def sigma_Q_pooled_W(self) -> np.ndarray:
        s = np.maximum(self.sigma_dT_K["+V"], self.sigma_dT_K["-V"])
        return s / self.R_P / math.sqrt(self.acquisition.junctions)

    @property
    def optimal_frequency_Hz(self) -> float:
        return float(self.frequencies_Hz[int(np.argmin(self.sigma_Q_pooled_W))])

    @property
    def plateau_Hz(self) -> tuple[float, float]:
        """The frequency band where σ(Q_P) is within 10 % of its minimum (contiguous around it)."""
        s = self.sigma_Q_pooled_W
        i = int(np.argmin(s))
        ok = s <= 1.1 * s[i]
        lo = i
        while lo > 0 and ok[lo - 1]:
            lo -= 1
        hi = i
        while hi < s.size - 1 and ok[hi + 1]:
            hi += 1
        return float(self.frequencies_Hz[lo]), float(self.frequencies_Hz[hi])

    @property
    def within_10_percent_Hz(self) -> tuple[float, float]:
        """Lowest and highest scanned frequency with σ(Q_P) within 10 % of the minimum (mains notches between
        them are outside; :attr:`plateau_Hz` is the contiguous band around the optimum)."""
        s = self.sigma_Q_pooled_W
        f = self.frequencies_Hz[s <= 1.1 * s.min()]
        return float(f.min()), float(f.max())

    def to_dict(self) -> dict[str, Any]:
        """``plan.json``: the optimum, its plateau, the NEP and σ at the judged frequency, then the curves."""
        a = self.acquisition
        lag_f = self.lag_exceeds_sigma_Hz()
        return {
            "optimal_frequency_Hz": self.optimal_frequency_Hz,
            "plateau_Hz": list(self.plateau_Hz),
            "within_10_percent_Hz": list(self.within_10_percent_Hz),
            "nep_W_per_rtHz": self.chosen["nep_W_per_rtHz"],
            **self.chosen,
            "lag_bias_exceeds_pooled_sigma_above_Hz": lag_f,
            "acquisition": {
                "sequence": a.sequence,
                "dead_time_s": a.dead_time_s,
                "fs_Hz": a.fs_Hz,
                "seconds_per_junction": a.seconds_per_junction,
                "junctions": a.junctions,
                "harmonics": a.harmonics,
            },
            "noise": self.noise,
            "R_P_K_per_W": self.R_P,
            "S_TC_V_per_K": self.S_TC,
            "Q_P_W": {"+V": self.q_plus_W, "-V": self.q_minus_W},
            "curves": {
                "frequency_Hz": self.frequencies_Hz.tolist(),
                "sigma_dT_K_per_junction": {k: v.tolist() for k, v in self.sigma_dT_K.items()},
                "sigma_Q_P_W_pooled": self.sigma_Q_pooled_W.tolist(),
                "lag_bias": {k: v.tolist() for k, v in self.lag.items()},
                "fake_asymmetry_symmetric_junction": self.fake_asymmetry.tolist(),
            },
        }

    def lag_exceeds_sigma_Hz(self) -> float | None:
        """Lowest planned frequency above which the uncorrected lag bias of Q_P(±) exceeds its pooled 1σ."""
        q = min(self.q_plus_W, self.q_minus_W)
        bias = np.maximum(np.abs(self.lag["+V"]), np.abs(self.lag["-V"])) * q
        over = bias > self.sigma_Q_pooled_W
        if not over.any():
            return None
        i = int(np.argmax(over))
        return float(self.frequencies_Hz[i])


def _evaluate(
    rom: PoleResidue, noise: Noise, acq: Acquisition, f: float, q_plus: float, q_minus: float, S_TC: float
) -> tuple[dict[str, float], dict[str, float], float]:
    sig = {e: math.sqrt(variance(noise, acq, f, e)) / S_TC for e in ESTIMATES}
    lag = lag_errors(rom, acq, f, q_plus, q_minus)
    q = (q_plus + q_minus) / 2
    fake = lag_errors(rom, acq, f, q, q)["asymmetry"]
    return sig, lag, fake


def plan(
    calibration: Calibration,
    noise: Noise,
    acquisition: Acquisition,
    q_plus_W: float,
    q_minus_W: float,
    frequency_Hz: float,
    f_min_Hz: float = 0.5,
    f_max_Hz: float | None = None,
    points: int = 200,
) -> Plan:
    """Plan a three-level measurement from a calibration file (no FEM): σ, lag bias, optimum, verdict.

    ``q_plus_W``, ``q_minus_W``: expected heat in the probe in the ±V phases; ``frequency_Hz``:
    the frequency to judge.  Frequencies above the highest one the acquisition allows (dead time
    shorter than a phase, 2 samples per phase, harmonics below fs/2) are left out of the scan.
    """
    if calibration.dynamics is None or calibration.dynamics.transfer_function is None:
        raise PlanError(
            "calibration: has no transfer function (dynamics.transfer_function, schema >= 1.1); "
            "run probe-fem calibrate to make one"
        )
    for name, q in (("q_plus", q_plus_W), ("q_minus", q_minus_W)):
        if not math.isfinite(q) or q <= 0:
            raise PlanError(f"{name} = {q!r} W: allowed (0, ∞) W, finite")
    if not (math.isfinite(f_min_Hz) and f_min_Hz > 0) or not (isinstance(points, int) and 3 <= points <= 100_000):
        raise PlanError(f"frequency range: f_min = {f_min_Hz!r} Hz must be > 0 and points = {points!r} in [3, 100000]")
    acquisition.check_frequency(frequency_Hz)
    rom = calibration.dynamics.transfer_function.model()
    top = _highest_frequency(acquisition)
    f_max = min(f_max_Hz, top) if f_max_Hz else top
    if f_max <= f_min_Hz:
        raise PlanError(f"frequency range [{f_min_Hz:g}, {f_max:g}] Hz is empty for this acquisition")
    freqs = np.geomspace(f_min_Hz, f_max, points)
    S_TC, R_P = calibration.require_S_TC().value, calibration.R_P.value
    rows = [_evaluate(rom, noise, acquisition, f, q_plus_W, q_minus_W, S_TC) for f in freqs]
    out = Plan(
        frequencies_Hz=freqs,
        sigma_dT_K={e: np.array([r[0][e] for r in rows]) for e in ESTIMATES},
        lag={e: np.array([r[1][e] for r in rows]) for e in ESTIMATES},
        fake_asymmetry=np.array([r[2] for r in rows]),
        acquisition=acquisition,
        noise=noise.to_dict(),
        R_P=R_P,
        S_TC=S_TC,
        q_plus_W=q_plus_W,
        q_minus_W=q_minus_W,
        chosen_Hz=frequency_Hz,
    )
    out.chosen = _judge(out, rom, noise, frequency_Hz)
    return out


def _highest_frequency(acq: Acquisition) -> float:
    """Highest modulation frequency the acquisition allows (a little inside the limit)."""
    n = len(acq.phases)
    limits = [acq.fs_Hz / (2 * n)]
    if acq.dead_time_s > 0:
        limits.append(1 / (n * acq.dead_time_s))
    if acq.harmonics is not None:
        limits.append(acq.fs_Hz / (2 * weighted_harmonics(acq.phases, acq.harmonics)[-1]))
    return 0.999 * min(limits)


def _judge(p: Plan, rom: PoleResidue, noise: Noise, f: float) -> dict[str, Any]:
    acq = p.acquisition
    sig, lag, fake = _evaluate(rom, noise, acq, f, p.q_plus_W, p.q_minus_W, p.S_TC)
    pooled = math.sqrt(acq.junctions)
    s_q = max(sig["+V"], sig["-V"]) / p.R_P
    s_best = float(np.min(p.sigma_Q_pooled_W)) * pooled
    bias_q = {"+V": lag["+V"] * p.q_plus_W, "-V": lag["-V"] * p.q_minus_W}
    clearance = mains_clearance(noise, acq, f)
    clearance["leakage_K_per_junction"] = clearance.pop("leakage_V_per_junction") / p.S_TC
    reasons = []
    if s_q > 1.1 * s_best:
        reasons.append(f"σ(Q_P) is {s_q / s_best - 1:.0%} above the optimum's")
    if max(abs(b) for b in bias_q.values()) > s_q / pooled:
        reasons.append("the uncorrected lag bias exceeds the pooled 1σ")
    if clearance["leakage_K_per_junction"] ** 2 > 0.1 * max(sig["+V"], sig["-V"]) ** 2:
        reasons.append("mains pickup makes more than 10 % of the variance")
    return {
        "frequency_Hz": f,
        "sigma_dT_K_per_junction": {"+V": sig["+V"], "-V": sig["-V"]},
        "sigma_dT_K_pooled": {"+V": sig["+V"] / pooled, "-V": sig["-V"] / pooled},
        "sigma_Q_P_W_per_junction": s_q,
        "sigma_Q_P_W_pooled": s_q / pooled,
        "sigma_asymmetry_W_per_junction": sig["asymmetry"] / p.R_P,
        "sigma_asymmetry_W_pooled": sig["asymmetry"] / p.R_P / pooled,
        "lag_bias": {"+V": lag["+V"], "-V": lag["-V"]},
        "lag_bias_W": bias_q,
        "asymmetry_lag_error_W": lag["asymmetry"] * (p.q_plus_W + p.q_minus_W) / 2,
        "fake_asymmetry_symmetric_junction": fake,
        "nep_W_per_rtHz": nep(noise, rom, p.S_TC, f),
        "mains": clearance,
        "ok": not reasons,
        "verdict": "good choice" if not reasons else "; ".join(reasons),
    }


def nep(noise: Noise, rom: PoleResidue, S_TC: float, f: float) -> float:
    """Noise-equivalent power at ``f`` (W/√Hz): √S_V(f) / (S_TC·|H(f)|), with H the probe's ΔT_TC/Q_P."""
    S = float(noise.psd(np.array([f]))[0])
    return math.sqrt(S) / (S_TC * abs(rom.H(np.array([2 * np.pi * f]))[0]))


def mains_clearance(noise: Noise, acq: Acquisition, f: float) -> dict[str, Any]:
    """How close a weighted demodulation harmonic comes to a mains multiple, and what the lines leak (V rms)."""
    lines = noise.lines()
    mains = float(getattr(noise, "mains_Hz", lines[0][0] if lines else 60.0))
    n = len(acq.phases)
    ks = [k for k in range(1, int(acq.fs_Hz / (2 * f)) + 1) if k % n != 0]
    ms = range(1, int(acq.fs_Hz / 2 / mains) + 1)
    d, k, m = min(((abs(k * f - m * mains), k, m) for k in ks for m in ms), default=(math.inf, 0, 0))
    leak = max(line_variance(noise, acq, f, windows(acq.phases, f, acq.excluded_s, e)) for e in ("+V", "-V"))
    return {
        "mains_Hz": mains,
        "closest_harmonic": k,
        "closest_mains_multiple": m,
        "distance_Hz": d,
        "record_resolution_Hz": 1 / acq.seconds_per_junction,
        "leakage_V_per_junction": math.sqrt(leak),
    }
