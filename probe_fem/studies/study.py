"""Design studies: a study file (TOML) varies parameters of a base design; points run on dask.

A study file names a base design and the parameters to vary, by their dotted
keys *as written in the design file* (unit suffix included:
``"body.length_um"``, ``"materials.au_film.k_W_mK"``).  Methods:

* ``grid`` — every combination of each parameter's ``values`` (or
  ``start``/``stop``/``num``, evenly spaced);
* ``list`` — the i-th point takes the i-th of every parameter's ``values``;
* ``monte-carlo`` / ``latin-hypercube`` — ``samples`` draws from each
  parameter's ``distribution`` (``uniform``, ``normal``, ``lognormal``, all
  truncated to ``[low, high]``; thin-film properties have default ranges from
  the physics brief, :data:`DEFAULT_RANGES`);
* ``sobol`` — Saltelli's scheme for SALib's Sobol estimator,
  ``samples × (parameters + 2)`` points.

A study file::

    [study]
    name = "au-k"                 # results/<name>/ by default
    design = "embedded:ntistp"    # or a design file, relative to the study file
    method = "latin-hypercube"    # grid | list | monte-carlo | latin-hypercube | sobol
    samples = 32                  # sampled methods (sobol: N, a power of 2)
    seed = 1
    refine = 0.5                  # mesh refine factor for every point
    modes = 6                     # slowest modes computed per point

    [parameters."materials.au_film.k_W_mK"]
    distribution = "uniform"      # low/high default to DEFAULT_RANGES for this key

    [parameters."body.length_um"]  # grid/list: values = [...] or start/stop/num
    distribution = "normal"
    mean = 18.28
    std = 0.5
    low = 16.0
    high = 20.0

A study is validated completely before any run (:class:`StudyError` lists
every problem: field, value, allowed range).  A point is evaluated by applying
its overrides to the base design's raw TOML mapping and calling
:func:`~probe_fem.design.schema.parse_design`; then mesh, steady solve, slowest modes
and the reduced (rational-Krylov) model give R_P, τ (dominant mode), t63 and
f−3dB.  Points run on dask.distributed worker *processes* (gmsh is one global
instance per process); results stream to a CSV table as they complete, keyed by
the design fingerprint, the mesh refine factor and the number of modes, so an
interrupted study resumes without recomputing finished points.  A failed point
(invalid geometry, mesher or solver error) is recorded with its error and the
study goes on.
"""

from __future__ import annotations

import copy
import csv
import difflib
import hashlib
import io
import itertools
import json
import logging
import math
import os
import threading
import time
import tomllib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from probe_fem.design.schema import Design, DesignError, InputError, field_bounds, format_errors, interval_text, read_toml, embedded_design_path, parse_design
from probe_fem.units import LENGTH_UNITS, split_unit, to_si

METHODS = ("grid", "list", "monte-carlo", "latin-hypercube", "sobol")
DISTRIBUTIONS = ("uniform", "normal", "lognormal")
MAX_POINTS = 100_000

# Default ranges (SI; lengths in m) for ``distribution = "..."`` without low/high.  Materials by the
# names of the embedded NTISTP design; values from ../shared/physics.md (literature / estimates).
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

# Output columns of the results table (SI, unit in the name) and the settings columns.
OUTPUT_COLUMNS = ("R_P_K_per_W", "R_apex_K_per_W", "tau_s", "tau_1_s", "weight_tau", "t63_s", "f_3dB_Hz")
KEY_COLUMNS = ("key", "design_fingerprint", "status", "error", "refine", "n_modes")
INFO_COLUMNS = ("dofs", "mesh_fingerprint", "mesh_cached", "seconds_s", "pid")
_INT_COLUMNS = {"n_modes", "dofs", "pid"}
_STR_COLUMNS = {"key", "design_fingerprint", "status", "error", "mesh_fingerprint"}
_BOOL_COLUMNS = {"mesh_cached"}

_UNIT_TEXT = {"W_mK": "W/(m·K)", "kg_m3": "kg/m³", "J_kgK": "J/(kg·K)", "W": "W", "K": "K"}


class StudyError(InputError):
    """A study file that cannot be run."""

    kind = "study"


