"""A varied design value of a study: its values or its distribution, the inverse CDF, and default ranges.

A parameter is named by its dotted key *as written in the design file*
(unit suffix included: ``"body.length_um"``), and either lists ``values``
(grid/list studies) or has a ``distribution`` (``uniform``, ``normal``,
``lognormal``, all truncated to ``[low, high]``) from which a sampled study
draws; thin-film properties have default ranges from the literature (the notes below),
:data:`DEFAULT_RANGES`.  The study file that names them is
:mod:`probe_fem.studies.spec`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from probe_fem.errors import InputError
from probe_fem.studies.keys import key_unit
from probe_fem.units import LENGTH_UNITS, split_unit

DISTRIBUTIONS = ("uniform", "normal", "lognormal")

# Default ranges (SI; lengths in m) for ``distribution = "..."`` without low/high.  Materials by the
# names of the embedded NTISTP design; literature ranges and estimates, each with its note.
DEFAULT_RANGES: dict[str, tuple[float, float, str]] = {
    "materials.au_film.k_W_mK": (120.0, 300.0, "50-150 nm evaporated Au, from resistivity via Wiedemann-Franz"),
    "materials.cr_film.k_W_mK": (10.0, 60.0, "Cr film, resistivity 58-107 uOhm cm"),
    "materials.sin_lpcvd.k_W_mK": (1.5, 3.2, "low-stress LPCVD SiN (Stojanovic 2007; Zink & Hellman)"),
    "materials.sin_pecvd.k_W_mK": (0.8, 1.7, "PECVD SiN"),
    "materials.sin_lpcvd.rho_kg_m3": (2900.0, 3100.0, "LPCVD SiN"),
    "materials.sin_pecvd.rho_kg_m3": (2300.0, 2800.0, "PECVD SiN"),
    "materials.sin_pecvd.cp_J_kgK": (700.0, 800.0, "PECVD SiN"),
    "body.length_m": (20e-6, 250e-6, "SiN-body thermocouple probes"),
    "body.width_m": (10e-6, 60e-6, "SiN-body thermocouple probes"),
    "body.thickness_m": (0.5e-6, 1.5e-6, "SiN body"),
    "tip.height_m": (3e-6, 10e-6, "KOH-moulded pyramid"),
    "tip.apex_radius_m": (20e-9, 150e-9, "apex radius"),
    "thermocouple.thickness_m": (30e-9, 100e-9, "Au/Cr legs"),
    "electrode.thickness_m": (100e-9, 200e-9, "outer Au electrode"),
}


@dataclass(frozen=True)
class Parameter:
    """A varied design value.  ``key`` is dotted as written in the design file; values in its units."""

    key: str
    path: tuple[str, ...]
    base_value: float
    values: tuple[float, ...] | None = None
    distribution: str | None = None
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    std: float | None = None
    median: float | None = None
    sigma_ln: float | None = None

    @property
    def unit(self) -> str:
        """Unit of the values as written (``um``, ``nm``, ``W/(m·K)``, ...; empty if none)."""
        return key_unit(self.key)

    def listed(self) -> tuple[float, ...]:
        """The listed values of a grid/list parameter (the study file's validation guarantees them)."""
        assert self.values is not None, f"{self.key}: no listed values (a distribution is given)"
        return self.values

    def _range(self) -> tuple[float, float]:
        """``(low, high)`` of a distribution (the study file's validation sets both, defaults included)."""
        assert self.low is not None and self.high is not None, f"{self.key}: a distribution without low/high"
        return self.low, self.high

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map probabilities ``u`` in (0, 1) to values (file units) by the inverse CDF."""
        from scipy import stats

        u = np.asarray(u, float)
        if self.distribution == "uniform":
            lo, hi = self._range()
            return lo + u * (hi - lo)
        if self.distribution == "normal":
            lo, hi = self._range()
            assert self.mean is not None and self.std is not None, f"{self.key}: normal without mean/std"
            a, b = (lo - self.mean) / self.std, (hi - self.mean) / self.std
            return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.std)
        if self.distribution == "lognormal":
            lo, hi = self._range()
            assert self.median is not None and self.sigma_ln is not None, f"{self.key}: log-normal without median"
            mu = math.log(self.median)
            a, b = (math.log(lo) - mu) / self.sigma_ln, (math.log(hi) - mu) / self.sigma_ln
            return np.exp(stats.truncnorm.ppf(u, a, b, loc=mu, scale=self.sigma_ln))
        raise InputError(f"{self.key}: no distribution (values are listed)")

    def describe(self) -> str:
        """One line for tables: the values or the distribution, with units."""
        u = f" {self.unit}" if self.unit else ""
        if self.values is not None:
            shown = ", ".join(f"{v:g}" for v in self.values[:6]) + (", …" if len(self.values) > 6 else "")
            return f"{len(self.values)} values: {shown}{u}"
        rng = f"[{self.low:g}, {self.high:g}]{u}"
        if self.distribution == "uniform":
            return f"uniform {rng}"
        if self.distribution == "normal":
            return f"normal mean {self.mean:g}, std {self.std:g}, truncated to {rng}"
        return f"log-normal median {self.median:g}, σ_ln {self.sigma_ln:g}, truncated to {rng}"


def default_range(key: str) -> tuple[float, float, str] | None:
    """Default (low, high, origin) of a dotted key in the key's own units, or ``None``."""
    parts = key.split(".")
    parsed = split_unit(parts[-1])
    if parsed:
        si_key = ".".join([*parts[:-1], parsed[0] + "_m"])
        if si_key in DEFAULT_RANGES:
            lo, hi, note = DEFAULT_RANGES[si_key]
            f = LENGTH_UNITS[parsed[1]]
            return lo / f, hi / f, note
        return None
    return DEFAULT_RANGES.get(key)
