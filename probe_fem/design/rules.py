"""The design's rules across fields: physical minimums, materials, films, planform, tip, legs and their route.

:func:`problems` lists every rule a validated set of fields breaks, each once, in the user's keys and
units when ``given`` (from :func:`probe_fem.units.to_si`) says what they wrote.  ``Design`` runs it as
its model validator, so every ``Design`` — loaded, built in code or derived with
:meth:`~probe_fem.design.schema.Design.with_values` — obeys the rules; nothing meshes a design that breaks one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from probe_fem.design.messages import _shown, _user_field
from probe_fem.design.schema import ORIGINS

if TYPE_CHECKING:
    from probe_fem.design.schema import Design


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


# Physical lower bounds (SI): below them the CAD kernel, the mesher or the eigen solver fail, or the value
# is not a probe's. The schema only requires > 0; these are checked with the design's other consistency
# rules, so every problem of a file is reported together, in the user's units.
PHYSICAL_MIN: dict[tuple[str, str], float] = {
    ("body", "length_m"): 1e-6,
    ("body", "width_m"): 1e-7,
    ("body", "thickness_m"): 1e-8,
    ("tip", "height_m"): 1e-7,
    ("tip", "base_m"): 1e-7,
    ("tip", "apex_radius_m"): 1e-9,
    ("thermocouple", "thickness_m"): 1e-9,
    ("thermocouple", "leg_width_m"): 1e-8,
    ("thermocouple", "leg_gap_m"): 1e-9,
    ("thermocouple", "junction_length_m"): 1e-9,
    ("insulator", "thickness_m"): 1e-9,
    ("electrode", "thickness_m"): 1e-9,
    ("electrode", "width_m"): 1e-8,
    ("mesh", "size_apex_m"): 1e-9,
    ("mesh", "size_tc_m"): 1e-9,
    ("mesh", "size_far_m"): 1e-8,
}
MATERIAL_MIN = {"k_W_mK": (1e-3, "W/(m·K)"), "rho_kg_m3": (1.0, "kg/m³"), "cp_J_kgK": (1.0, "J/(kg·K)")}
OTHER_MIN = {("source", "power_W"): (1e-15, "W"), ("sink", "temperature_K"): (1.0, "K"), ("mesh", "growth"): (0.01, "")}


def _check_minimum(c: _Check, d: Design) -> None:
    for loc, lo in PHYSICAL_MIN.items():
        value = getattr(getattr(d, loc[0]), loc[1], None)
        if value is not None and value < lo:
            c.fail(loc, "below the physical minimum", lo)
    for (section, field), (lo, unit) in OTHER_MIN.items():
        value = getattr(getattr(d, section), field, None)
        if value is not None and value < lo:
            c.messages.append(f"{section}.{field} = {value!r}: below the physical minimum {lo:g} {unit}".rstrip())
    for name, m in d.materials.items():
        for field, (lo, unit) in MATERIAL_MIN.items():
            if getattr(m, field) < lo:
                c.messages.append(
                    f"materials.{name}.{field} = {getattr(m, field)!r}: below the physical minimum {lo:g} {unit}"
                )


def problems(d: Design, given: dict | None = None) -> list[str]:
    """Every rule that involves more than one field, each problem once, in the user's keys and units.

    Rules that do not depend on one another all run, so a file with several problems gets them all;
    only the tip's geometry (angles, apex, junction, footprint) waits for sane sizes and complete
    planform and tip-leg keys, as it is computed from them."""
    c = _Check(d, given or {}, [])
    _check_minimum(c, d)
    sane = not c.messages  # below a physical minimum, the geometry below could divide by ~0
    _check_materials(c, d)
    _check_films(c, d)
    keys = _check_planform(c, d) & _check_tip_legs_keys(c, d)
    _check_measured_and_mesh(c, d)
    _check_seebeck(c, d)
    _check_provenance(c, d)
    _check_emissivities(c, d)
    if sane and keys:
        _check_geometry(c, d)
    return c.messages


def used_materials(d: Design) -> list[str]:
    """Names of the materials the probe's regions are made of (body, tip, sensor, films), each once."""
    names = [d.body.material, d.tip.material, d.thermocouple.au_material, d.thermocouple.cr_material]
    if d.resistor is not None:
        names += [d.resistor.material, d.resistor.lead_material]
    names += [d.insulator.material, d.electrode.material]
    return list(dict.fromkeys(n for n in names if n is not None))


