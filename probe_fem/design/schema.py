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
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from probe_fem.errors import InputError

ORIGINS = ("paper", "literature", "fitted", "estimated")
RULES_ERROR = "design_rules"  # the pydantic error type of broken cross-field rules; its context lists them


class DesignError(InputError):
    """A design file that cannot be used."""

    kind = "design"


class _Section(BaseModel):
    # strict: no "5" → 5.0 and no true → 1.0; finite numbers only
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Body(_Section):
    """SiN probe body (cantilever), clamped at its root.

    ``planform``: ``"rectangular"`` (``width`` everywhere), ``"tapered"`` (``width`` at the root,
    ``end_width`` at the free end) or ``"v"`` (two arms of ``arm_width`` opening by
    ``opening_angle_deg`` towards the root, joined by an end plate of ``width`` × ``end_length``
    that holds the tip).
    """

    length_m: Annotated[float, Field(gt=0, le=1e-3)]
    width_m: Annotated[float, Field(gt=0, le=1e-3)]
    thickness_m: Annotated[float, Field(gt=0, le=2e-5)]
    material: str
    planform: Literal["rectangular", "tapered", "v"] = "rectangular"
    end_width_m: Annotated[float, Field(gt=0, le=1e-3)] | None = None
    arm_width_m: Annotated[float, Field(gt=0, le=1e-3)] | None = None
    opening_angle_deg: Annotated[float, Field(ge=0, le=120)] | None = None
    end_length_m: Annotated[float, Field(gt=0, le=1e-3)] | None = None


class Tip(_Section):
    """Tip core, a square pyramid with a flat apex or a cone with a spherical apex cap; the films coat it conformally.

    ``setback`` places the tip along the body: from the coated footprint to the body's free end.
    """

    height_m: Annotated[float, Field(gt=0, le=5e-5)]
    base_m: Annotated[float, Field(gt=0, le=1e-4)]
    apex_radius_m: Annotated[float, Field(gt=0, le=2e-6)]
    setback_m: Annotated[float, Field(ge=0, le=1e-3)]
    material: str
    shape: Literal["pyramid", "cone"] = "pyramid"


class Thermocouple(_Section):
    """Au–Cr thin-film thermocouple: two legs along the body (Au on the +y side, Cr on −y).

    On the tip (``tip_legs``) the legs run as stripes of ``tip_leg_width`` up the face towards
    the root (``"back"``, side by side ``tip_leg_gap`` apart) or up the two side faces
    (``"sides"``), and overlap in the junction band ``junction_length`` long just below
    ``junction_below_apex``; ``"shell"`` is the older lumped model, each leg covering half
    the tip.  Stripes are patterns in plan view, as lithography defines them.
    """

    thickness_m: Annotated[float, Field(gt=0, le=1e-6)]
    leg_width_m: Annotated[float, Field(gt=0, le=1e-3)]
    leg_gap_m: Annotated[float, Field(gt=0, le=1e-3)]
    junction_below_apex_m: Annotated[float, Field(le=5e-5)]
    junction_length_m: Annotated[float, Field(gt=0, le=1e-5)]
    au_material: str | None = None  # required for a thermocouple; a resistive design's legs are its leads
    cr_material: str | None = None
    tip_legs: Literal["back", "sides", "shell"] = "back"
    tip_leg_width_m: Annotated[float, Field(gt=0, le=1e-4)] | None = None
    tip_leg_gap_m: Annotated[float, Field(gt=0, le=1e-4)] | None = None


class Resistor(_Section):
    """A thin-film resistor sensor, heater and thermometer at once (a resistive probe instead of a thermocouple).

    It uses the thermocouple table's pattern: the film ``material`` fills the band where the two legs
    meet (``junction_length`` long, ``junction_below_apex`` below the apex), and both legs, of
    ``lead_material``, are its leads from the root (the electrical terminals) to the band.
    """

    material: str
    lead_material: str


class Film(_Section):
    """A conformal film: the SiN insulator (full width) or the Au electrode (``width``)."""

    thickness_m: Annotated[float, Field(gt=0, le=1e-6)]
    material: str
    width_m: Annotated[float, Field(gt=0, le=1e-3)] | None = None


class Source(_Section):
    """Heat deposited uniformly on the apex cap."""

    power_W: Annotated[float, Field(gt=0, le=1.0)] = 1e-6


class Sink(_Section):
    """Heat-sink (chip) temperature at the body's root."""

    temperature_K: Annotated[float, Field(gt=0, le=2000)] = 300.0


class MeshSettings(_Section):
    """Target element sizes; sizes grow by ``growth`` per unit distance from apex and junction."""

    size_apex_m: Annotated[float, Field(gt=0, le=1e-5)]
    size_tc_m: Annotated[float, Field(gt=0, le=1e-5)]
    size_far_m: Annotated[float, Field(gt=0, le=1e-4)]
    growth: Annotated[float, Field(gt=0, le=5)] = 0.5
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 1


