"""Probe design files: TOML in, a validated :class:`Design` (SI units) out.

A design is checked completely before any meshing: unknown keys, missing
fields, out-of-range values and inconsistent combinations (a film thicker than
what it coats, a thermocouple above the apex, an unknown material, ...) are all
reported together in one :class:`DesignError`, each message naming the field as
the user wrote it, its value and the allowed range.

Geometry conventions (all lengths in metres inside the code):

* the SiN body is the box ``x in [0, L]``, ``y in [-W/2, W/2]``, ``z in [0, t]``;
  its root face ``x = 0`` is clamped on the chip (the heat sink);
* the pyramidal SiN tip stands on the body's top face near the free end; its
  *core* has height ``tip.height`` and square base ``tip.base``;
* on top follow the thermocouple layer (Au leg ``y > 0``, Cr leg ``y < 0``),
  the SiN insulating film and the outer Au electrode, each conformal on the tip;
* ``tip.apex_radius`` is the half-width of the flat apex cap of the *outer*
  (electrode) surface, where the heat ``Q_P`` is deposited;
* the thermocouple metal on the tip ends ``thermocouple.junction_below_apex``
  below the outer apex; its top band of axial length
  ``thermocouple.junction_length`` is the junction whose mean rise is ΔT_TC.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from probe_fem.units import LENGTH_UNITS, to_si

ORIGINS = ("paper", "literature", "fitted", "estimated")


class InputError(ValueError):
    """An input file that cannot be used; ``messages`` lists every problem found (one line each)."""

    kind = "input"

    def __init__(self, messages: list[str], source: str = ""):
        self.messages = messages
        self.source = source or self.kind
        super().__init__(f"{self.source}: " + "; ".join(messages))

    def __str__(self) -> str:
        return "\n".join([f"invalid {self.kind} {self.source}:"] + [f"  - {m}" for m in self.messages])


class DesignError(InputError):
    """A design file that cannot be used."""

    kind = "design"


def _length(lo: float, hi: float):
    """A length in metres, allowed in the open/closed interval ``(lo, hi]``."""
    return Annotated[float, Field(gt=lo, le=hi)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Body(_Section):
    """SiN probe body (cantilever), clamped at its root."""

    length_m: _length(0, 1e-3)
    width_m: _length(0, 1e-3)
    thickness_m: _length(0, 2e-5)
    material: str


class Tip(_Section):
    """Pyramidal tip core; the films coat it conformally."""

    height_m: _length(0, 5e-5)
    base_m: _length(0, 1e-4)
    apex_radius_m: _length(0, 2e-6)
    setback_m: Annotated[float, Field(ge=0, le=1e-3)]
    material: str


class Thermocouple(_Section):
    """Au–Cr thin-film thermocouple: two legs on the body, a split shell on the tip."""

    thickness_m: _length(0, 1e-6)
    leg_width_m: _length(0, 1e-3)
    leg_gap_m: _length(0, 1e-3)
    junction_below_apex_m: Annotated[float, Field(le=5e-5)]
    junction_length_m: _length(0, 1e-5)
    au_material: str
    cr_material: str


class Film(_Section):
    """A conformal film: the SiN insulator (full width) or the Au electrode (``width``)."""

    thickness_m: _length(0, 1e-6)
    material: str
    width_m: _length(0, 1e-3) | None = None


class Source(_Section):
    """Heat deposited uniformly on the apex cap."""

    power_W: _length(0, 1.0) = 1e-6


class Sink(_Section):
    """Heat-sink (chip) temperature at the body's root."""

    temperature_K: _length(0, 2000) = 300.0


class MeshSettings(_Section):
    """Target element sizes; sizes grow by ``growth`` per unit distance from apex and junction."""

    size_apex_m: _length(0, 1e-5)
    size_tc_m: _length(0, 1e-5)
    size_far_m: _length(0, 1e-4)
    growth: Annotated[float, Field(gt=0, le=5)] = 0.5
    seed: Annotated[int, Field(ge=0)] = 1


class Measured(_Section):
    """Measured calibration of a built probe; a measured R_P overrides the FEM value in the calibration."""

    R_P_K_per_W: Annotated[float, Field(gt=0, le=1e12)] | None = None
    R_P_uncertainty_K_per_W: Annotated[float, Field(ge=0, le=1e12)] | None = None
    S_TC_uV_per_K: Annotated[float, Field(gt=0, le=1e4)] = 16.3
    S_TC_uncertainty_uV_per_K: Annotated[float, Field(ge=0, le=1e4)] = 0.2
    source: str = "Lee et al., Nature 498, 209 (2013): S_TC = 16.3 +/- 0.2 uV/K"