def _check_emissivities(c: _Check, d: Design) -> None:
    """Radiation in [environment] needs the emissivity of every material the probe is made of."""
    if d.environment is None or not d.environment.radiation:
        return
    for name in used_materials(d):
        if name in d.materials and d.materials[name].emissivity is None:
            c.messages.append(
                f"materials.{name}.emissivity: missing; [environment] with radiation = true needs the emissivity "
                "(0–1) of every material the probe is made of (thin Au 0.02–0.05, SiN 0.1–0.6), or radiation = false"
            )


def _check_sample_tilt(c: _Check, d: Design, half_foot: float) -> None:
    """A sample touches the apex first: the tilt must stay below the angle under which the body's free end
    sees the apex (tilted further, the end comes lower than the apex).  The tip's flank towards the free
    end would touch only beyond the face angle, which is never below this one: the end lies beyond the
    flank's foot."""
    env = d.environment
    if env is None or env.sample is None:
        return
    limit = math.degrees(math.atan2(d.tip.height_m, d.tip.setback_m + half_foot))
    if env.sample.tilt_deg >= limit:
        c.messages.append(
            f"environment.sample.tilt_deg = {env.sample.tilt_deg!r}: the body's free end would touch the sample "
            f"before the apex; allowed [0, {limit:.3g})°"
        )


def _check_materials(c: _Check, d: Design) -> None:
    known = sorted(d.materials)
    for loc in [
        ("body", "material"),
        ("tip", "material"),
        *_sensor_materials(c, d),
        ("insulator", "material"),
        ("electrode", "material"),
    ]:
        name = getattr(getattr(d, loc[0]), loc[1])
        if name not in d.materials:
            c.fail(loc, f"unknown material (known: {', '.join(known) or 'none'})")
    if d.resistor is not None:
        _check_conductors(c, d)


def _sensor_materials(c: _Check, d: Design) -> list[tuple[str, str]]:
    """The sensor's material fields: Au and Cr legs of a thermocouple, or a resistor's film and leads."""
    tc_keys = [("thermocouple", "au_material"), ("thermocouple", "cr_material")]
    if d.resistor is None:
        missing = [loc for loc in tc_keys if getattr(d.thermocouple, loc[1]) is None]
        for loc in missing:
            c.messages.append(f"{'.'.join(loc)}: missing required field (or a [resistor] table for a resistive probe)")
        return [loc for loc in tc_keys if loc not in missing]
    for loc in tc_keys:
        if getattr(d.thermocouple, loc[1]) is not None:
            c.fail(loc, "a resistive probe's legs are its leads: give resistor.lead_material instead")
    return [("resistor", "material"), ("resistor", "lead_material")]


def _check_conductors(c: _Check, d: Design) -> None:
    """A resistor's film and leads carry current: their materials need a resistivity and a TCR."""
    assert d.resistor is not None
    for key in ("material", "lead_material"):
        name = getattr(d.resistor, key)
        m = d.materials.get(name)
        for field in ("resistivity_ohm_m", "tcr_per_K"):
            if m is not None and getattr(m, field) is None:
                c.messages.append(f"materials.{name}.{field}: missing (resistor.{key} carries the sensing current)")
    m = d.materials.get(d.resistor.material)
    if m is not None and m.tcr_per_K == 0:
        c.messages.append(f"materials.{d.resistor.material}.tcr_per_K = 0: a resistor thermometer needs a TCR ≠ 0")


