"""Voltage noise at the thermocouple amplifier input: a one-sided PSD (V²/Hz) plus mains lines.

Parametric model (:class:`NoiseModel`)::

    S_V(f) = w²·(1 + f_c/f) + 4·k_B·T·R_TC + D/(2π²f²)

amplifier white density ``w`` with its 1/f corner ``f_c``, the thermocouple's Johnson noise
(no bias current flows in it, so it has no 1/f part), and a random-walk drift whose variance
grows as D·t (one-sided PSD D/(2π²f²)); mains pickup at n·f_mains with an rms amplitude per
harmonic.  A measured PSD can be given as a table instead (:class:`TabulatedNoise`), or the
model fitted to a zero-power trace with Welch's method (:func:`fit_trace`).
:func:`synthesize` draws a record with a given PSD for the simulator.

Default values are estimates for an SR560-class amplifier (its datasheet class; Lee et al. 2013 used an SR560):
4 nV/√Hz white, 1/f corner 3 Hz, a 1 kΩ thermocouple, drift ~1 mK per 100 s, 60 Hz mains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from probe_fem import paper
from probe_fem.constants import K_B
from probe_fem.errors import InputError
from probe_fem.io import read_text


class NoiseError(InputError):
    """A noise model, PSD file or zero-power trace that cannot be used."""

    kind = "noise"


class Noise(Protocol):
    """What planning and simulation need of a noise description."""

    def psd(self, f: np.ndarray) -> np.ndarray: ...  # continuous part, V²/Hz, one-sided

    def lines(self) -> list[tuple[float, float]]: ...  # (frequency Hz, rms V)

    def white(self) -> float: ...  # the flat part of psd (V²/Hz), used in closed form

    def colored(self, f: np.ndarray) -> np.ndarray: ...  # psd minus white (V²/Hz)

    def to_dict(self) -> dict[str, Any]: ...


def _positive_finite(name: str, value: float, allow_zero: bool = True, unit: str = "") -> None:
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok or isinstance(value, bool):
        rng = "[0, ∞)" if allow_zero else "(0, ∞)"
        raise NoiseError(f"noise.{name} = {value!r}: allowed {rng} {unit}, finite".rstrip())


@dataclass(frozen=True)
class NoiseModel:
    """Parametric noise at the amplifier input (SI units: V/√Hz, Hz, Ω, K, V²/s, V rms)."""

    white_V_per_rtHz: float = 4e-9
    corner_Hz: float = 3.0
    R_TC_ohm: float = 1000.0
    T_K: float = 300.0
    drift_V2_per_s: float = (paper.S_TC_V_PER_K * 1e-3) ** 2 / 100.0  # ~1 mK rms per 100 s [est]
    mains_Hz: float = 60.0
    mains_V_rms: tuple[float, ...] = (50e-9, 20e-9, 20e-9)  # harmonics n = 1, 2, 3 [est]

    def __post_init__(self) -> None:
        _positive_finite("white_V_per_rtHz", self.white_V_per_rtHz, unit="V/√Hz")
        _positive_finite("corner_Hz", self.corner_Hz, unit="Hz")
        _positive_finite("R_TC_ohm", self.R_TC_ohm, unit="Ω")
        _positive_finite("T_K", self.T_K, allow_zero=False, unit="K")
        _positive_finite("drift_V2_per_s", self.drift_V2_per_s, unit="V²/s")
        _positive_finite("mains_Hz", self.mains_Hz, allow_zero=False, unit="Hz")
        for n, a in enumerate(self.mains_V_rms, start=1):
            _positive_finite(f"mains_V_rms[{n}]", a, unit="V")
        if self.white() <= 0 and self.drift_V2_per_s <= 0:
            raise NoiseError("noise: white density and thermocouple resistance are both 0: give a noise floor")

    @classmethod
    def white_only(cls, density_V_per_rtHz: float) -> NoiseModel:
        """Flat noise only (no 1/f, Johnson, drift or mains), density in V/√Hz."""
        return cls(white_V_per_rtHz=density_V_per_rtHz, corner_Hz=0.0, R_TC_ohm=0.0, drift_V2_per_s=0.0, mains_V_rms=())

    @classmethod
    def white_per_sample(cls, rms_V: float, fs_Hz: float) -> NoiseModel:
        """Flat noise of ``rms_V`` per sample at ``fs_Hz`` (one-sided density √(2/fs)·rms)."""
        return cls.white_only(rms_V * math.sqrt(2 / fs_Hz))

    @property
    def johnson_V2_per_Hz(self) -> float:
        return 4 * K_B * self.T_K * self.R_TC_ohm

    def white(self) -> float:
        return self.white_V_per_rtHz**2 + self.johnson_V2_per_Hz

    def psd(self, f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, float)
        w2 = self.white_V_per_rtHz**2
        return w2 * (1 + self.corner_Hz / f) + self.johnson_V2_per_Hz + self.drift_V2_per_s / (2 * np.pi**2 * f**2)

    def colored(self, f: np.ndarray) -> np.ndarray:
        """The part of :meth:`psd` that is not flat (1/f and drift), V²/Hz."""
        return self.psd(f) - self.white()

    def lines(self) -> list[tuple[float, float]]:
        return [(n * self.mains_Hz, a) for n, a in enumerate(self.mains_V_rms, start=1) if a > 0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "parametric",
            "white_V_per_rtHz": self.white_V_per_rtHz,
            "corner_Hz": self.corner_Hz,
            "R_TC_ohm": self.R_TC_ohm,
            "johnson_V_per_rtHz": math.sqrt(self.johnson_V2_per_Hz),
            "T_K": self.T_K,
            "drift_V2_per_s": self.drift_V2_per_s,
            "mains_Hz": self.mains_Hz,
            "mains_V_rms": list(self.mains_V_rms),
            "total_white_V_per_rtHz": math.sqrt(self.white()),
        }


@dataclass(frozen=True)
class TabulatedNoise:
    """A measured one-sided PSD (V²/Hz) at given frequencies (Hz), log-log interpolated, flat beyond."""

    f_Hz: np.ndarray
    S_V2_per_Hz: np.ndarray
    source: str = "table"
    line_list: tuple[tuple[float, float], ...] = field(default=())

    def __post_init__(self) -> None:
        f, S = np.asarray(self.f_Hz, float), np.asarray(self.S_V2_per_Hz, float)
        if f.ndim != 1 or f.shape != S.shape or f.size < 2:
            raise NoiseError(f"{self.source}: need two columns (f_Hz, S_V2_per_Hz) with at least 2 rows")
        bad = ~(np.isfinite(f) & np.isfinite(S))
        if bad.any():
            raise NoiseError(f"{self.source}: row {int(np.argmax(bad)) + 1} is not finite (NaN or inf)")
        if np.any(f <= 0) or np.any(np.diff(f) <= 0):
            raise NoiseError(f"{self.source}: f_Hz must be > 0 and strictly increasing")
        if np.any(S <= 0):
            raise NoiseError(f"{self.source}: S_V2_per_Hz must be > 0 (row {int(np.argmax(S <= 0)) + 1})")

    def psd(self, f: np.ndarray) -> np.ndarray:
        lf = np.log(np.clip(np.asarray(f, float), self.f_Hz[0], self.f_Hz[-1]))
        return np.exp(np.interp(lf, np.log(self.f_Hz), np.log(self.S_V2_per_Hz)))

    def white(self) -> float:
        return 0.0  # no closed-form part: every harmonic is summed

    def colored(self, f: np.ndarray) -> np.ndarray:
        return self.psd(f)

    def lines(self) -> list[tuple[float, float]]:
        return list(self.line_list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "table",
            "source": self.source,
            "points": int(self.f_Hz.size),
            "f_range_Hz": [float(self.f_Hz[0]), float(self.f_Hz[-1])],
        }


def load_psd(path: str | Path) -> TabulatedNoise:
    """A PSD file: CSV or whitespace columns ``f_Hz, S_V2_per_Hz`` (header line allowed)."""
    p = Path(path)
    text = read_text(p, lambda message: NoiseError(f"{p}: {message}"))
    rows: list[list[float]] = []
    for i, line in enumerate(text.splitlines(), start=1):
        parts = [x for x in line.replace(",", " ").split() if x]
        if not parts or parts[0].startswith("#"):
            continue
        try:
            values = [float(x) for x in parts]
        except ValueError:
            if not rows:
                continue  # a header
            raise NoiseError(f"{p}: line {i}: {line.strip()!r} is not two numbers") from None
        if len(values) != 2:
            raise NoiseError(f"{p}: line {i}: {len(values)} column(s); a PSD file has two: f_Hz, S_V2_per_Hz")
        rows.append(values)
    if len(rows) < 2:
        raise NoiseError(f"{p}: fewer than 2 rows of f_Hz, S_V2_per_Hz")
    a = np.array(rows)
    return TabulatedNoise(a[:, 0], a[:, 1], source=str(p))


def synthesize(noise: Noise, n: int, fs: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples at ``fs`` (Hz) of Gaussian noise with one-sided PSD ``noise.psd`` plus its mains lines
    (random phases), in V.  Spectral synthesis over the record (the lowest frequency is fs/n)."""
    f = np.fft.rfftfreq(n, 1 / fs)
    S = np.zeros_like(f)
    S[1:] = noise.psd(f[1:])
    amp = np.sqrt(S * fs * n / 4)
    X = amp * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))
    if n % 2 == 0:  # the Nyquist bin is real
        X[-1] = np.sqrt(S[-1] * fs * n / 2) * rng.standard_normal()
    v = np.fft.irfft(X, n)
    t = np.arange(n) / fs
    for fl, a in noise.lines():
        if fl < fs / 2:
            v += math.sqrt(2) * a * np.sin(2 * np.pi * fl * t + rng.uniform(0, 2 * np.pi))
    return v


