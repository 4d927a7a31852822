"""The study file: a TOML file that varies parameters of a base design, validated completely before any run.

A study file names a base design and the parameters to vary, by their dotted
keys *as written in the design file* (unit suffix included:
``"body.length_um"``, ``"materials.au_film.k_W_mK"``).  Methods:

* ``grid`` — every combination of each parameter's ``values`` (or
  ``start``/``stop``/``num``, evenly spaced);
* ``list`` — the i-th point takes the i-th of every parameter's ``values``;
* ``monte-carlo`` / ``latin-hypercube`` — ``samples`` draws from each
  parameter's ``distribution`` (``uniform``, ``normal``, ``lognormal``, all
  truncated to ``[low, high]``; thin-film properties have default ranges from
  the literature, :data:`DEFAULT_RANGES`);
* ``sobol`` — Saltelli's scheme for SALib's Sobol estimator,
  ``samples × (parameters + 2)`` points.

Parameters, their distributions and default ranges are in :mod:`probe_fem.studies.parameters`.

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
    mean = 17.056
    std = 0.5
    low = 16.0
    high = 20.0

A study is validated completely before any run (:class:`StudyError` lists
every problem: field, value, allowed range); :func:`load_study` gives a
:class:`Study`, whose :meth:`Study.points` are the design overrides to evaluate
(:mod:`probe_fem.studies.runner`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from probe_fem.design.load import embedded_design_path, parse_design, read_toml
from probe_fem.design.messages import field_bounds, interval_text
from probe_fem.design.schema import Design, DesignError
from probe_fem.errors import InputError
from probe_fem.io import check_depth, parse_toml, read_text
from probe_fem.studies.keys import field_errors, key_unit, resolve_key
from probe_fem.studies.parameters import DEFAULT_RANGES, DISTRIBUTIONS, Parameter, default_range

METHODS = ("grid", "list", "monte-carlo", "latin-hypercube", "sobol")
MAX_POINTS = 100_000


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
        if not self.sampled:
            raise InputError(f"method {self.method!r} does not sample")
        assert s.samples is not None  # parse_study requires samples for a sampled method
        if self.method == "monte-carlo":
            return sensitivity.monte_carlo(s.samples, d, s.seed)
        if self.method == "latin-hypercube":
            return sensitivity.latin_hypercube(s.samples, d, s.seed)
        return sensitivity.saltelli(s.samples, d, s.seed)

    def values(self) -> np.ndarray:
        """Parameter values of every point (n × d, file units), in point order."""
        if self.method == "grid":
            return np.array(list(itertools.product(*[p.listed() for p in self.parameters])), float)
        if self.method == "list":
            return np.column_stack([p.listed() for p in self.parameters]).astype(float)
        U = self.unit_samples()
        return np.column_stack([p.ppf(U[:, j]) for j, p in enumerate(self.parameters)])

    def points(self) -> list[dict[str, float]]:
        """Overrides of every point: dotted key (as written) → value (file units)."""
        return [dict(zip(self.keys, map(float, row))) for row in self.values()]


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


EMBEDDED = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # embedded:<name>, a design shipped in the package


def _design_path(text: str, base_dir: Path, fail: Callable[[str], StudyError]) -> Path:
    if text.startswith("embedded:"):
        name = text.partition(":")[2]
        path = embedded_design_path(name) if EMBEDDED.fullmatch(name) else None
        if path is None or not path.is_file():
            known = sorted(p.stem for p in embedded_design_path().parent.glob("*.toml"))
            raise fail(f"no embedded design {name!r}; allowed: {', '.join('embedded:' + k for k in known)}")
        return path
    p = Path(text)
    return p if p.is_absolute() else base_dir / p


def _read_base(text: str, base_dir: Path, source: str) -> tuple[Path, dict[str, Any]]:
    """The base design's path and raw mapping; one StudyError naming ``study.design`` if it cannot be read
    (no such file, a NUL in the path, not UTF-8, not TOML, nested too deeply)."""

    def fail(message: str) -> StudyError:
        return StudyError([f"study.design = {text!r}: {message}"], source)

    path = _design_path(text, base_dir, fail)
    return path, parse_toml(read_text(path, lambda m: fail(f"{path}: {m}")), lambda m: fail(f"{path}: {m}"))


DIST_FIELDS = ("distribution", "low", "high", "mean", "std", "median", "sigma_ln")
GRID_FIELDS = ("values", "start", "stop", "num")


def _check_parameter(key: str, spec: ParameterSpec, method: str, raw: dict, msgs: list[str]) -> Parameter | None:
    """Validate one parameter against the method and the base design; append problems to ``msgs``."""
    where = f'parameters."{key}"'
    try:
        path, base_value = resolve_key(raw, key)
    except ValueError as exc:
        msgs.append(f"{where}: {exc}")
        return None
    n0 = len(msgs)
    u = f" {key_unit(key)}" if key_unit(key) else ""
    given = {f for f in spec.model_fields_set if f != "note"}
    values: tuple[float, ...] | None = None
    lo = hi = None
    if method in ("grid", "list"):
        values = _grid_values(where, spec, method, given, u, msgs)
        checked: tuple[float, ...] = values or ()
    else:
        bounds = _distribution_bounds(where, key, spec, method, given, u, msgs)
        if bounds is None:
            return None
        lo, hi = checked = bounds
    for v in dict.fromkeys(checked):
        name = "values" if values is not None else _value_name(v, lo, hi)
        msgs.extend(
            f"{where}.{name}: {v:g}{u} is outside the design's allowed range: {reason}"
            for reason in _range_problems(raw, key, v)
        )
    if len(msgs) > n0:
        return None
    fields = {f: getattr(spec, f) for f in ("distribution", "mean", "std", "median", "sigma_ln")}
    return Parameter(key=key, path=path, base_value=base_value, values=values, low=lo, high=hi, **fields)


def _grid_values(
    where: str, spec: ParameterSpec, method: str, given: set[str], u: str, msgs: list[str]
) -> tuple[float, ...] | None:
    """The values of a grid or list parameter (``values``, or ``start``/``stop``/``num`` on a grid)."""
    more = " or start, stop, num" if method == "grid" else ""
    msgs.extend(
        f"{where}.{f}: not used by method {method!r} (give values{more})" for f in sorted(given & set(DIST_FIELDS))
    )
    ranged = given & {"start", "stop", "num"}
    values = None
    if method == "list" and ranged:
        msgs.append(f"{where}: method 'list' takes values = [...], not start/stop/num")
    elif spec.values is not None and ranged:
        msgs.append(f"{where}: give values or start/stop/num, not both")
    elif spec.values is not None:
        values = tuple(spec.values)
    elif ranged == {"start", "stop", "num"}:
        assert spec.start is not None and spec.stop is not None and spec.num is not None  # all three given
        if spec.start == spec.stop:
            msgs.append(f"{where}.stop = {spec.stop!r}: must differ from start")
        values = tuple(float(v) for v in np.linspace(spec.start, spec.stop, spec.num))
    elif ranged:
        missing = ", ".join(sorted({"start", "stop", "num"} - ranged))
        msgs.append(f"{where}: start, stop and num go together (missing: {missing})")
    else:
        msgs.append(f"{where}: missing values (a list, in the file's units{u}){more}")
    if values is not None and len(set(values)) != len(values) and method == "grid":
        msgs.append(f"{where}.values: repeated values in a grid")
    return values


def _distribution_bounds(
    where: str, key: str, spec: ParameterSpec, method: str, given: set[str], u: str, msgs: list[str]
) -> tuple[float, float] | None:
    """[low, high] of a sampled parameter (the key's default range where not given); its other fields checked."""
    unused = sorted(given & set(GRID_FIELDS))
    msgs.extend(f"{where}.{f}: not used by method {method!r} (give a distribution)" for f in unused)
    dist = spec.distribution
    if dist is None:
        msgs.append(f"{where}: missing distribution (allowed: {', '.join(DISTRIBUTIONS)})")
        return None
    needed = {"uniform": set(), "normal": {"mean", "std"}, "lognormal": {"median", "sigma_ln"}}[dist]
    msgs.extend(
        f"{where}.{f}: missing; a {dist} distribution needs {' and '.join(sorted(needed))}"
        for f in sorted(needed - given)
    )
    msgs.extend(
        f"{where}.{f}: not a parameter of a {dist} distribution"
        for f in sorted((given & {"mean", "std", "median", "sigma_ln"}) - needed)
    )
    default = default_range(key)
    if (spec.low is None or spec.high is None) and default is None:
        known = ", ".join(sorted(DEFAULT_RANGES))
        msgs.append(f"{where}: give low and high{u} (no default range for this key; defaults exist for {known})")
        return None
    lo = spec.low if spec.low is not None else default[0]  # type: ignore[index]
    hi = spec.high if spec.high is not None else default[1]  # type: ignore[index]
    if not lo < hi:
        msgs.append(f"{where}.high = {hi!r}: must be > low = {lo:g}{u}")
    centre = {"normal": ("mean", spec.mean), "lognormal": ("median", spec.median)}.get(dist)
    if centre is not None and centre[1] is not None and not lo <= centre[1] <= hi:
        msgs.append(f"{where}.{centre[0]} = {centre[1]!r}: must lie within [low, high] = [{lo:g}, {hi:g}]{u}")
    if dist == "lognormal" and lo <= 0:
        msgs.append(f"{where}.low = {lo!r}: a log-normal distribution needs low > 0")
    return lo, hi


def _range_problems(raw: dict, key: str, value: float) -> list[str]:
    """Why the base design with ``key`` set to ``value`` breaks a field range (the message's reason part)."""
    out = []
    for m in field_errors(raw, key, value):
        head, sep, tail = m.partition(": ")
        out.append(tail if sep and head.startswith(key + " = ") else m)
    return out


def _value_name(v: float, lo: float | None, hi: float | None) -> str:
    return "low" if v == lo else "high" if v == hi else "value"


def parse_study(raw: dict[str, Any], source: str = "study", base_dir: Path = Path(".")) -> Study:
    """Validate a study mapping (as read from TOML); the base design path is relative to ``base_dir``."""
    check_depth(raw, lambda message: StudyError([message], source))
    try:
        sf = StudyFile.model_validate(raw)
    except ValidationError as exc:
        raise StudyError(_format_study_errors(exc), source) from None
    s = sf.study
    msgs: list[str] = []
    design_path, base_raw = _read_base(s.design, base_dir, source)
    try:
        base = parse_design(base_raw, str(design_path))
    except DesignError as exc:
        raise StudyError(
            [f"study.design = {s.design!r}: the base design is invalid: {m}" for m in exc.messages], source
        ) from None
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
        lengths = {p.key: len(p.listed()) for p in params_t}
        if len(set(lengths.values())) > 1:
            raise StudyError(
                [
                    "parameters: method 'list' needs equally many values per parameter (got "
                    + ", ".join(f"{k}: {n}" for k, n in lengths.items())
                    + ")"
                ],
                source,
            )
    n: int
    if s.method == "grid":
        n = math.prod(len(p.listed()) for p in params_t)
    elif s.method == "list":
        n = len(params_t[0].listed())
    else:
        assert s.samples is not None  # a sampled method without samples was reported above
        n = s.samples * (len(params_t) + 2) if s.method == "sobol" else s.samples
    if n > MAX_POINTS:
        raise StudyError([f"study: {n:,} points; allowed at most {MAX_POINTS:,}"], source)
    return Study(settings=s, parameters=params_t, base_raw=base_raw, base=base, design_path=design_path, source=source)


def load_study(path: str | Path) -> Study:
    """Read and validate a study file (TOML, data only).  Raises :class:`StudyError` listing every problem."""
    p = Path(path)
    return parse_study(read_toml(p, StudyError), str(p), p.resolve().parent)