class Sample(_Section):
    """A flat sample whose plane touches the probe's lowest point (the apex): the probe is mounted tilted by
    ``tilt_deg`` about the lateral axis, its root away from the sample (AFM heads: ~10–15°)."""

    tilt_deg: Annotated[float, Field(ge=0, le=45)] = 12.0


class Environment(_Section):
    """The probe's surroundings: gas at ``pressure`` (any unit key: ``pressure_Pa``, ``_kPa``, ``_mbar``,
    ``_Torr``, ``_atm``), thermal accommodation coefficient, radiation (emissivities of the materials), and
    an optional sample.  Surfaces facing the sample exchange heat across their gap to it; the rest across
    ``surroundings_length`` (default: the body's width).  The surroundings and the sample are at the sink's
    temperature.  Absent: vacuum and no radiation (conduction to the root only)."""

    pressure_Pa: Annotated[float, Field(ge=0, le=1e7)] = 0.0
    gas: Literal["air", "N2", "He", "Ar"] = "air"
    accommodation: Annotated[float, Field(gt=0, le=1)] = 0.9
    radiation: bool = True
    surroundings_length_m: Annotated[float, Field(gt=0, le=0.1)] | None = None
    sample: Sample | None = None


class Measured(_Section):
    """Measured calibration of a built probe; a measured R_P overrides the FEM value in the calibration.

    Without a measured S_TC a thermocouple's S_TC follows from its films' Seebeck coefficients.
    """

    R_P_K_per_W: Annotated[float, Field(gt=0, le=1e12)] | None = None
    R_P_uncertainty_K_per_W: Annotated[float, Field(ge=0, le=1e12)] | None = None
    S_TC_uV_per_K: Annotated[float, Field(gt=0, le=1e4)] | None = None
    S_TC_uncertainty_uV_per_K: Annotated[float, Field(ge=0, le=1e4)] | None = None
    source: str = ""


class Material(_Section):
    """Isotropic material near 300 K."""

    k_W_mK: Annotated[float, Field(gt=0, le=5000)]
    rho_kg_m3: Annotated[float, Field(gt=0, le=30000)]
    cp_J_kgK: Annotated[float, Field(gt=0, le=5000)]
    origin: Literal["paper", "literature", "fitted", "estimated"]
    note: str = ""
    # electrical and thermoelectric film data (a conductor's; thin films differ from bulk, origin as above)
    resistivity_ohm_m: Annotated[float, Field(gt=0, le=1.0)] | None = None
    tcr_per_K: Annotated[float, Field(ge=-0.1, le=0.1)] | None = None  # (1/ρ) dρ/dT near 300 K
    seebeck_uV_per_K: Annotated[float, Field(ge=-1000, le=1000)] | None = None  # absolute, near 300 K
    seebeck_uncertainty_uV_per_K: Annotated[float, Field(ge=0, le=1000)] | None = None
    emissivity: Annotated[float, Field(ge=0, le=1)] | None = None  # total hemispherical, for [environment]

    @property
    def heat_capacity(self) -> float:
        """Volumetric heat capacity ρ·c_p in J/(m³·K)."""
        return self.rho_kg_m3 * self.cp_J_kgK


