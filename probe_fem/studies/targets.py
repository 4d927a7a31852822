"""What a fit fits to and what it varies: measured targets (R_P, τ, f−3dB) and free design parameters.

Both come in as Python values and are checked here, every problem named by the argument that holds
it (``free['body_length']``, ``targets['tau']``):

* ``targets``: ``{"rp": (72800.0, 500.0), "tau": (10e-6, 3e-6)}``, value and 1σ uncertainty in SI
  units (K/W, s, Hz) → :class:`Target` (:func:`targets_from`);
* ``free``: ``{"body_length": (10.0, 40.0), "materials.au_film.k_W_mK": None}``: a short alias
  (:data:`ALIASES`) or a dotted key as written in the design, with bounds in the design's units
  (``None``: [start/2, 2·start]) → :class:`FreeParameter` (:func:`free_parameters`).

:func:`parse_target` reads a target written as text with units (``'10us±3us'``).  The command line's
own grammar for free parameters and bounds lives in :mod:`probe_fem.cli.fit`, which words each
:class:`Problem` in its flags.  The fit itself is :mod:`probe_fem.studies.fit`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

from probe_fem.errors import InputError
from probe_fem.studies.keys import key_unit, resolve_key
from probe_fem.units import split_unit

# alias → dotted key; "{a.b}" is replaced by the raw design's value at a.b (a material name);
# a length key's unit suffix is taken from the design file.
ALIASES: dict[str, str] = {
    "au_thickness": "electrode.thickness_nm",
    "electrode_thickness": "electrode.thickness_nm",
    "electrode_width": "electrode.width_um",
    "body_length": "body.length_um",
    "body_width": "body.width_um",
    "body_thickness": "body.thickness_um",
    "tip_height": "tip.height_um",
    "tip_base": "tip.base_um",
    "apex_radius": "tip.apex_radius_nm",
    "tc_thickness": "thermocouple.thickness_nm",
    "leg_width": "thermocouple.leg_width_um",
    "junction_depth": "thermocouple.junction_below_apex_nm",
    "insulator_thickness": "insulator.thickness_nm",
    "k_au": "materials.{thermocouple.au_material}.k_W_mK",
    "k_cr": "materials.{thermocouple.cr_material}.k_W_mK",
    "k_sin": "materials.{body.material}.k_W_mK",
    "k_insulator": "materials.{insulator.material}.k_W_mK",
}

TARGETS = {  # target name → (result column, label, SI unit, accepted units and factors to SI)
    "rp": ("R_P_K_per_W", "R_P", "K/W", {"": 1.0, "K/W": 1.0}),
    "tau": ("tau_s", "τ (dominant mode)", "s", {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}),
    "f3db": ("f_3dB_Hz", "f−3dB", "Hz", {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6}),
}

Bounds = tuple[float, float]  # low, high in the design's units


@dataclass(frozen=True)
class Problem:
    """One problem with an argument of a fit: the argument, its entry (key as given), what is wrong.

    ``detail`` names no argument, so that each caller can say where the value came from: the library
    as ``free['body_length'] = (20.0, 30.0): …``, the command line with its flags.  ``given`` is the
    entry's value (bounds, target) when the problem is with that value rather than with the key.
    """

    argument: str  # "free", "targets" or a setting such as "max_evaluations"
    detail: str
    entry: str | None = None
    given: Any = None

    def __str__(self) -> str:
        where = self.argument if self.entry is None else f"{self.argument}[{self.entry!r}]"
        if self.given is not None:
            where += f" = {self.given!r}"
        return f"{where}: {self.detail}"


class FitInputError(InputError):
    """Arguments of a fit that cannot be used; ``problems`` lists each (:class:`Problem`), one line each."""

    kind = "fit arguments"

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__([str(p) for p in self.problems], "fit_design")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


@dataclass(frozen=True)
class Target:
    """A measured value to fit, SI units, with its 1σ uncertainty."""

    name: str  # rp, tau, f3db
    value: float
    sigma: float

    @property
    def column(self) -> str:
        """The column of an evaluated point (:func:`probe_fem.studies.evaluate.evaluate_point`) it matches."""
        return TARGETS[self.name][0]

    @property
    def label(self) -> str:
        return TARGETS[self.name][1]

    @property
    def unit(self) -> str:
        """SI unit of ``value`` and ``sigma``."""
        return TARGETS[self.name][2]


@dataclass(frozen=True)
class FreeParameter:
    """A fitted value: dotted key as written in the design, its start value and bounds (design units)."""

    key: str
    alias: str  # the name it was given by: an alias, or the key itself
    start: float
    low: float
    high: float

    @property
    def unit(self) -> str:
        return key_unit(self.key)


# ---------------------------------------------------------------- targets
def _pair(given: Any) -> tuple[float, float] | None:
    """``given`` as two floats if it is a pair of real numbers (a tuple, list or array), else ``None``."""
    if isinstance(given, (str, bytes, Mapping)) or not isinstance(given, Iterable):
        return None
    items = list(given)
    if len(items) != 2 or not all(isinstance(v, Real) and not isinstance(v, bool) for v in items):
        return None
    return float(items[0]), float(items[1])


def _target_details(value: float, sigma: float) -> list[str]:
    """What is wrong with a target's value and 1σ uncertainty (SI), naming no argument."""
    out = []
    if not (value > 0 and math.isfinite(value)):
        out.append("the value must be > 0")
    if not 0 < sigma < math.inf:
        out.append("the uncertainty must be > 0 (it weights the residual)")
    return out


