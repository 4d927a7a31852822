"""Dissipation data for a junction fit: Q_P(±V) with σ, optional currents, G and S (SI units).

Read from the ``.json`` that ``probe-fem analyze`` writes, from a CSV, from
:func:`~probe_fem.analysis.demodulation.demodulate`'s results, or built from arrays; validated
on construction (lengths, finiteness, σ > 0, one message naming the problem).

Currents follow one convention on every path: **the current as measured, sign included** — it has
the sign of the bias, I(+V) > 0 and I(−V) < 0 (the paper's convention, and what ``analyze`` writes).
Currents given as magnitudes (all I(−V) > 0) are refused rather than fitted to the wrong branch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from probe_fem.errors import InputError
from probe_fem.io import parse_json, read_text

CURRENT_FLOOR = 0.01  # relative: the least uncertainty given to a mean current


class JunctionDataError(InputError):
    """Dissipation data that cannot be fitted."""

    kind = "junction data"


@dataclass(frozen=True)
class Measured:
    """One quantity measured with its standard uncertainty (SI)."""

    value: float
    sigma: float


@dataclass
class JunctionData:
    """Q_P(±V) (W) with σ at amplitudes V_M (V); optional currents I(±V) (A) with σ, G (S), S (V/K)."""

    bias_V: np.ndarray
    q_plus_W: np.ndarray
    sigma_plus_W: np.ndarray
    q_minus_W: np.ndarray
    sigma_minus_W: np.ndarray
    i_plus_A: np.ndarray | None = None
    i_minus_A: np.ndarray | None = None
    sigma_i_A: np.ndarray | None = None
    conductance: Measured | None = None
    seebeck: Measured | None = None
    T_K: float = 300.0
    source: str = "data"

    def __post_init__(self) -> None:
        arrays = {
            "bias_V": self.bias_V,
            "Q_P(+V)": self.q_plus_W,
            "σ(+V)": self.sigma_plus_W,
            "Q_P(−V)": self.q_minus_W,
            "σ(−V)": self.sigma_minus_W,
        }
        n = {np.shape(v) for v in arrays.values()}
        if len(n) != 1 or len(next(iter(n))) != 1:
            raise JunctionDataError(f"{self.source}: bias, Q_P and σ must be equally long 1-D lists")
        for name, v in arrays.items():
            if not np.all(np.isfinite(v)):
                raise JunctionDataError(f"{self.source}: {name} has non-finite values (NaN or inf)")
        if np.any(self.bias_V <= 0):
            raise JunctionDataError(f"{self.source}: bias amplitudes must be > 0 V (give ±V pairs as Q_P(+V), Q_P(−V))")
        for name in ("σ(+V)", "σ(−V)"):
            if np.any(arrays[name] <= 0):
                raise JunctionDataError(f"{self.source}: {name} must be > 0 W (a weight of the fit)")
        if self.i_plus_A is not None and self.i_minus_A is not None:
            if not (np.all(np.isfinite(self.i_plus_A)) and np.all(np.isfinite(self.i_minus_A))):
                raise JunctionDataError(f"{self.source}: currents have non-finite values")
            _check_current_signs(self.i_plus_A, self.i_minus_A, self.source)
            # the currents' uncertainty: as reported, but at least 1 % (a current amplifier's gain accuracy)
            floor = CURRENT_FLOOR * np.maximum(np.abs(self.i_plus_A), np.abs(self.i_minus_A))
            given = np.zeros_like(floor) if self.sigma_i_A is None else np.nan_to_num(self.sigma_i_A)
            self.sigma_i_A = np.maximum(given, floor)
        for m, what in ((self.conductance, "G"), (self.seebeck, "S")):
            if m is not None and not (math.isfinite(m.value) and math.isfinite(m.sigma) and m.sigma > 0):
                raise JunctionDataError(f"{self.source}: {what} = {m.value!r} ± {m.sigma!r}: finite, σ > 0")

    @classmethod
    def from_results(
        cls,
        results: list[tuple[Any, Any]],
        conductance: Measured | None = None,
        seebeck: Measured | None = None,
        T_K: float = 300.0,
        source: str = "analysis",
    ) -> JunctionData:
        """From :func:`~probe_fem.analysis.demodulation.demodulate`'s (+V, −V) pairs, currents included."""
        V = np.array([p.V_M for p, _ in results], float)
        return cls(
            V,
            np.array([p.Q_P for p, _ in results]),
            np.array([p.u_Q_P for p, _ in results]),
            np.array([m.Q_P for _, m in results]),
            np.array([m.u_Q_P for _, m in results]),
            np.array([p.Q_total / p.V_M for p, _ in results]),
            np.array([m.Q_total / m.V_M for _, m in results]),
            np.array([max(p.u_Q_total / abs(p.V_M), m.u_Q_total / abs(m.V_M)) for p, m in results]),
            conductance,
            seebeck,
            T_K,
            source,
        )

    @property
    def points(self) -> int:
        n = 2 * self.bias_V.size + (self.conductance is not None) + (self.seebeck is not None)
        return n + (2 * self.bias_V.size if self.i_plus_A is not None else 0)