class Material(_Section):
    """Isotropic material near 300 K."""

    k_W_mK: Annotated[float, Field(gt=0, le=5000)]
    rho_kg_m3: Annotated[float, Field(gt=0, le=30000)]
    cp_J_kgK: Annotated[float, Field(gt=0, le=5000)]
    origin: Literal["paper", "literature", "fitted", "estimated"]
    note: str = ""

    @property
    def heat_capacity(self) -> float:
        """Volumetric heat capacity ρ·c_p in J/(m³·K)."""
        return self.rho_kg_m3 * self.cp_J_kgK


class Design(_Section):
    """A complete, validated probe design in SI units."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
    description: str = ""
    body: Body
    tip: Tip
    thermocouple: Thermocouple
    insulator: Film
    electrode: Film
    source: Source = Source()
    sink: Sink = Sink()
    mesh: MeshSettings
    measured: Measured = Measured()
    materials: dict[str, Material]
    provenance: dict[str, str] = {}

    # ----- derived geometry (metres, radians) -----
    @property
    def stack_thickness(self) -> float:
        """Thermocouple + insulator + electrode thickness, m."""
        return self.thermocouple.thickness_m + self.insulator.thickness_m + self.electrode.thickness_m

    @property
    def core_apex_half_width(self) -> float:
        """Half-width of the SiN core's flat apex, m (outer apex minus the conformal stack)."""
        return self.tip.apex_radius_m - self.stack_thickness * math.tan(self.face_angle / 2)

    @property
    def face_angle(self) -> float:
        """Angle between the tip faces and the body plane, rad (54.7° for a KOH mould).

        Solved from core height h, base b and outer apex radius a with the
        conformal stack s: tanθ = h / (b/2 − a + s·tan(θ/2)), by fixed point."""
        h, b2, a, s = self.tip.height_m, self.tip.base_m / 2, self.tip.apex_radius_m, self.stack_thickness
        theta = math.atan2(h, max(b2 - a, 1e-12))
        for _ in range(100):
            theta = math.atan2(h, max(b2 - a + s * math.tan(theta / 2), 1e-12))
        return theta

    def fingerprint(self) -> str:
        """SHA-256 of the canonical (SI, sorted-key) design; names a design in results."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- messages
def _user_field(loc: tuple, given: dict) -> tuple[str, str, float]:
    """Dotted key as the user wrote it, its value as written, and the unit factor."""
    if loc in given:
        key, value = given[loc]
        unit = key.rpartition("_")[2]
        return ".".join(map(str, loc[:-1] + (key,))), repr(value), LENGTH_UNITS[unit]
    return ".".join(map(str, loc)), "", 1.0


def interval_text(lo: float | None, hi: float | None, lo_open: bool = True, hi_open: bool = True,
                  factor: float = 1.0, unit: str = "") -> str:
    """'allowed (0, 1000] um': an interval in the user's unit (values divided by ``factor``)."""
    if lo is None and hi is None:
        return ""
    left = ("(" if lo_open else "[") + (f"{lo / factor:g}" if lo is not None else "-inf")
    right = (f"{hi / factor:g}" if hi is not None else "inf") + (")" if hi_open else "]")
    return f"allowed {left}, {right}{(' ' + unit) if unit else ''}"


def field_bounds(info: Any) -> tuple[float | None, float | None, bool, bool]:
    """(lo, hi, lo_open, hi_open) from the Gt/Ge/Lt/Le metadata of a pydantic field, optional or not."""
    lo = hi = None
    lo_open = hi_open = True

    def walk(a: Any) -> None:
        nonlocal lo, hi, lo_open, hi_open
        for m in [*getattr(a, "__metadata__", ()), *getattr(a, "metadata", ())]:
            for c in getattr(m, "metadata", [m]):
                if isinstance(c, at.Gt):
                    lo = c.gt
                elif isinstance(c, at.Ge):
                    lo, lo_open = c.ge, False
                elif isinstance(c, at.Lt):
                    hi = c.lt
                elif isinstance(c, at.Le):
                    hi, hi_open = c.le, False
        for arg in get_args(a):
            walk(arg)

    walk(info)
    walk(getattr(info, "annotation", None))
    return lo, hi, lo_open, hi_open


def _range_text(model: type[BaseModel], loc: tuple, factor: float, unit: str) -> str:
    """'allowed (0, 1000] um' for the field at ``loc``."""
    cls, info = model, None
    for part in loc:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or part not in cls.model_fields:
            return ""
        info = cls.model_fields[part]
        cls = info.annotation
    return interval_text(*field_bounds(info), factor=factor, unit=unit) if info is not None else ""