def _check_films(c: _Check, d: Design) -> None:
    """Films thinner than the body they coat and than half the tip; electrode width given, insulator's not."""
    t_b = d.body.thickness_m
    for sec in ("thermocouple", "insulator", "electrode"):
        if getattr(d, sec).thickness_m >= t_b:
            c.fail((sec, "thickness_m"), "a film must be thinner than the body it coats: must be <", t_b)
    if d.stack_thickness >= d.tip.height_m / 2:
        c.fail(
            ("tip", "height_m"),
            "the film stack would bury the tip: must be > 2 × stack thickness =",
            2 * d.stack_thickness,
        )
    if d.electrode.width_m is None:
        c.messages.append("electrode.width_um: missing required field (electrode coverage of the body width)")
    if d.insulator.width_m is not None:
        c.fail(("insulator", "width_m"), "the insulating film always covers the full body width; remove this key")


def _check_geometry(c: _Check, d: Design) -> None:
    """The tip: its shape, face angle and apex, the junction on it, its footprint on the body."""
    n = len(c.messages)
    _check_tip_shape(c, d)
    if len(c.messages) > n:  # the angles below are computed from the tip's shape
        return
    theta = d.face_angle
    if not math.radians(20) <= theta <= math.radians(85):
        c.fail(
            ("tip", "base_m"),
            f"tip faces at {math.degrees(theta):.1f}° to the body; allowed 20°–85° "
            "(a KOH-etched mould gives 54.7°, base ≈ 1.41 × height)",
        )
    a_min = d.stack_thickness * math.tan(theta / 2)
    if d.core_apex_half_width <= 0:
        c.fail(("tip", "apex_radius_m"), "a conformally coated apex cannot be sharper than its films: must be >", a_min)
    elif d.core_apex_half_width >= d.tip.base_m / 2:
        c.fail(("tip", "apex_radius_m"), "apex wider than the tip base: must be <", d.tip.base_m / 2 + a_min)
    _check_junction(c, d)
    half_foot = d.tip.base_m / 2 + d.stack_thickness / math.sin(theta)
    if 2 * half_foot > d.body.width_m:
        c.fail(
            ("tip", "base_m"),
            "coated tip footprint wider than the body: must be <=",
            d.body.width_m - 2 * d.stack_thickness / math.sin(theta),
        )
    if d.tip.setback_m + 2 * half_foot >= d.body.length_m:
        c.fail(("body", "length_m"), "the body must hold the coated tip: must be >", d.tip.setback_m + 2 * half_foot)
    _check_on_tip(c, d, half_foot)
    _check_sample_tilt(c, d, half_foot)


def _check_junction(c: _Check, d: Design) -> None:
    j_lo = d.insulator.thickness_m + d.electrode.thickness_m
    j_hi = d.tip.height_m - d.thermocouple.junction_length_m
    j = d.thermocouple.junction_below_apex_m
    if j <= j_lo:
        where = "above the apex" if j <= 0 else "inside the films that cover it"
        c.fail(("thermocouple", "junction_below_apex_m"), f"thermocouple junction would lie {where}: must be >", j_lo)
    elif j >= j_hi:
        c.fail(
            ("thermocouple", "junction_below_apex_m"), "junction (with its length) must lie on the tip: must be <", j_hi
        )
    else:
        _check_stripes_reach_band(c, d)


def _check_stripes_reach_band(c: _Check, d: Design) -> None:
    """``back`` stripes climb one face side by side: they reach the band only where the tip is wider than their gap."""
    tc = d.thermocouple
    if tc.tip_legs == "back" and tc.tip_leg_gap_m is not None:
        reach = 2 * d.core_half_width(tc.junction_below_apex_m + tc.junction_length_m - d.stack_thickness)
        if tc.tip_leg_gap_m >= reach:
            c.fail(
                ("thermocouple", "tip_leg_gap_m"),
                "the two stripes must reach the junction band (the tip is narrower than their gap there): must be <",
                reach,
            )