def _check_current_signs(i_plus: np.ndarray, i_minus: np.ndarray, source: str) -> None:
    """Currents as measured have the sign of the bias; all of one sign at ±V are magnitudes, refused."""
    if (np.all(i_minus >= 0) and np.any(i_minus > 0)) or (np.all(i_plus <= 0) and np.any(i_plus < 0)):
        raise JunctionDataError(
            f"{source}: current at -V = {float(i_minus[0]):.4g} A, at +V = {float(i_plus[0]):.4g} A: "
            "allowed the current as measured, sign included (I(+V) > 0, I(−V) < 0), not its magnitude"
        )


def load_junction_data(
    path: str, conductance: Measured | None = None, seebeck: Measured | None = None, T_K: float = 300.0
) -> JunctionData:
    """``analysis.json`` as ``probe-fem analyze`` writes it, or a CSV with columns
    ``bias_V, Q_P_W, sigma_Q_P_W[, current_A]`` holding +V and −V rows for every amplitude.

    ``current_A`` (CSV) and ``current_A`` of the JSON's ``plus``/``minus`` results are the mean current as
    measured, sign included: positive at +V, negative at −V.  Q_P in W, σ in W, bias in V."""
    from pathlib import Path

    p = Path(path)
    text = read_text(p, lambda message: JunctionDataError(f"{p}: {message}"))
    if p.suffix.lower() == ".json":
        data = parse_json(text, lambda message: JunctionDataError(f"{p}: {message}"))
        try:
            rows = data["results"]
            V = np.array([r["V_M_V"] for r in rows], float)
            qp = np.array([r["plus"]["Q_P_W"] for r in rows], float)
            sp_ = np.array([r["plus"]["sigma_Q_P_W"] for r in rows], float)
            qm = np.array([r["minus"]["Q_P_W"] for r in rows], float)
            sm = np.array([r["minus"]["sigma_Q_P_W"] for r in rows], float)
            ip = np.array([r["plus"]["current_A"] for r in rows], float)
            im = np.array([r["minus"]["current_A"] for r in rows], float)
            si = np.array([max(r["plus"]["sigma_current_A"], r["minus"]["sigma_current_A"]) for r in rows], float)
        except (ValueError, KeyError, TypeError) as exc:
            raise JunctionDataError(f"{p}: not an analysis.json of probe-fem analyze ({exc!r})") from None
        return JunctionData(
            V,
            qp,
            sp_,
            qm,
            sm,
            ip,
            im,
            np.where(si > 0, si, np.nan) if np.all(si > 0) else None,
            conductance,
            seebeck,
            T_K,
            str(p),
        )
    return _from_csv(p, text, conductance, seebeck, T_K)


def _from_csv(p: Any, text: str, conductance: Measured | None, seebeck: Measured | None, T_K: float) -> JunctionData:
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    need = {"bias_V", "Q_P_W", "sigma_Q_P_W"}
    if not reader.fieldnames or not need <= set(reader.fieldnames):
        raise JunctionDataError(f"{p}: needs the columns {', '.join(sorted(need))} (optional current_A)")
    plus: dict[float, tuple[float, float, float]] = {}
    minus: dict[float, tuple[float, float, float]] = {}
    for i, row in enumerate(reader, start=2):
        try:
            v, q, s = float(row["bias_V"]), float(row["Q_P_W"]), float(row["sigma_Q_P_W"])
            cur = float(row["current_A"]) if row.get("current_A") not in (None, "") else math.nan
        except (TypeError, ValueError):
            raise JunctionDataError(f"{p}: line {i}: not numbers: {dict(row)}") from None
        if not all(math.isfinite(x) for x in (v, q, s)):
            raise JunctionDataError(f"{p}: line {i}: non-finite value")
        if s <= 0:
            raise JunctionDataError(f"{p}: line {i}: sigma_Q_P_W = {s!r}: must be > 0")
        if v == 0:
            raise JunctionDataError(f"{p}: line {i}: bias_V = 0: Q_P is dissipated at ±V only")
        (plus if v > 0 else minus)[round(abs(v), 12)] = (q, s, cur)
    if not plus or not minus:
        raise JunctionDataError(f"{p}: biases all of one sign: give Q_P at +V and at −V (the asymmetry is the data)")
    common = sorted(set(plus) & set(minus))
    if len(common) != len(plus) or len(common) != len(minus):
        raise JunctionDataError(f"{p}: every |V| needs a +V and a −V row")
    V = np.array(common)
    a = np.array([plus[v] for v in common])
    b = np.array([minus[v] for v in common])
    has_i = np.all(np.isfinite(a[:, 2])) and np.all(np.isfinite(b[:, 2]))
    return JunctionData(
        V,
        a[:, 0],
        a[:, 1],
        b[:, 0],
        b[:, 1],
        a[:, 2] if has_i else None,
        b[:, 2] if has_i else None,  # as measured: negative at −V, like analyze's JSON
        None,
        conductance,
        seebeck,
        T_K,
        str(p),
    )