@dataclass(frozen=True)
class FitResult:
    """A parametric model fitted to a measured PSD, with the Welch estimate it came from."""

    model: NoiseModel
    f_Hz: np.ndarray
    S_V2_per_Hz: np.ndarray
    line_bins: np.ndarray  # bool, bins assigned to mains lines


def fit_trace(v: np.ndarray, fs: float, mains_Hz: float = 60.0, segment_s: float = 8.0) -> FitResult:
    """Fit white + 1/f + random-walk drift + mains lines to a zero-power record ``v`` (V) at ``fs`` (Hz).

    The PSD is Welch's estimate (Hann windows of ``segment_s``, half overlap); bins at n·f_mains
    that stand > 10× above their neighbours' median are mains lines (their excess power is the
    line's mean square); the rest is fitted in log space.  The fitted white level is the total
    flat floor (amplifier and Johnson together).
    """
    from scipy.optimize import least_squares
    from scipy.signal import welch

    v = np.asarray(v, float)
    if v.ndim != 1 or v.size < 64 or not np.all(np.isfinite(v)):
        raise NoiseError("zero-power trace: need at least 64 finite samples of V_TC")
    nper = int(min(v.size, 2 ** round(math.log2(max(64.0, segment_s * fs)))))
    f, S = welch(v - v.mean(), fs=fs, window="hann", nperseg=nper, noverlap=nper // 2, detrend="constant")
    f, S = f[1:], S[1:]
    df = f[1] - f[0]
    lines_mask = np.zeros(f.size, bool)
    amps = []
    for n in range(1, int((fs / 2) // mains_Hz) + 1):
        k = round(n * mains_Hz / df) - 1
        near = np.arange(max(0, k - 12), min(f.size, k + 13))
        core = near[np.abs(near - k) <= 2]
        ring = near[np.abs(near - k) > 4]
        base = float(np.median(S[ring])) if ring.size else 0.0
        if core.size and base > 0 and S[core].max() > 10 * base:
            lines_mask[core] = True
            amps.append(math.sqrt(max(0.0, float(np.sum(S[core] - base)) * df)))
        else:
            amps.append(0.0)
    while amps and amps[-1] == 0.0:
        amps.pop()
    keep = ~lines_mask & (f >= 2 * df)
    fk, Sk = f[keep], S[keep]

    lf = np.log(fk)

    def log_model(x: np.ndarray) -> np.ndarray:  # log(a + b/f + c/f²) for x = log(a, b, c), without overflow
        return np.logaddexp(np.logaddexp(x[0], x[1] - lf), x[2] - 2 * lf)

    top = float(np.median(Sk[fk > fk.max() / 2]))
    x0 = np.log([top, top * 1.0, top * 1e-3 * fk[0] ** 2])
    sol = least_squares(lambda x: log_model(x) - np.log(Sk), x0, method="lm")
    a, b, c = np.exp(sol.x)
    fitted = NoiseModel(
        white_V_per_rtHz=math.sqrt(a),
        corner_Hz=b / a,
        R_TC_ohm=0.0,
        drift_V2_per_s=2 * math.pi**2 * c,
        mains_Hz=mains_Hz,
        mains_V_rms=tuple(amps),
    )
    return FitResult(fitted, f, S, lines_mask)
