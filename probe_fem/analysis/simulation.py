"""Synthetic modulation experiments: Landauer heating → probe thermal response → thermocouple traces.

Each junction segment (the paper holds ~100 junctions for ~5 s each per V_M)
gets the bias sequence (``+0-``: +V_M, 0, −V_M; ``+0-0``: +V_M, 0, −V_M, 0, equal
phases), the Landauer current and heat Q_P(V) (optionally scaled by a per-junction
conductance spread), the probe's thermocouple response from the calibration's
thermal modes (modes slower than the sampling carry their weights, the remainder
of the steady rise follows instantly), S_TC, a slow baseline wander and noise drawn
from a :mod:`~probe_fem.analysis.noise` model (default: SR560-class amplifier,
1 kΩ thermocouple, drift and mains — consistent with the paper's < 0.1 mK).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from probe_fem import paper
from probe_fem.analysis.landauer import Junction
from probe_fem.analysis.noise import Noise, NoiseModel, synthesize
from probe_fem.analysis.sequences import SEQUENCES
from probe_fem.analysis.traces import Traces
from probe_fem.errors import InputError


@dataclass(frozen=True)
class Truth:
    """The values a perfect demodulation would return for one V_M (K, W)."""

    V_M: float
    dT_plus: float
    dT_minus: float
    Q_P_plus: float
    Q_P_minus: float
    Q_total_plus: float
    Q_total_minus: float


def simulate(
    junction: Junction,
    amplitudes: list[float],
    calibration,
    junctions_per_amplitude: int = 3,
    seconds: float = 5.0,
    fs: float = paper.SAMPLE_RATE_HZ,
    period: float = 1 / paper.MODULATION_FREQUENCY_HZ,
    noise: Noise | None = None,
    drift_nV: float = 50.0,
    spread: float = 0.0,
    seed: int = 0,
    sequence: str = "+0-",
) -> tuple[Traces, list[Truth]]:
    """Traces (CSV/NPZ-ready) and the true per-amplitude values.

    ``noise``: voltage noise at the amplifier input (None: :class:`NoiseModel` defaults);
    ``drift_nV``: amplitude of a slow sinusoidal baseline wander on top of it (V·1e-9).
    """
    d = calibration.dynamics
    taus = np.asarray(d.mode_tau_s if d else [], float)
    weights = np.asarray(d.mode_weight_tc if d else [], float)
    _check(seconds, fs, period, sequence, int(seconds * fs) * junctions_per_amplitude * len(amplitudes), taus)
    probe = _Probe(
        calibration.R_P.value, calibration.require_S_TC().value, taus, weights, np.array(SEQUENCES[sequence])
    )
    noise = NoiseModel() if noise is None else noise
    rng = np.random.default_rng(seed)
    model = junction.currents(np.concatenate([amplitudes, -np.asarray(amplitudes)]))
    n_amp = len(amplitudes)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("t", "v", "b", "i", "s")}
    truths = []
    t0, seg = 0.0, 0
    for a, vm in enumerate(amplitudes):
        factors = []
        heat = {key: model[key][[a, a + n_amp]] for key in ("I", "Q_P")}  # (+V, −V)
        for _ in range(junctions_per_amplitude):
            factors.append(max(0.0, 1 + spread * rng.standard_normal()))
            t = t0 + np.arange(int(seconds * fs)) / fs + rng.uniform(0, 1 / fs)
            bias, I, v = probe.segment(t, t0, period, vm, factors[-1], heat, rng)
            v = v + _drift(t - t0, drift_nV, rng) + synthesize(noise, t.size, fs, rng)
            for key, arr in zip("tvbis", (t, v, bias, I, np.full(t.size, seg))):
                cols[key].append(arr)
            t0, seg = t[-1] + 1.0 / fs, seg + 1
        truths.append(_truth(vm, float(np.mean(factors)), model, a, n_amp, probe.R))
    cat = {k: np.concatenate(v) for k, v in cols.items()}
    return Traces.from_arrays(cat["t"], cat["v"], cat["b"], cat["i"], cat["s"]), truths


def _check(seconds: float, fs: float, period: float, sequence: str, total: int, taus: np.ndarray) -> None:
    """The record's length, sampling and sequence, and phases long against the probe's slowest mode."""
    if not (np.isfinite(seconds) and np.isfinite(fs) and seconds > 0 and fs > 0) or total > 50_000_000:
        raise InputError(f"seconds = {seconds!r}, fs = {fs!r} Hz: {total:,} samples; allowed at most 50,000,000")
    if seconds < 2 * period:
        raise InputError(f"seconds = {seconds:g}: shorter than two modulation periods ({2 * period:g} s)")
    if sequence not in SEQUENCES:
        raise InputError(f"sequence = {sequence!r}: allowed {', '.join(map(repr, SEQUENCES))}")
    n_ph = len(SEQUENCES[sequence])
    if taus.size and period / n_ph < 50 * taus.max():
        raise InputError(
            f"period = {period:g} s: each phase must last > 50 x the slowest time constant "
            f"({taus.max():.3g} s) for this simulator"
        )


@dataclass(frozen=True)
class _Probe:
    """The calibrated probe: R_P (K/W), S_TC (V/K), its modes (τ in s, weight at the TC), the bias phases."""

    R: float
    S: float
    taus: np.ndarray
    weights: np.ndarray
    signs: np.ndarray

    def segment(self, t, t0, period, vm, g, heat, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bias (V), current (A) and thermocouple voltage (V, without noise or drift) of one junction."""
        n_ph = self.signs.size
        ph = self.signs[np.floor(np.mod(t - t0, period) / (period / n_ph)).astype(int) % n_ph]
        side = np.where(ph == 1, 0, 1)
        I = np.where(ph == 0, 0.0, g * heat["I"][side])
        Q = np.where(ph == 0, 0.0, g * heat["Q_P"][side])
        t_edge = t0 + np.floor((t - t0) / (period / n_ph)) * period / n_ph  # the last phase edge
        q_before = np.roll(Q, 1)  # the heat before that edge
        q_before[0] = 0.0
        new = np.concatenate([[True], ph[1:] != ph[:-1]])
        q_before = q_before[np.maximum.accumulate(np.where(new, np.arange(t.size), 0))]
        lag = 0.0
        if self.taus.size:
            decay = (q_before - Q)[:, None] * np.exp(-(t - t_edge)[:, None] / self.taus[None, :])
            lag = np.sum(self.weights * decay, axis=1)
        return vm * ph, I, self.S * (self.R * (Q + lag))


def _drift(t: np.ndarray, drift_nV: float, rng: np.random.Generator) -> np.ndarray:
    """A slow baseline wander (V): two sines of random phase and an offset, ``drift_nV`` nV in amplitude."""
    return (
        drift_nV
        * 1e-9
        * (
            np.sin(2 * np.pi * t / 7.3 + rng.uniform(0, 6.3))
            + 0.5 * np.sin(2 * np.pi * t / 2.1 + rng.uniform(0, 6.3))
            + rng.normal(0, 2)
        )
    )


def _truth(vm: float, gm: float, model: dict, a: int, n_amp: int, R: float) -> Truth:
    """The true values of one amplitude, for the junctions' mean conductance factor ``gm``."""
    qp, qm = gm * model["Q_P"][a], gm * model["Q_P"][a + n_amp]
    return Truth(
        V_M=vm,
        dT_plus=R * qp,
        dT_minus=R * qm,
        Q_P_plus=qp,
        Q_P_minus=qm,
        Q_total_plus=gm * model["Q_total"][a],
        Q_total_minus=gm * model["Q_total"][a + n_amp],
    )