def _shown(field: str) -> str:
    """A field as a user writes it: lengths with their unit choice."""
    return f"{field[:-2]}_um|nm" if field.endswith("_m") else field


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the section at ``loc`` (empty if ``loc`` is not a section)."""
    cls: Any = model
    for part in loc:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or part not in cls.model_fields:
            return []
        cls = cls.model_fields[part].annotation
    return list(cls.model_fields) if isinstance(cls, type) and issubclass(cls, BaseModel) else []


def format_errors(err: ValidationError, given: dict) -> list[str]:
    """One message per pydantic error: the key as the user wrote it, its value, the allowed range."""
    out = []
    for e in err.errors():
        loc = tuple(e["loc"])
        path, value, factor = _user_field(loc, given)
        unit = given[loc][0].rpartition("_")[2] if loc in given else ""
        if e["type"] == "missing":
            hint = " (give a unit, e.g. " + loc[-1][:-2] + "_um)" if str(loc[-1]).endswith("_m") else ""
            out.append(f"{path}: missing required field{hint}")
        elif e["type"] == "extra_forbidden":
            known = _fields_at(Design, loc[:-1])
            hint = (f" (lengths need a unit suffix, e.g. {loc[-1]}_um)" if f"{loc[-1]}_m" in known
                    else f" (allowed: {', '.join(_shown(k) for k in known)})" if known else "")
            out.append(f"{path}: unknown key{hint}")
        else:
            shown = value or repr(e.get("input"))
            rng = _range_text(Design, loc, factor, unit)
            out.append(f"{path} = {shown}: {e['msg'].lower()}" + (f" ({rng})" if rng else ""))
    return out


# ---------------------------------------------------------------- consistency
@dataclass
class _Check:
    design: Design
    given: dict
    messages: list

    def fail(self, loc: tuple, requirement: str, limit_m: float | None = None) -> None:
        path, value, factor = _user_field(loc, self.given)
        unit = self.given[loc][0].rpartition("_")[2] if loc in self.given else "m"
        if not value:
            obj: Any = self.design
            for part in loc:
                obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
            value = repr(obj)
        limit = f" {limit_m / factor:.4g} {unit}" if limit_m is not None else ""
        self.messages.append(f"{path} = {value}: {requirement}{limit}")


def _check_consistency(d: Design, given: dict) -> list[str]:
    c = _Check(d, given, [])
    known = sorted(d.materials)
    for loc in [("body", "material"), ("tip", "material"), ("thermocouple", "au_material"),
                ("thermocouple", "cr_material"), ("insulator", "material"), ("electrode", "material")]:
        name = getattr(getattr(d, loc[0]), loc[1])
        if name not in d.materials:
            c.fail(loc, f"unknown material (known: {', '.join(known) or 'none'})")
    t_b = d.body.thickness_m
    for sec in ("thermocouple", "insulator", "electrode"):
        if getattr(d, sec).thickness_m >= t_b:
            c.fail((sec, "thickness_m"), "a film must be thinner than the body it coats: must be <", t_b)
    if d.stack_thickness >= d.tip.height_m / 2:
        c.fail(("tip", "height_m"), "the film stack would bury the tip: must be > 2 × stack thickness =",
               2 * d.stack_thickness)
    if d.electrode.width_m is None:
        c.messages.append("electrode.width_um: missing required field (electrode coverage of the body width)")
    elif d.electrode.width_m > d.body.width_m:
        c.fail(("electrode", "width_m"), "electrode wider than the body: must be <=", d.body.width_m)
    if d.insulator.width_m is not None:
        c.fail(("insulator", "width_m"), "the insulating film always covers the full body width; remove this key")
    legs = 2 * d.thermocouple.leg_width_m + d.thermocouple.leg_gap_m
    if legs > d.body.width_m:
        c.fail(("thermocouple", "leg_width_m"), "two legs and their gap must fit on the body: must be <=",
               (d.body.width_m - d.thermocouple.leg_gap_m) / 2)
    if c.messages:  # geometry below needs the basic sizes to be sane
        return c.messages
    theta = d.face_angle
    if not math.radians(20) <= theta <= math.radians(85):
        c.fail(("tip", "base_m"), f"tip faces at {math.degrees(theta):.1f}° to the body; allowed 20°–85° "
               "(a KOH-etched mould gives 54.7°, base ≈ 1.41 × height)")
    a_min = d.stack_thickness * math.tan(theta / 2)
    if d.core_apex_half_width <= 0:
        c.fail(("tip", "apex_radius_m"), "a conformally coated apex cannot be sharper than its films: must be >",
               a_min)
    elif d.core_apex_half_width >= d.tip.base_m / 2:
        c.fail(("tip", "apex_radius_m"), "apex wider than the tip base: must be <", d.tip.base_m / 2 + a_min)
    j_lo = d.insulator.thickness_m + d.electrode.thickness_m
    j_hi = d.tip.height_m - d.thermocouple.junction_length_m
    j = d.thermocouple.junction_below_apex_m
    if j <= j_lo:
        where = "above the apex" if j <= 0 else "inside the films that cover it"
        c.fail(("thermocouple", "junction_below_apex_m"),
               f"thermocouple junction would lie {where}: must be >", j_lo)
    elif j >= j_hi:
        c.fail(("thermocouple", "junction_below_apex_m"),
               "junction (with its length) must lie on the tip: must be <", j_hi)
    half_foot = d.tip.base_m / 2 + d.stack_thickness / math.sin(theta)
    if 2 * half_foot > d.body.width_m:
        c.fail(("tip", "base_m"), "coated tip footprint wider than the body: must be <=",
               d.body.width_m - 2 * d.stack_thickness / math.sin(theta))
    if d.tip.setback_m + 2 * half_foot >= d.body.length_m:
        c.fail(("body", "length_m"), "the body must hold the coated tip: must be >",
               d.tip.setback_m + 2 * half_foot)
    if (d.measured.R_P_K_per_W is None) != (d.measured.R_P_uncertainty_K_per_W is None):
        c.messages.append("measured: give R_P_K_per_W and R_P_uncertainty_K_per_W together, or neither")
    m = d.mesh
    if m.size_apex_m > 2 * d.tip.apex_radius_m:
        c.fail(("mesh", "size_apex_m"), "must resolve the apex cap: must be <= 2 × apex radius =",
               2 * d.tip.apex_radius_m)
    if not m.size_apex_m <= m.size_far_m:
        c.fail(("mesh", "size_far_m"), "far-field size must be >= size at the apex:", m.size_apex_m)
    if not m.size_tc_m <= m.size_far_m:
        c.fail(("mesh", "size_tc_m"), "thermocouple size must be <= far-field size:", m.size_far_m)
    for key in d.provenance:
        obj: Any = d.model_dump()
        head = key.split(".")
        for part in head:
            obj = obj.get(part) if isinstance(obj, dict) else None
        stem_ok = obj is not None or _provenance_key_with_unit(d, head)
        if not stem_ok:
            c.messages.append(f"provenance.{key}: names no field of the design")
        if not d.provenance[key].split(":")[0].strip() in ORIGINS:
            c.messages.append(f"provenance.{key} = {d.provenance[key]!r}: must start with one of "
                              f"{', '.join(ORIGINS)} followed by ':'")
    return c.messages


def _provenance_key_with_unit(d: Design, parts: list[str]) -> bool:
    """Provenance keys may name a length with its unit suffix, as written in the file."""
    from probe_fem.units import split_unit

    parsed = split_unit(parts[-1])
    if parsed is None:
        return False
    obj: Any = d.model_dump()
    for part in parts[:-1] + [parsed[0] + "_m"]:
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj is not None


# ---------------------------------------------------------------- loading
def parse_design(raw: dict[str, Any], source: str = "design") -> Design:
    """Validate a design mapping (as read from TOML, with unit-suffixed keys)."""
    try:
        si, given = to_si(raw)
    except ValueError as exc:
        raise DesignError([str(exc)], source) from None
    try:
        design = Design.model_validate(si)
    except ValidationError as exc:
        raise DesignError(format_errors(exc, given), source) from None
    problems = _check_consistency(design, given)
    if problems:
        raise DesignError(problems, source)
    return design


def embedded_design_path(name: str = "ntistp") -> Path:
    """Path of a design shipped inside the package (works for non-editable installs)."""
    return Path(str(resources.files("probe_fem.design") / "data"/ f"{name}.toml"))


def load_design(path: str | Path | None = None) -> Design:
    """Read and validate a TOML design file; ``None`` loads the embedded NTISTP design.

    Raises :class:`DesignError` (a ``ValueError``) listing every problem found.
    Loading never executes code: TOML is parsed as data only.
    """
    p = embedded_design_path() if path is None else Path(path)
    return parse_design(read_toml(p, DesignError), str(p))


def read_toml(p: Path, error: type[InputError]) -> dict[str, Any]:
    """Parse a TOML file as data, raising ``error`` (one message) if it cannot be read or parsed."""
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error([f"cannot read file: {exc.strerror}"], str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise error([f"not valid TOML: {exc}"], str(p)) from None