class Design(_Section):
    """A complete, validated probe design in SI units."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]  # a safe file name
    description: str = ""
    body: Body
    tip: Tip
    thermocouple: Thermocouple
    insulator: Film
    electrode: Film
    resistor: Resistor | None = None  # a resistive probe: the band is a resistor film, the legs its leads
    source: Source = Source()
    sink: Sink = Sink()
    mesh: MeshSettings | None = None  # None: sizes derived from the features (probe_fem.mesh.sizing)
    measured: Measured = Measured()
    environment: Environment | None = None  # None: vacuum, no radiation (conduction to the root only)
    materials: dict[str, Material]
    provenance: dict[str, str] = {}

    @model_validator(mode="after")
    def _obeys_the_rules(self, info: ValidationInfo) -> Design:
        """Every rule across fields (:mod:`probe_fem.design.rules`), in the user's keys if the context has them."""
        from probe_fem.design.rules import problems

        found = problems(self, (info.context or {}).get("given"))
        if found:
            raise PydanticCustomError(RULES_ERROR, "{summary}", {"summary": "; ".join(found), "messages": found})
        return self

    @property
    def sensor(self) -> Literal["thermocouple", "resistor"]:
        """What reads the probe's temperature: the thermocouple junction or the resistor film."""
        return "thermocouple" if self.resistor is None else "resistor"

    def with_values(self, updates: Mapping[str, Any]) -> Design:
        """A variant with values changed by dotted SI key (``{"body.length_m": 2e-5, "materials.au_film.k_W_mK":
        150}``), validated as a loaded design is: a variant that breaks a rule is a :class:`DesignError`."""
        from probe_fem.design.messages import format_errors

        data = self.model_dump()
        for key, value in updates.items():
            *head, last = key.split(".")
            node: Any = data
            for part in head:
                node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict) or last not in node:
                raise DesignError([f"{key}: names no field of the design"], self.name)
            node[last] = value
        try:
            return Design.model_validate(data)
        except ValidationError as exc:
            raise DesignError(format_errors(exc, {}), self.name) from None

    # ----- derived geometry (metres, radians) -----
    @property
    def surroundings_length(self) -> float:
        """Gas gap (m) from faces that do not face a sample to the surroundings: the environment's
        ``surroundings_length``, or the body's width."""
        given = self.environment.surroundings_length_m if self.environment is not None else None
        return given or self.body.width_m

    @property
    def stack_thickness(self) -> float:
        """Thermocouple + insulator + electrode thickness, m."""
        return self.thermocouple.thickness_m + self.insulator.thickness_m + self.electrode.thickness_m

    @property
    def core_apex_half_width(self) -> float:
        """Core apex size, m: half-width of the pyramid's flat apex, or the cone's cap-sphere radius.

        The outer apex (``tip.apex_radius``) minus the conformal stack."""
        if self.tip.shape == "cone":
            return self.tip.apex_radius_m - self.stack_thickness
        return self.tip.apex_radius_m - self.stack_thickness * math.tan(self.face_angle / 2)

    def core_half_width(self, depth_m: float) -> float:
        """Half-width (m) of the tip core's cross-section ``depth_m`` below its top (pyramid: half its side;
        cone: its radius, on the spherical cap down to the tangent circle, then on the flank)."""
        depth, th, r = max(depth_m, 0.0), self.face_angle, self.core_apex_half_width
        if self.tip.shape == "pyramid":
            return r + depth / math.tan(th)
        alpha = math.pi / 2 - th  # polar angle of the cap's tangent circle
        tangent_depth = r * (1 - math.cos(alpha))
        if depth <= tangent_depth:
            return math.sqrt(max(r * r - (r - depth) ** 2, 0.0))
        return r * math.sin(alpha) + (depth - tangent_depth) / math.tan(th)

    @property
    def coated_half_foot(self) -> float:
        """Half-width of the coated tip's footprint on the body, m (core base plus the film stack)."""
        return self.tip.base_m / 2 + self.stack_thickness / math.sin(self.face_angle)

    @property
    def leg_taper_length(self) -> float:
        """Length (m) over which a ``back`` leg narrows from ``leg_width`` to its stripe, ending half a leg
        width before the tip's footprint: the longer of its two edges' offsets (no edge steeper than 45°)."""
        tc = self.thermocouple
        if tc.tip_leg_width_m is None or tc.tip_leg_gap_m is None:
            return 0.0
        w, wt = tc.leg_width_m, tc.tip_leg_width_m
        y_body, y_t = tc.leg_gap_m / 2 + w / 2, tc.tip_leg_gap_m / 2 + wt / 2
        return max(abs((y_body + w / 2) - (y_t + wt / 2)), abs((y_body - w / 2) - (y_t - wt / 2)), 0.1 * w)

    @property
    def face_angle(self) -> float:
        """Angle between the tip faces and the body plane, rad (54.7° for a KOH mould).

        Solved by fixed point from core height h, base b and outer apex radius a with the
        conformal stack s: pyramid tanθ = h / (b/2 − a + s·tan(θ/2)); cone with a spherical
        cap of radius R = a − s tangent to its flank: tanθ = (h − R + R/cosθ) / (b/2)."""
        h, b2, a, s = self.tip.height_m, self.tip.base_m / 2, self.tip.apex_radius_m, self.stack_thickness
        theta = math.atan2(h, max(b2 - a, 1e-12))
        for _ in range(100):
            if self.tip.shape == "cone":
                r = max(a - s, 0.0)
                theta = math.atan2(h - r + r / max(math.cos(theta), 1e-3), max(b2, 1e-12))
            else:
                theta = math.atan2(h, max(b2 - a + s * math.tan(theta / 2), 1e-12))
        return theta

    def body_width_at(self, x_m: float) -> float:
        """Width (m) of a rectangular or tapered body at distance ``x_m`` from the root."""
        b = self.body
        if b.planform == "tapered" and b.end_width_m is not None:
            return b.width_m + (b.end_width_m - b.width_m) * x_m / b.length_m
        return b.width_m

    def fingerprint(self) -> str:
        """SHA-256 of the canonical (SI, sorted-key) design; names a design in results.  Fields that cannot
        change a result (emissivities without radiation) and fields absent from older versions are left out."""
        data = self.model_dump(mode="json")
        for key in ("resistor", "environment"):  # fields added later name no design that lacks them
            if data[key] is None:
                del data[key]
        radiates = self.environment is not None and self.environment.radiation
        for m in data["materials"].values():
            if not radiates:  # emissivities act only through [environment]: without it they name nothing
                del m["emissivity"]
            for key in (
                "resistivity_ohm_m",
                "tcr_per_K",
                "seebeck_uV_per_K",
                "seebeck_uncertainty_uV_per_K",
                "emissivity",
            ):
                if m.get(key, 0) is None:
                    del m[key]
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