def targets_from(targets: Mapping[str, tuple[float, float]]) -> tuple[list[Target], list[Problem]]:
    """:class:`Target` list from ``{"rp": (value, sigma), ...}`` (SI units), and the problems found."""
    names = ", ".join(f"{n} ({TARGETS[n][2]})" for n in TARGETS)
    if not isinstance(targets, Mapping) or not targets:
        return [], [Problem("targets", f"give at least one of {names} as (value, 1σ uncertainty) in SI units")]
    out, problems = [], []
    for name, given in targets.items():
        if name not in TARGETS:
            problems.append(Problem("targets", f"unknown target (targets: {names})", name))
            continue
        pair = _pair(given)
        if pair is None:
            problems.append(Problem("targets", f"give (value, 1σ uncertainty) in {TARGETS[name][2]}", name, given))
            continue
        details = _target_details(*pair)
        problems += [Problem("targets", d, name, pair) for d in details]
        if not details:
            out.append(Target(name, *pair))
    return out, problems


NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_target(name: str, text: str) -> Target:
    """``'72800±500'``, ``'10us±3us'``, ``'10±3 us'``, ``'1e-5s+-3e-6s'`` → :class:`Target` (SI).

    Raises :class:`~probe_fem.errors.InputError` naming the text and what is allowed.
    """
    units = TARGETS[name][3]
    unit_re = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True) if u)
    m = re.fullmatch(rf"\s*({NUMBER})\s*({unit_re})?\s*(?:±|\+-|\+/-)\s*({NUMBER})\s*({unit_re})?\s*", text)
    example = {"rp": "72800±500", "tau": "10us±3us", "f3db": "11kHz±1kHz"}[name]
    if not m:
        raise InputError(
            f"{text!r}: give value±uncertainty, e.g. {example} (units: {', '.join(u for u in units if u) or 'K/W'})"
        )
    v, u1, s, u2 = m.groups()
    if name != "rp" and not (u1 or u2):
        raise InputError(f"{text!r}: give a unit ({', '.join(u for u in units if u)}), e.g. {example}")
    u1, u2 = u1 or u2 or "", u2 or u1 or ""
    value, sigma = float(v) * units[u1], float(s) * units[u2]
    details = _target_details(value, sigma)
    if details:
        raise InputError(f"{text!r}: {details[0]}")
    return Target(name, value, sigma)


# ---------------------------------------------------------------- free parameters
def _material_key(raw: dict, template: str) -> str:
    """An alias's key with each ``{a.b}`` replaced by the design's value at a.b (a material name)."""

    def sub(m: re.Match) -> str:
        node: Any = raw
        for part in m.group(1).split("."):
            if not isinstance(node, dict) or part not in node:
                raise InputError(f"stands for {template}, but the design has no {m.group(1)}")
            node = node[part]
        return str(node)

    return re.sub(r"\{([^}]+)\}", sub, template)