# ---------------------------------------------------------------- study file model
class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Settings(_Section):
    """The ``[study]`` table."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
    description: str = ""
    design: str
    method: Literal["grid", "list", "monte-carlo", "latin-hypercube", "sobol"]
    samples: Annotated[int, Field(ge=1, le=MAX_POINTS)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    refine: Annotated[float, Field(ge=0.1, le=16)] = 1.0
    modes: Annotated[int, Field(ge=1, le=50)] = 6
    percentiles: list[Annotated[float, Field(ge=0, le=100)]] = [5.0, 50.0, 95.0]
    bins: Annotated[int, Field(ge=2, le=200)] = 20


class ParameterSpec(_Section):
    """One ``[parameters."<dotted key>"]`` table (values in the design file's units for that key)."""

    values: Annotated[list[float], Field(min_length=1, max_length=MAX_POINTS)] | None = None
    start: float | None = None
    stop: float | None = None
    num: Annotated[int, Field(ge=2, le=10_000)] | None = None
    distribution: Literal["uniform", "normal", "lognormal"] | None = None
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    std: Annotated[float, Field(gt=0)] | None = None
    median: Annotated[float, Field(gt=0)] | None = None
    sigma_ln: Annotated[float, Field(gt=0, le=5)] | None = None
    note: str = ""


class StudyFile(_Section):
    study: Settings
    parameters: Annotated[dict[str, ParameterSpec], Field(min_length=1)]


# ---------------------------------------------------------------- validated study
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

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map probabilities ``u`` in (0, 1) to values (file units) by the inverse CDF."""
        from scipy import stats

        u = np.asarray(u, float)
        lo, hi = self.low, self.high
        if self.distribution == "uniform":
            return lo + u * (hi - lo)
        if self.distribution == "normal":
            a, b = (lo - self.mean) / self.std, (hi - self.mean) / self.std
            return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.std)
        if self.distribution == "lognormal":
            mu = math.log(self.median)
            a, b = (math.log(lo) - mu) / self.sigma_ln, (math.log(hi) - mu) / self.sigma_ln
            return np.exp(stats.truncnorm.ppf(u, a, b, loc=mu, scale=self.sigma_ln))
        raise ValueError(f"{self.key}: no distribution (values are listed)")

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


@dataclass(frozen=True)
class Study:
    """A validated study: base design (raw mapping and parsed), parameters and run settings."""

    settings: Settings
    parameters: tuple[Parameter, ...]
    base_raw: dict
    base: Design
    design_path: Path
    source: str

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def method(self) -> str:
        return self.settings.method

    @property
    def refine(self) -> float:
        return self.settings.refine

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    @property
    def sampled(self) -> bool:
        """True for the methods that draw from distributions (statistics make sense)."""
        return self.method in ("monte-carlo", "latin-hypercube", "sobol")

    def unit_samples(self) -> np.ndarray:
        """Probabilities (n × d, in (0, 1)) of a sampled study, in sample order."""
        from probe_fem.studies import sensitivity

        s, d = self.settings, len(self.parameters)
        if self.method == "monte-carlo":
            return sensitivity.monte_carlo(s.samples, d, s.seed)
        if self.method == "latin-hypercube":
            return sensitivity.latin_hypercube(s.samples, d, s.seed)
        if self.method == "sobol":
            return sensitivity.saltelli(s.samples, d, s.seed)
        raise ValueError(f"method {self.method!r} does not sample")

    def values(self) -> np.ndarray:
        """Parameter values of every point (n × d, file units), in point order."""
        if self.method == "grid":
            return np.array(list(itertools.product(*[p.values for p in self.parameters])), float)
        if self.method == "list":
            return np.column_stack([p.values for p in self.parameters]).astype(float)
        U = self.unit_samples()
        return np.column_stack([p.ppf(U[:, j]) for j, p in enumerate(self.parameters)])

    def points(self) -> list[dict[str, float]]:
        """Overrides of every point: dotted key (as written) → value (file units)."""
        return [dict(zip(self.keys, map(float, row))) for row in self.values()]


def key_unit(key: str) -> str:
    """Unit text of a dotted design key from its suffix: ``body.length_um`` → ``um``."""
    last = key.rpartition(".")[2]
    parsed = split_unit(last)
    if parsed:
        return parsed[1]
    for suffix, text in _UNIT_TEXT.items():
        if last.endswith("_" + suffix):
            return text
    return ""


# ---------------------------------------------------------------- design keys
def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def resolve_key(raw: dict, key: str) -> tuple[tuple[str, ...], float]:
    """Path and value of a numeric key of a raw design, dotted as written (``"body.length_um"``).

    Raises ``ValueError`` with a message naming what is wrong (a missing
    section, a different unit suffix in the file, a non-numeric value, ...).
    """
    parts = tuple(key.split("."))
    if len(parts) < 2 or not all(parts):
        raise ValueError(f"{key!r}: give a dotted key as written in the design file, e.g. body.length_um")
    node: Any = raw
    for i, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
            have = sorted(k for k, v in node.items() if isinstance(v, dict)) if isinstance(node, dict) else []
            where = ".".join(parts[: i + 1])
            raise ValueError(f"{key}: the base design has no section [{where}]"
                             + (f" (sections: {', '.join(have)})" if have else ""))
        node = node[part]
    last = parts[-1]
    if last not in node:
        parsed = split_unit(last)
        if parsed:
            for other in node:
                p2 = split_unit(other)
                if p2 and p2[0] == parsed[0]:
                    raise ValueError(f"{key}: the base design writes this length as "
                                     f"{'.'.join(parts[:-1] + (other,))}; use that key (units as in the file)")
        numeric = sorted(k for k, v in node.items() if _numeric(v))
        close = difflib.get_close_matches(last, numeric, n=1)
        hint = f"; did you mean {'.'.join(parts[:-1] + (close[0],))}?" if close else ""
        raise ValueError(f"{key}: unknown key (numeric keys of [{'.'.join(parts[:-1])}]: "
                         f"{', '.join(numeric) or 'none'}){hint}")
    if not _numeric(node[last]):
        raise ValueError(f"{key} = {node[last]!r} in the base design: not a number; only numbers can vary")
    return parts, float(node[last])


def apply_overrides(raw: dict, overrides: dict[str, float]) -> dict:
    """A deep copy of a raw design with dotted keys (as written) set to new values."""
    out = copy.deepcopy(raw)
    for key, value in overrides.items():
        node = out
        *head, last = key.split(".")
        for part in head:
            node = node[part]
        node[last] = float(value)
    return out


def _field_errors(raw: dict, key: str, value: float) -> list[str]:
    """Field-range problems (pydantic) of the base design with one value changed; consistency not checked."""
    from probe_fem.design.schema import Material

    si, given = to_si(apply_overrides(raw, {key: value}))
    try:
        Design.model_validate(si)
    except ValidationError as exc:
        msgs = format_errors(exc, given)
        parts = key.split(".")
        if parts[0] == "materials" and len(parts) == 3 and parts[2] in Material.model_fields:
            rng = _limits(Material.model_fields[parts[2]])  # design.py gives no range inside the dict
            unit = key_unit(key)
            msgs = [m if "allowed" in m or not rng else f"{m} ({rng}{' ' + unit if unit else ''})" for m in msgs]
        return msgs
    return []


def default_range(key: str) -> tuple[float, float, str] | None:
    """Default (low, high, origin) of a dotted key in the key's own units, or ``None``."""
    parts = key.split(".")
    parsed = split_unit(parts[-1])
    if parsed:
        si_key = ".".join(parts[:-1] + [parsed[0] + "_m"])
        if si_key in DEFAULT_RANGES:
            lo, hi, note = DEFAULT_RANGES[si_key]
            f = LENGTH_UNITS[parsed[1]]
            return lo / f, hi / f, note
        return None
    return DEFAULT_RANGES.get(key)


# ---------------------------------------------------------------- loading
def _loc_text(loc: tuple) -> str:
    out = []
    for i, part in enumerate(loc):
        part = str(part)
        if i == 1 and loc[0] == "parameters":
            out.append(f'"{part}"')
        else:
            out.append(part)
    return ".".join(out)


def _limits(info: Any) -> str:
    """'allowed [0.1, 16]' for a pydantic field (possibly optional)."""
    return interval_text(*field_bounds(info)) if info is not None else ""


def _model_at(loc: tuple) -> tuple[type[BaseModel] | None, str | None]:
    """The section model and field name addressed by a pydantic error location."""
    if loc[:1] == ("study",) and len(loc) >= 2:
        return Settings, str(loc[1])
    if loc[:1] == ("parameters",) and len(loc) >= 3:
        return ParameterSpec, str(loc[2])
    return None, None


def _format_study_errors(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        loc = tuple(e["loc"])
        path = _loc_text(loc)
        model, name = _model_at(loc)
        if e["type"] == "missing":
            out.append(f"{path}: missing required field")
        elif e["type"] == "extra_forbidden":
            known = list(model.model_fields) if model else (list(StudyFile.model_fields) if len(loc) == 1 else [])
            out.append(f"{path}: unknown key" + (f" (allowed: {', '.join(known)})" if known else ""))
        else:
            rng = _limits(model.model_fields[name]) if model and name in model.model_fields else ""
            out.append(f"{path} = {e.get('input')!r}: {e['msg'].lower()}" + (f" ({rng})" if rng else ""))
    return out


def _design_path(text: str, base_dir: Path) -> Path:
    if text.startswith("embedded:"):
        return embedded_design_path(text.partition(":")[2])
    p = Path(text)
    return p if p.is_absolute() else base_dir / p


def _check_parameter(key: str, spec: ParameterSpec, method: str, raw: dict, msgs: list[str]) -> Parameter | None:
    """Validate one parameter against the method and the base design; append problems to ``msgs``."""
    where = f'parameters."{key}"'
    try:
        path, base_value = resolve_key(raw, key)
    except ValueError as exc:
        msgs.append(f"{where}: {exc}")
        return None
    n0 = len(msgs)
    unit = key_unit(key)
    u = f" {unit}" if unit else ""
    dist_fields = ("distribution", "low", "high", "mean", "std", "median", "sigma_ln")
    grid_fields = ("values", "start", "stop", "num")
    given = {f for f in spec.model_fields_set if f != "note"}
    values: tuple[float, ...] | None = None
    lo = hi = None
    if method in ("grid", "list"):
        for f in sorted(given & set(dist_fields)):
            msgs.append(f"{where}.{f}: not used by method {method!r} (give values"
                        + (" or start, stop, num)" if method == "grid" else ")"))
        ranged = given & {"start", "stop", "num"}
        if method == "list" and ranged:
            msgs.append(f"{where}: method 'list' takes values = [...], not start/stop/num")
        elif spec.values is not None and ranged:
            msgs.append(f"{where}: give values or start/stop/num, not both")
        elif spec.values is not None:
            values = tuple(spec.values)
        elif ranged == {"start", "stop", "num"}:
            if spec.start == spec.stop:
                msgs.append(f"{where}.stop = {spec.stop!r}: must differ from start")
            values = tuple(float(v) for v in np.linspace(spec.start, spec.stop, spec.num))
        elif ranged:
            msgs.append(f"{where}: start, stop and num go together (missing: "
                        f"{', '.join(sorted({'start', 'stop', 'num'} - ranged))})")
        else:
            msgs.append(f"{where}: missing values (a list, in the file's units{u})"
                        + (" or start, stop, num" if method == "grid" else ""))
        if values is not None and len(set(values)) != len(values) and method == "grid":
            msgs.append(f"{where}.values: repeated values in a grid")
        checked = values or ()
    else:
        for f in sorted(given & set(grid_fields)):
            msgs.append(f"{where}.{f}: not used by method {method!r} (give a distribution)")
        dist = spec.distribution
        if dist is None:
            msgs.append(f"{where}: missing distribution (allowed: {', '.join(DISTRIBUTIONS)})")
            return None
        needed = {"uniform": set(), "normal": {"mean", "std"}, "lognormal": {"median", "sigma_ln"}}[dist]
        for f in sorted(needed - given):
            msgs.append(f"{where}.{f}: missing; a {dist} distribution needs {' and '.join(sorted(needed))}")
        for f in sorted((given & {"mean", "std", "median", "sigma_ln"}) - needed):
            msgs.append(f"{where}.{f}: not a parameter of a {dist} distribution")
        lo, hi = spec.low, spec.high
        if lo is None or hi is None:
            dr = default_range(key)
            if dr is None:
                msgs.append(f"{where}: give low and high{u} (no default range for this key; defaults exist for "
                            f"{', '.join(sorted(DEFAULT_RANGES))})")
                return None
            lo = dr[0] if lo is None else lo
            hi = dr[1] if hi is None else hi
        if not lo < hi:
            msgs.append(f"{where}.high = {hi!r}: must be > low = {lo:g}{u}")
        if dist == "normal" and spec.mean is not None and not lo <= spec.mean <= hi:
            msgs.append(f"{where}.mean = {spec.mean!r}: must lie within [low, high] = [{lo:g}, {hi:g}]{u}")
        if dist == "lognormal":
            if lo <= 0:
                msgs.append(f"{where}.low = {lo!r}: a log-normal distribution needs low > 0")
            if spec.median is not None and not lo <= spec.median <= hi:
                msgs.append(f"{where}.median = {spec.median!r}: must lie within [low, high] = "
                            f"[{lo:g}, {hi:g}]{u}")
        checked = (lo, hi)
    for v in dict.fromkeys(checked):
        for m in _field_errors(raw, key, v):
            head, sep, tail = m.partition(": ")
            reason = tail if sep and head.startswith(key + " = ") else m
            name = "values" if values is not None else _value_name(v, lo, hi)
            msgs.append(f"{where}.{name}: {v:g}{u} is outside the design's allowed range: {reason}")
    if len(msgs) > n0:
        return None
    return Parameter(key=key, path=path, base_value=base_value, values=values, distribution=spec.distribution,
                     low=lo, high=hi, mean=spec.mean, std=spec.std, median=spec.median, sigma_ln=spec.sigma_ln)


def _value_name(v: float, lo: float | None, hi: float | None) -> str:
    return "low" if v == lo else "high" if v == hi else "value"


def parse_study(raw: dict[str, Any], source: str = "study", base_dir: Path = Path(".")) -> Study:
    """Validate a study mapping (as read from TOML); the base design path is relative to ``base_dir``."""
    try:
        sf = StudyFile.model_validate(raw)
    except ValidationError as exc:
        raise StudyError(_format_study_errors(exc), source) from None
    s = sf.study
    msgs: list[str] = []
    design_path = _design_path(s.design, base_dir)
    try:
        base_raw = tomllib.loads(design_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StudyError([f"study.design = {s.design!r}: cannot read {design_path}: {exc.strerror}"], source) from None
    except tomllib.TOMLDecodeError as exc:
        raise StudyError([f"study.design = {s.design!r}: not valid TOML: {exc}"], source) from None
    try:
        base = parse_design(base_raw, str(design_path))
    except DesignError as exc:
        raise StudyError([f"study.design = {s.design!r}: the base design is invalid: {m}" for m in exc.messages],
                         source) from None
    sampled = s.method in ("monte-carlo", "latin-hypercube", "sobol")
    if sampled and s.samples is None:
        msgs.append(f"study.samples: missing; method {s.method!r} needs a number of samples")
    if not sampled and s.samples is not None:
        msgs.append(f"study.samples = {s.samples!r}: not used by method {s.method!r} (the values define the points)")
    if s.method == "sobol" and s.samples is not None and (s.samples < 2 or s.samples & (s.samples - 1)):
        msgs.append(f"study.samples = {s.samples!r}: Sobol' sampling needs a power of 2 (allowed 2, 4, 8, …, 65536)")
    params = [_check_parameter(k, spec, s.method, base_raw, msgs) for k, spec in sf.parameters.items()]
    if msgs:
        raise StudyError(msgs, source)
    params_t = tuple(p for p in params if p is not None)
    if s.method == "list":
        lengths = {p.key: len(p.values) for p in params_t}
        if len(set(lengths.values())) > 1:
            raise StudyError(["parameters: method 'list' needs equally many values per parameter (got "
                              + ", ".join(f"{k}: {n}" for k, n in lengths.items()) + ")"], source)
    if s.method == "grid":
        n = math.prod(len(p.values) for p in params_t)
    elif s.method == "list":
        n = len(params_t[0].values)
    elif s.method == "sobol":
        n = s.samples * (len(params_t) + 2)
    else:
        n = s.samples
    if n > MAX_POINTS:
        raise StudyError([f"study: {n:,} points; allowed at most {MAX_POINTS:,}"], source)
    return Study(settings=s, parameters=params_t, base_raw=base_raw, base=base, design_path=design_path,
                 source=source)


def load_study(path: str | Path) -> Study:
    """Read and validate a study file (TOML, data only).  Raises :class:`StudyError` listing every problem."""
    p = Path(path)
    return parse_study(read_toml(p, StudyError), str(p), p.resolve().parent)


# ---------------------------------------------------------------- point evaluation (worker side)
_PROCESS_LOCK = threading.Lock()  # gmsh is one global instance per process: one evaluation at a time
_MESH_CACHE: OrderedDict[str, Any] = OrderedDict()
_MESH_CACHE_SIZE = 2


def _model(design: Design, refine: float):
    """Assembled model; the mesh is reused from this process's memory when only material values differ.

    Keyed by :func:`probe_fem.mesh.probe.geometry_key` (everything the mesh depends on); on a hit
    the region → material map is taken from ``design``, the mesh and layout from the cache.
    """
    from probe_fem.physics import conduction as steady
    from probe_fem.mesh.probe import ProbeMesh, build_mesh, geometry_key, region_materials
    from probe_fem.model.steady import ProbeModel, conductivity

    key = geometry_key(design, refine)
    cached = key in _MESH_CACHE
    if cached:
        _MESH_CACHE.move_to_end(key)
        hit = _MESH_CACHE[key]
        pm = ProbeMesh(mesh=hit.mesh, layout=hit.layout, materials=region_materials(design))
    else:
        pm = build_mesh(design, refine=refine)
        _MESH_CACHE[key] = pm
        while len(_MESH_CACHE) > _MESH_CACHE_SIZE:
            _MESH_CACHE.popitem(last=False)
    prob = steady.assemble(pm.mesh, conductivity(design, pm), design.source.power_W)
    return ProbeModel(design, pm, prob, refine), cached


def step_crossing(rom, fraction: float) -> float:
    """First time (s) the reduced model's thermocouple step reaches ``fraction`` of its steady value."""
    from scipy.optimize import brentq

    t = np.geomspace(1e-4 / rom.lam.max(), 50 / rom.lam.min(), 600)
    y = rom.step(t) / rom.dc
    i = int(np.argmax(y >= fraction))
    if y[i] < fraction:
        raise ValueError(f"step response never reaches {fraction:.0%} within {t[-1]:g} s")
    if i == 0:
        return float(t[0])
    g = lambda lt: rom.step(np.exp(lt))[0] / rom.dc - fraction  # noqa: E731
    return float(np.exp(brentq(g, np.log(t[i - 1]), np.log(t[i]), xtol=1e-12)))


def quantities(model, n_modes: int) -> dict[str, float]:
    """R_P, R_apex (K/W), dominant and slowest τ (s), t63 (s), f−3dB (Hz) of an assembled model.

    The reduced model uses the same shifts as :func:`probe_fem.model.dynamics.analyze`;
    the BDF2 step response is skipped (t63 comes from the reduced model's closed-form step).
    """
    from probe_fem.physics import frequency
    from probe_fem.physics import transient
    from probe_fem.model.dynamics import thermal_system
    from probe_fem.model.steady import solve_steady

    report, _ = solve_steady(model)
    ts = thermal_system(model)
    modes = transient.modes(ts, n_modes)
    lam1 = 1 / modes.tau[0]
    rom = frequency.reduced_model(ts, np.geomspace(lam1 / 3, 1e4 * lam1, 10))
    dom = modes.dominant
    return {"R_P_K_per_W": report.R_P, "R_apex_K_per_W": report.R_apex, "tau_s": float(modes.tau[dom]),
            "tau_1_s": float(modes.tau[0]), "weight_tau": float(modes.weight_tc[dom]),
            "t63_s": step_crossing(rom, 1 - math.exp(-1)), "f_3dB_Hz": rom.f_3dB(), "dofs": model.dofs,
            "mesh_fingerprint": report.mesh_fingerprint}


def evaluate_point(base_raw: dict, overrides: dict[str, float], refine: float, n_modes: int) -> dict[str, Any]:
    """Evaluate one study point (in a worker process): design, mesh, steady, modes, reduced model.

    Never raises for a bad point: the returned row has ``status`` "ok" or
    "failed" with ``error`` naming the stage (design, mesh, solve) and the problem.
    """
    t0 = time.perf_counter()
    row: dict[str, Any] = {"status": "failed", "error": "", "design_fingerprint": "", "pid": os.getpid()}
    stage = "design"
    with _PROCESS_LOCK:
        try:
            design = parse_design(apply_overrides(base_raw, overrides), "study point")
            row["design_fingerprint"] = design.fingerprint()
            stage = "mesh"
            model, cached = _model(design, refine)
            stage = "solve"
            row.update(quantities(model, n_modes), mesh_cached=cached, status="ok")
        except DesignError as exc:
            row["error"] = "design: " + "; ".join(exc.messages)
        except Exception as exc:  # a failed point is recorded, the study goes on
            row["error"] = f"{stage}: {type(exc).__name__}: {exc}"
    row["seconds_s"] = time.perf_counter() - t0
    return row


def point_key(fingerprint: str, refine: float, n_modes: int) -> str:
    """Table key of a result: design fingerprint plus the settings that change the numbers."""
    return hashlib.sha256(f"{fingerprint}|{refine!r}|{n_modes}".encode()).hexdigest()[:16]


def invalid_key(base: Design, overrides: dict[str, float], refine: float, n_modes: int) -> str:
    """Key of a point whose design is invalid (it has no fingerprint): base fingerprint plus overrides."""
    blob = json.dumps([base.fingerprint(), sorted(overrides.items()), refine, n_modes])
    return "x" + hashlib.sha256(blob.encode()).hexdigest()[:15]


# ---------------------------------------------------------------- results table
class TableError(ValueError):
    """A results table that this study cannot resume from."""


@dataclass
class ResultTable:
    """CSV results table, one row per evaluated design; rows are appended (flushed, fsynced) as they complete."""

    path: Path
    columns: tuple[str, ...]

    @staticmethod
    def for_study(path: Path, study: Study) -> "ResultTable":
        return ResultTable(path, KEY_COLUMNS + tuple(study.keys) + OUTPUT_COLUMNS + INFO_COLUMNS)

    def normalize(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row exactly as it reads back from the table (every column, typed)."""
        return {c: _parse(c, _cell(row.get(c))) for c in self.columns}

    def _line(self, row: dict[str, Any]) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([_cell(row.get(c)) for c in self.columns])
        return buf.getvalue()

    def load(self) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """Rows by key and notes; a last line cut by an interruption is dropped (and noted)."""
        if not self.path.exists():
            return {}, []
        text = self.path.read_text(encoding="utf-8")
        notes = []
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            notes.append(f"{self.path}: dropped an incomplete last line (an interrupted write); that point reruns")
            lines = lines[:-1]
        reader = csv.reader(lines)
        header = next(reader, None)
        if header is None:
            return {}, notes
        if tuple(header) != self.columns:
            raise TableError(f"{self.path}: columns differ from this study's ({', '.join(header[:8])}, …); it was "
                             "written by another study: use another --out or remove the file")
        rows: dict[str, dict[str, Any]] = {}
        for n, cells in enumerate(reader, start=2):
            if len(cells) != len(self.columns):
                raise TableError(f"{self.path}, line {n}: {len(cells)} fields, expected {len(self.columns)}")
            try:
                row = {c: _parse(c, v) for c, v in zip(self.columns, cells)}
            except ValueError as exc:
                raise TableError(f"{self.path}, line {n}: {exc}") from None
            if row["status"] not in ("ok", "failed"):
                raise TableError(f"{self.path}, line {n}: status {row['status']!r} (allowed ok, failed)")
            rows[row["key"]] = row
        if notes:
            self.rewrite(rows.values())
        return rows, notes

    def rewrite(self, rows) -> None:
        """Write header and rows atomically (replaces the file)."""
        from probe_fem.io import atomic_path

        with atomic_path(self.path) as tmp:
            tmp.write_text(self._line(dict(zip(self.columns, self.columns))) + "".join(self._line(r) for r in rows),
                           encoding="utf-8")

    def append(self, row: dict[str, Any]) -> None:
        """Append one row with a single write, flushed and fsynced (creates the file with its header first)."""
        if not self.path.exists():
            self.rewrite([])
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(self._line(row))
            f.flush()
            os.fsync(f.fileno())


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)  # round-trips exactly
    return str(v)


def _parse(col: str, text: str) -> Any:
    if col in _STR_COLUMNS:
        return text
    if text == "":
        return None
    if col in _BOOL_COLUMNS:
        if text not in ("true", "false"):
            raise ValueError(f"{col} = {text!r}: expected true or false")
        return text == "true"
    if col in _INT_COLUMNS:
        return int(text)
    return float(text)


# ---------------------------------------------------------------- running
@dataclass
class StudyRun:
    """Outcome of running a study: rows by key, the key of every point (in point order), what was done."""

    study: Study
    table: Path
    rows: dict[str, dict[str, Any]]
    point_keys: list[str]
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False
    workers: int = 0
    executor: str = "serial"
    seconds: float = 0.0

    @property
    def failed(self) -> list[str]:
        return [k for k in dict.fromkeys(self.point_keys) if self.rows.get(k, {}).get("status") == "failed"]

    @property
    def complete(self) -> bool:
        return all(k in self.rows for k in self.point_keys)

    def column(self, name: str) -> np.ndarray:
        """Values of a column for every point in point order (NaN where missing or failed)."""
        out = []
        for k in self.point_keys:
            r = self.rows.get(k)
            v = r.get(name) if r and r["status"] == "ok" else None
            out.append(np.nan if v is None else float(v))
        return np.array(out)

    def ok_mask(self) -> np.ndarray:
        return np.array([self.rows.get(k, {}).get("status") == "ok" for k in self.point_keys])


def _settings_row(study: Study, key: str, overrides: dict[str, float]) -> dict[str, Any]:
    return {"key": key, "refine": float(study.refine), "n_modes": study.settings.modes, **overrides}


def plan(study: Study) -> tuple[list[dict[str, float]], list[str], dict[str, str]]:
    """Overrides and key of every point, and the design error of each invalid point (by key).

    Runs in the calling process and never meshes: only :func:`parse_design` (for the fingerprint).
    """
    points = study.points()
    keys: list[str] = []
    invalid: dict[str, str] = {}
    s = study.settings
    for ov in points:
        try:
            d = parse_design(apply_overrides(study.base_raw, ov), "study point")
            keys.append(point_key(d.fingerprint(), s.refine, s.modes))
        except DesignError as exc:
            k = invalid_key(study.base, ov, s.refine, s.modes)
            keys.append(k)
            invalid[k] = "design: " + "; ".join(exc.messages)
    return points, keys, invalid


def default_workers() -> int:
    """Worker processes of the default local cluster: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run_study(study: Study, table_path: str | Path, *, serial: bool = False, scheduler: str | None = None,
              workers: int | None = None, max_new: int | None = None, retry_failed: bool = False,
              on_start: Callable[[int, int], None] | None = None,
              on_done: Callable[[dict[str, Any]], None] | None = None) -> StudyRun:
    """Run (or resume) a study, streaming rows to the CSV table at ``table_path``.

    ``serial`` evaluates in this process (no dask); otherwise a local cluster of
    ``workers`` single-threaded worker processes is started, or the existing
    scheduler at ``scheduler`` (``tcp://HOST:PORT``) is used.  Finished rows in
    the table are reused (failed ones too, unless ``retry_failed``); at most
    ``max_new`` new points are computed.  ``on_start(total, reused)`` and
    ``on_done(row)`` report progress.
    """
    t0 = time.perf_counter()
    table = ResultTable.for_study(Path(table_path), study)
    existing, notes = table.load()
    points, keys, invalid = plan(study)
    by_key = dict(zip(keys, points))
    done = {k for k, r in existing.items() if r["status"] == "ok" or (r["status"] == "failed" and not retry_failed)}
    todo = [k for k in dict.fromkeys(keys) if k not in done]
    reused = [k for k in dict.fromkeys(keys) if k in done]
    if max_new is not None:
        todo = todo[:max_new]
    run = StudyRun(study=study, table=table.path, rows=dict(existing), point_keys=keys, reused=reused, notes=notes)
    if on_start:
        on_start(len(todo), len(reused))

    def record(key: str, result: dict[str, Any]) -> None:
        row = table.normalize({**_settings_row(study, key, by_key[key]), **result})
        table.append(row)
        run.rows[key] = row
        run.computed.append(key)
        if on_done:
            on_done(row)

    for k in [k for k in todo if k in invalid]:  # invalid designs: recorded without meshing
        record(k, {"status": "failed", "error": invalid[k], "design_fingerprint": ""})
    todo = [k for k in todo if k not in invalid]
    s = study.settings
    if not todo:
        run.executor = "none (nothing to compute)"
    elif serial:
        run.executor, run.workers = "serial (this process)", 1
        for k in todo:
            record(k, evaluate_point(study.base_raw, by_key[k], s.refine, s.modes))
    else:
        _run_dask(study, todo, by_key, record, run, scheduler, workers)
    if not run.complete:
        run.interrupted = True
    run.seconds = time.perf_counter() - t0
    return run


def _run_dask(study: Study, todo: list[str], by_key: dict, record, run: StudyRun, scheduler: str | None,
              workers: int | None) -> None:
    from distributed import Client, LocalCluster, as_completed

    s = study.settings
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="10s")
        run.executor = f"dask scheduler {scheduler}"
    else:
        n = min(workers or default_workers(), len(todo))
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
        run.executor = f"dask local cluster ({n} worker processes × 1 thread)"
    try:
        client.wait_for_workers(1, timeout=120)
        info = client.scheduler_info()["workers"]
        run.workers = len(info)
        threaded = [w["nthreads"] for w in info.values() if w["nthreads"] > 1]
        if threaded:
            run.notes.append(f"{len(threaded)} worker(s) have several threads: points in one worker process run "
                             "one at a time (gmsh is one instance per process)")
        base = client.scatter([study.base_raw], broadcast=True)[0]  # one future for the whole mapping
        futures = {client.submit(evaluate_point, base, by_key[k], s.refine, s.modes, key=f"point-{k}",
                                 pure=False): k for k in todo}
        for fut in as_completed(futures):
            k = futures[fut]
            try:
                result = fut.result()
            except Exception as exc:  # worker died (e.g. a mesher crash): recorded, the study goes on
                result = {"status": "failed", "error": f"worker: {type(exc).__name__}: {exc}", "design_fingerprint": ""}
            record(k, result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