def _check_measured_and_mesh(c: _Check, d: Design) -> None:
    if (d.measured.R_P_K_per_W is None) != (d.measured.R_P_uncertainty_K_per_W is None):
        c.messages.append("measured: give R_P_K_per_W and R_P_uncertainty_K_per_W together, or neither")
    m = d.mesh
    if m is not None and m.size_apex_m > 2 * d.tip.apex_radius_m:
        c.fail(
            ("mesh", "size_apex_m"), "must resolve the apex cap: must be <= 2 × apex radius =", 2 * d.tip.apex_radius_m
        )
    if m is not None and not m.size_apex_m <= m.size_far_m:
        c.fail(("mesh", "size_far_m"), "far-field size must be >= size at the apex:", m.size_apex_m)
    if m is not None and not m.size_tc_m <= m.size_far_m:
        c.fail(("mesh", "size_tc_m"), "thermocouple size must be <= far-field size:", m.size_far_m)


def _check_seebeck(c: _Check, d: Design) -> None:
    """S_TC is known: measured, or from both legs' Seebeck coefficients (each with its uncertainty)."""
    m = d.measured
    if (m.S_TC_uV_per_K is None) != (m.S_TC_uncertainty_uV_per_K is None):
        c.messages.append("measured: give S_TC_uV_per_K and S_TC_uncertainty_uV_per_K together, or neither")
    for name, mat in d.materials.items():
        if (mat.seebeck_uV_per_K is None) != (mat.seebeck_uncertainty_uV_per_K is None):
            c.messages.append(
                f"materials.{name}: give seebeck_uV_per_K and seebeck_uncertainty_uV_per_K together, or neither"
            )
    if d.resistor is not None:
        if m.S_TC_uV_per_K is not None:
            c.messages.append("measured.S_TC_uV_per_K: a resistive probe has no thermocouple; leave it out")
        return
    legs = [d.materials.get(n or "") for n in (d.thermocouple.au_material, d.thermocouple.cr_material)]
    if m.S_TC_uV_per_K is not None or any(x is None for x in legs):
        return  # measured, or an unknown leg material (reported as such)
    au, cr = (x.seebeck_uV_per_K for x in legs if x is not None)
    names = f"materials.{d.thermocouple.au_material} and materials.{d.thermocouple.cr_material}"
    if au is None or cr is None:
        c.messages.append(
            f"measured.S_TC_uV_per_K: missing, and {names} do not both give seebeck_uV_per_K: the "
            "thermocouple's S_TC is unknown (give a measured S_TC or the films' Seebeck coefficients)"
        )
    elif abs(cr - au) < 0.1:
        c.messages.append(
            f"{names}: Seebeck coefficients {au:g} and {cr:g} uV/K differ by < 0.1 uV/K: the legs make no thermocouple"
        )


def _check_provenance(c: _Check, d: Design) -> None:
    for key in d.provenance:
        obj: Any = d.model_dump()
        head = key.split(".")
        for part in head:
            obj = obj.get(part) if isinstance(obj, dict) else None
        stem_ok = obj is not None or _provenance_key_with_unit(d, head)
        if not stem_ok:
            c.messages.append(f"provenance.{key}: names no field of the design")
        if d.provenance[key].split(":")[0].strip() not in ORIGINS:
            c.messages.append(
                f"provenance.{key} = {d.provenance[key]!r}: must start with one of {', '.join(ORIGINS)} followed by ':'"
            )


PLANFORM_KEYS = {
    "rectangular": (),
    "tapered": ("end_width_m",),
    "v": ("arm_width_m", "opening_angle_deg", "end_length_m"),
}


