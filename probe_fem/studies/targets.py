"""What a fit fits to and what it varies: measured targets (R_P, τ, f−3dB) and free design parameters.

A target is given as ``value±uncertainty`` with units (:func:`parse_target`,
e.g. ``10us±3us``) and kept in SI units.  Free parameters are named by short
aliases (:data:`ALIASES`, e.g. ``body_length`` → ``body.length_um``) or by
dotted keys as written in the design file, with optional bounds in the file's
units (:func:`parse_free`; default [start/2, 2·start]).  The fit itself is
:mod:`probe_fem.studies.fit`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

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

TARGETS = {  # option name → (result column, label, SI unit, accepted units and factors to SI)
    "rp": ("R_P_K_per_W", "R_P", "K/W", {"": 1.0, "K/W": 1.0}),
    "tau": ("tau_s", "τ (dominant mode)", "s", {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}),
    "f3db": ("f_3dB_Hz", "f−3dB", "Hz", {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6}),
}


@dataclass(frozen=True)
class Target:
    """A measured value to fit, SI units, with its 1σ uncertainty."""

    name: str  # rp, tau, f3db
    value: float
    sigma: float

    @property
    def column(self) -> str:
        return TARGETS[self.name][0]

    @property
    def label(self) -> str:
        return TARGETS[self.name][1]

    @property
    def unit(self) -> str:
        return TARGETS[self.name][2]


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_target(name: str, text: str) -> Target:
    """``'72800±500'``, ``'10us±3us'``, ``'10±3 us'``, ``'1e-5s+-3e-6s'`` → :class:`Target` (SI).

    Raises ``ValueError`` naming the text and what is allowed.
    """
    units = TARGETS[name][3]
    unit_re = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True) if u)
    m = re.fullmatch(rf"\s*({_NUM})\s*({unit_re})?\s*(?:±|\+-|\+/-)\s*({_NUM})\s*({unit_re})?\s*", text)
    example = {"rp": "72800±500", "tau": "10us±3us", "f3db": "11kHz±1kHz"}[name]
    if not m:
        raise ValueError(
            f"{text!r}: give value±uncertainty, e.g. {example} (units: {', '.join(u for u in units if u) or 'K/W'})"
        )
    v, u1, s, u2 = m.groups()
    if name != "rp" and not (u1 or u2):
        raise ValueError(f"{text!r}: give a unit ({', '.join(u for u in units if u)}), e.g. {example}")
    u1, u2 = u1 or u2 or "", u2 or u1 or ""
    value, sigma = float(v) * units[u1], float(s) * units[u2]
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"{text!r}: the value must be > 0")
    if not 0 < sigma < math.inf:
        raise ValueError(f"{text!r}: the uncertainty must be > 0 (it weights the residual)")
    return Target(name, value, sigma)


@dataclass(frozen=True)
class FreeParameter:
    """A fitted value: dotted key as written in the design, its start value and bounds (file units)."""

    key: str
    alias: str
    start: float
    low: float
    high: float

    @property
    def unit(self) -> str:
        return key_unit(self.key)


def resolve_free(raw: dict, name: str) -> tuple[str, float]:
    """Dotted key (as written in ``raw``) and current value for an alias or a dotted key."""
    key = ALIASES.get(name, name)
    if "{" in key:

        def sub(m: re.Match) -> str:
            node: Any = raw
            for part in m.group(1).split("."):
                if not isinstance(node, dict) or part not in node:
                    raise ValueError(f"{name!r} stands for {key}, but the design has no {m.group(1)}")
                node = node[part]
            return str(node)

        key = re.sub(r"\{([^}]+)\}", sub, key)
    elif name in ALIASES:  # length alias: use the unit the file uses
        *head, last = key.split(".")
        parsed = split_unit(last)
        assert parsed is not None, f"alias {name!r}: {key} has no length unit"  # every alias key without {…} has one
        stem = parsed[0]
        node: Any = raw
        for part in head:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        for k in node:
            p = split_unit(k)
            if p and p[0] == stem:
                key = ".".join([*head, k])
    if name not in ALIASES and "." not in name:
        raise ValueError(
            f"{name!r}: unknown alias (aliases: {', '.join(sorted(ALIASES))}) and not a dotted key "
            "as written in the design file (e.g. body.length_um)"
        )
    _, value = resolve_key(raw, key)
    return key, value


def parse_free(raw: dict, names: str, bounds: str | None) -> list[FreeParameter]:
    """Free parameters from ``'au_thickness,body_length'`` and optional bounds ``'body_length=10:40,...'``.

    Default bounds are [start/2, 2·start].  Raises ``ValueError`` listing every problem.
    """
    problems: list[str] = []
    keys: dict[str, tuple[str, float]] = {}
    for name in [n.strip() for n in names.split(",") if n.strip()]:
        try:
            key, value = resolve_free(raw, name)
        except ValueError as exc:
            problems.append(f"--free {exc}")
            continue
        if key in (k for k, _ in keys.values()):
            problems.append(f"--free {name!r}: names {key} twice")
        if value <= 0:
            problems.append(f"--free {name!r}: {key} = {value:g} in the design; fitted values must be > 0")
        keys[name] = (key, value)
    if not keys and not problems:
        problems.append("--free: name at least one parameter, e.g. --free body_length")
    given: dict[str, tuple[float, float]] = {}
    for item in [b.strip() for b in (bounds or "").split(",") if b.strip()]:
        m = re.fullmatch(rf"([^=]+)=({_NUM}):({_NUM})", item)
        if not m:
            problems.append(f"--bounds {item!r}: give NAME=LOW:HIGH in the design file's units, e.g. body_length=10:40")
            continue
        name, lo, hi = m.group(1).strip(), float(m.group(2)), float(m.group(3))
        match = [n for n, (k, _) in keys.items() if name in (n, k)]
        if not match:
            problems.append(f"--bounds {item!r}: {name} is not a --free parameter")
        elif not 0 < lo < hi:
            problems.append(f"--bounds {item!r}: need 0 < LOW < HIGH")
        else:
            given[match[0]] = (lo, hi)
    out = []
    for name, (key, value) in keys.items():
        lo, hi = given.get(name, (value / 2, value * 2))
        if not lo <= value <= hi:
            problems.append(
                f"--bounds {name}={lo:g}:{hi:g}: the design's value {value:g} {key_unit(key)} "
                "(the start) must lie within the bounds"
            )
        out.append(FreeParameter(key=key, alias=name, start=value, low=lo, high=hi))
    if problems:
        raise ValueError("\n".join(problems))
    return out