def _length_key(raw: dict, template: str) -> str:
    """A length alias's key with the unit suffix the design uses for it (``body.length_nm``)."""
    *head, last = template.split(".")
    parsed = split_unit(last)
    assert parsed is not None, f"{template} has no length unit"  # every alias key without {…} has one
    node: Any = raw
    for part in head:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    for k in node:
        p = split_unit(k)
        if p and p[0] == parsed[0]:
            return ".".join([*head, k])
    return template


def resolve_free(raw: dict, name: str) -> tuple[str, float]:
    """Dotted key (as written in ``raw``) and current value for an alias or a dotted key.

    Raises :class:`~probe_fem.errors.InputError` saying what is wrong without naming ``name``'s
    argument (the caller does): an unknown alias, a key the design does not have, a non-number.
    """
    if name not in ALIASES and "." not in name:
        raise InputError(
            f"unknown alias (aliases: {', '.join(sorted(ALIASES))}) and not a dotted key "
            "as written in the design file (e.g. body.length_um)"
        )
    key = ALIASES.get(name, name)
    key = _material_key(raw, key) if "{" in key else _length_key(raw, key) if name in ALIASES else key
    try:
        _, value = resolve_key(raw, key)
    except ValueError as exc:
        raise InputError(str(exc).removeprefix(f"{name}: ")) from None
    return key, value


def _bounds_details(given: Any, value: float, unit: str) -> tuple[Bounds | None, list[str]]:
    """Bounds from ``(low, high)`` (design units) around the start ``value``, and what is wrong with them."""
    pair = _pair(given)
    if pair is None:
        return None, [f"give bounds as (low, high) in the design's units ({unit or 'as written'}), or None"]
    lo, hi = pair
    if not (0 < lo < hi < math.inf):
        return None, ["need 0 < low < high"]
    if not lo <= value <= hi:
        return None, [f"the design's value {value:g} {unit} (the start) must lie within the bounds"]
    return (lo, hi), []


def _free_parameter(raw: dict, name: str, bounds: Any, taken: set[str]) -> tuple[FreeParameter | None, list[Problem]]:
    """One free parameter from its name and bounds (``None``: [start/2, 2·start]), or its problems."""
    try:
        key, value = resolve_free(raw, name)
    except InputError as exc:
        return None, [Problem("free", str(exc), name)]
    problems = []
    if key in taken:
        problems.append(Problem("free", f"names {key} twice", name))
    if value <= 0:
        problems.append(Problem("free", f"{key} = {value:g} in the design; fitted values must be > 0", name))
        return None, problems
    lo_hi, details = ((value / 2, value * 2), []) if bounds is None else _bounds_details(bounds, value, key_unit(key))
    problems += [Problem("free", d, name, _pair(bounds) or bounds) for d in details]
    if problems or lo_hi is None:
        return None, problems
    return FreeParameter(key=key, alias=name, start=value, low=lo_hi[0], high=lo_hi[1]), []


def free_parameters(
    raw: dict, free: Mapping[str, Bounds | None] | Sequence[str]
) -> tuple[list[FreeParameter], list[Problem]]:
    """:class:`FreeParameter` list from ``{name: (low, high) or None}`` or a list of names, and the problems.

    A name is an alias (:data:`ALIASES`) or a dotted key as written in ``raw``; bounds are in the
    design's units and must hold its value (the start); ``None`` gives [start/2, 2·start].
    """
    if isinstance(free, str) or not isinstance(free, (Mapping, Sequence)):
        return [], [Problem("free", "give {name: (low, high) or None} or a list of names, e.g. {'body_length': None}")]
    entries = free if isinstance(free, Mapping) else dict.fromkeys(free)
    if not entries:
        return [], [Problem("free", "name at least one parameter, e.g. {'body_length': (10, 40)}")]
    out: list[FreeParameter] = []
    problems: list[Problem] = []
    for name, bounds in entries.items():
        p, found = _free_parameter(raw, name, bounds, {q.key for q in out})
        problems += found
        if p is not None:
            out.append(p)
    return out, problems