def _check_planform(c: _Check, d: Design) -> bool:
    """Keys of the planform present (and no others), arms apart, films and legs within the body or arm.

    Returns whether the planform's keys are complete (the tip's geometry needs them)."""
    b, tc, e = d.body, d.thermocouple, d.electrode
    n = len(c.messages)
    for planform, keys in PLANFORM_KEYS.items():
        for key in keys:
            given = getattr(b, key) is not None
            if planform == b.planform and not given:
                c.messages.append(f"body.{_shown(key)}: missing: required by planform = {planform!r}")
            elif planform != b.planform and given:
                c.fail(("body", key), f"only used by planform = {planform!r} (this body is {b.planform!r}); remove it")
    if len(c.messages) > n:
        return False
    legs = 2 * tc.leg_width_m + tc.leg_gap_m
    if b.planform == "v":
        assert b.arm_width_m is not None and b.opening_angle_deg is not None and b.end_length_m is not None
        need = 2 * b.arm_width_m / math.cos(math.radians(b.opening_angle_deg / 2))
        if b.width_m <= need:
            c.fail(
                ("body", "width_m"),
                "the two arms overlap at the end plate: must be > 2 × arm width / cos(opening/2) =",
                need,
            )
        if b.end_length_m >= b.length_m:
            c.fail(("body", "end_length_m"), "the end plate must be shorter than the body: must be <", b.length_m)
        if tc.leg_width_m > b.arm_width_m:
            c.fail(("thermocouple", "leg_width_m"), "a leg wider than the arm it runs on: must be <=", b.arm_width_m)
        if e.width_m is not None and e.width_m > b.arm_width_m:
            c.fail(("electrode", "width_m"), "on a v body this is the width on each arm: must be <=", b.arm_width_m)
        return True
    narrow = b.width_m if b.end_width_m is None else min(b.width_m, b.end_width_m)
    if e.width_m is not None and e.width_m > b.width_m:
        c.fail(("electrode", "width_m"), "electrode wider than the body: must be <=", b.width_m)
    elif e.width_m is not None and b.end_width_m is not None and b.end_width_m - (b.width_m - e.width_m) <= 0:
        c.fail(
            ("body", "end_width_m"),
            "the electrode (inset by (width − electrode width)/2) would vanish at the free end: must be >",
            b.width_m - e.width_m,
        )
    if legs > narrow:
        c.fail(
            ("thermocouple", "leg_width_m"),
            "two legs and their gap must fit on the body: must be <=",
            (narrow - tc.leg_gap_m) / 2,
        )
    return True


def _check_tip_legs_keys(c: _Check, d: Design) -> bool:
    """The stripe keys that ``tip_legs`` needs are given, the others not; returns whether they are complete."""
    tc = d.thermocouple
    n = len(c.messages)
    need = {"back": ("tip_leg_width_m", "tip_leg_gap_m"), "sides": ("tip_leg_width_m",), "shell": ()}[tc.tip_legs]
    for key in ("tip_leg_width_m", "tip_leg_gap_m"):
        given = getattr(tc, key) is not None
        if key in need and not given:
            c.messages.append(f"thermocouple.{_shown(key)}: missing: required by tip_legs = {tc.tip_legs!r}")
        elif key not in need and given:
            c.fail(("thermocouple", key), f"not used by tip_legs = {tc.tip_legs!r}; remove it")
    return len(c.messages) == n


def _check_tip_shape(c: _Check, d: Design) -> None:
    """A cone's spherical cap: larger than the films on it, inside the tip, above the junction."""
    if d.tip.shape != "cone":
        return
    s = d.stack_thickness
    if d.tip.apex_radius_m <= s:
        c.fail(
            ("tip", "apex_radius_m"), "a cone's spherical cap must be larger than the film stack on it: must be >", s
        )
        return
    r0 = d.tip.apex_radius_m - s
    if d.tip.height_m <= 2 * r0 + s:
        c.fail(("tip", "height_m"), "the cone's apex sphere would reach below the tip: must be >", 2 * r0 + s)
        return
    cap = d.tip.apex_radius_m * (1 - math.cos(d.face_angle))
    if d.thermocouple.junction_below_apex_m <= cap:
        c.fail(
            ("thermocouple", "junction_below_apex_m"), "the junction must lie below the cone's apex cap: must be >", cap
        )


def _check_on_tip(c: _Check, d: Design, half_foot: float) -> None:
    """Stripes that fit on the tip, a tip that fits on the body at its position."""
    tc, b = d.thermocouple, d.body
    if tc.tip_legs == "back":
        assert tc.tip_leg_width_m is not None and tc.tip_leg_gap_m is not None
        if 2 * tc.tip_leg_width_m + tc.tip_leg_gap_m > 2 * half_foot:
            c.fail(
                ("thermocouple", "tip_leg_width_m"),
                "two stripes and their gap must fit on the tip's face: must be <=",
                (2 * half_foot - tc.tip_leg_gap_m) / 2,
            )
    elif tc.tip_legs == "sides" and tc.tip_leg_width_m is not None and tc.tip_leg_width_m > 2 * half_foot:
        c.fail(("thermocouple", "tip_leg_width_m"), "a stripe wider than the tip's face: must be <=", 2 * half_foot)
    _check_route(c, d, half_foot)
    if b.planform == "v":
        assert b.end_length_m is not None
        if d.tip.setback_m + 2 * half_foot > b.end_length_m:
            c.fail(
                ("body", "end_length_m"),
                "the end plate must hold the coated tip: must be >=",
                d.tip.setback_m + 2 * half_foot,
            )
    # the tip, with legs that pass around it on "sides", must fit on the body where it stands
    need = 2 * half_foot + 3.2 * tc.leg_width_m * (tc.tip_legs == "sides")  # planform.au_leg's run past the tip
    x_far = b.length_m - d.tip.setback_m
    local = min(d.body_width_at(x_far), d.body_width_at(x_far - 2 * half_foot))
    if need > local:
        key = "end_width_m" if b.planform == "tapered" else "width_m"
        legs = " with the legs around it" if tc.tip_legs == "sides" else ""
        c.fail(("body", key), f"the coated tip{legs} is wider than the body where it stands: needs", need)


def _check_route(c: _Check, d: Design, half_foot: float) -> None:
    """The legs' route to the tip runs forward (towards the tip) from the root, or from a v's end plate: the
    body (the plate) must hold the tip and what the route does in front of it."""
    tc, b, w = d.thermocouple, d.body, d.thermocouple.leg_width_m
    v = b.planform == "v"
    if tc.tip_legs == "back":  # a leg width of straight run, the 45° taper, half a leg width to the footprint
        need, what = 1.5 * w + d.leg_taper_length, "the legs' taper to the stripes (45° edges)"
    elif tc.tip_legs == "sides":  # a leg width in front of the footprint, and off a v's arm a leg width of jog
        y_body = tc.leg_gap_m / 2 + w / 2
        need = 2 * w if v else 2.5 * w + abs(half_foot + 1.1 * w - y_body)
        what = "the legs' turn around the tip (with its 45° jog)"
    else:
        need, what = 1.5 * w, "the legs' run to the tip's pads"
    need += d.tip.setback_m + 2 * half_foot
    room = b.end_length_m if v else b.length_m
    if room is not None and room <= need:
        key = ("body", "end_length_m") if v else ("body", "length_m")
        c.fail(key, f"must hold the coated tip and {what}: must be >", need)


def _provenance_key_with_unit(d: Design, parts: list[str]) -> bool:
    """Provenance keys may name a length with its unit suffix, as written in the file."""
    from probe_fem.units import split_unit

    parsed = split_unit(parts[-1])
    if parsed is None:
        return False
    obj: Any = d.model_dump()
    for part in [*parts[:-1], parsed[0] + "_m"]:
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj is not None
