"""The probe in plan view: body, electrode and thermocouple legs as polygons (µm), before any CAD.

Every pattern of the probe is a set of convex polygons in the x–y plane that the CAD
extrudes: the body (and the full-width films on it), the electrode, and the Au and Cr
legs with their routing along the body and up the tip.  Polygons of one pattern may
overlap; their union is the pattern.  The root is the line x = 0, the free end x = L;
Au runs on the +y side, Cr on −y (mirror images).

* ``rectangular``: one band of ``width``; ``tapered``: one band from ``width`` to ``end_width``;
* ``v``: two arms (perpendicular width ``arm_width``), each making half of
  ``opening_angle_deg`` with the axis, meeting an end plate ``width`` × ``end_length``;
* the electrode is the body inset by a margin on its long edges (rectangular and tapered:
  ``(width − electrode.width)/2``; v: ``(arm_width − electrode.width)/2``, so on a v the
  electrode's width is the width on each arm);
* legs run ``leg_width`` wide along the body's centreline offset by ``leg_gap/2 + leg_width/2``
  (rectangular, tapered) or along each arm's centreline (v), then are routed to the tip: on to
  the face towards the root, narrowing to the stripe over a 45° taper that ends at the tip's
  foot (``back``), around the tip at full width to the side faces (``sides``), or into the two
  half-tip pads of the lumped ``shell`` model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from probe_fem.design.schema import Design

Polygon = np.ndarray  # (n, 2) vertices in µm, counter-clockwise, simple (not necessarily convex)


def band(x0: float, y0: float, x1: float, y1: float, w0: float, w1: float) -> Polygon:
    """Quadrilateral along the centreline (x0, y0) → (x1, y1) with vertical ends (x = x0, x = x1).

    ``w0``/``w1`` are the widths measured perpendicular to the centreline at either end."""
    c = math.cos(math.atan2(y1 - y0, x1 - x0))
    h0, h1 = w0 / (2 * c), w1 / (2 * c)
    return np.array([[x0, y0 - h0], [x1, y1 - h1], [x1, y1 + h1], [x0, y0 + h0]])


def strip(p0: tuple[float, float], p1: tuple[float, float], w: float, extend: float = 0.0) -> Polygon:
    """Rectangle of width ``w`` along p0 → p1 (ends perpendicular), lengthened by ``extend`` at both ends."""
    a, b = np.asarray(p0, float), np.asarray(p1, float)
    t = (b - a) / np.linalg.norm(b - a)
    n = np.array([-t[1], t[0]]) * w / 2
    a, b = a - extend * t, b + extend * t
    return np.array([a - n, b - n, b + n, a + n])


def ribbon(
    points: list[tuple[float, float]], widths: list[float], tail: tuple[tuple[float, float], float] | None = None
) -> Polygon:
    """One simple polygon along a polyline (``widths[i]`` for segment i) with mitred corners.

    The first end is cut vertically (x = const: a leg starts on the root line, whatever its
    direction), the last perpendicular to its segment.  ``tail = (point, width)`` adds a taper
    straight on from the last point to ``point``, where the ribbon is ``width`` wide.  One polygon
    per leg, not overlapping strips: overlaps and joint patches leave sliver faces that the mesher
    cannot recover."""
    p = np.asarray(points, float)
    t = np.diff(p, axis=0)
    t /= np.linalg.norm(t, axis=1)[:, None]
    n = np.column_stack([-t[:, 1], t[:, 0]])
    sides = []
    for sign in (1.0, -1.0):
        off = [p[i] + sign * widths[i] / 2 * n[i] for i in range(len(t))]  # a point on each offset line
        vs = [off[0] + t[0] * (p[0, 0] - off[0][0]) / t[0, 0]]  # on the vertical through the start
        for i in range(1, len(t)):
            cross = t[i - 1, 0] * t[i, 1] - t[i - 1, 1] * t[i, 0]
            if abs(cross) < 1e-12:
                vs.append(p[i] + sign * widths[i] / 2 * n[i])
                continue
            d = off[i] - off[i - 1]
            u = (d[0] * t[i, 1] - d[1] * t[i, 0]) / cross
            vs.append(off[i - 1] + u * t[i - 1])
        vs.append(p[-1] + sign * widths[-1] / 2 * n[-1])
        if tail is not None:
            vs.append(np.asarray(tail[0], float) + sign * tail[1] / 2 * n[-1])
        sides.append(vs)
    poly = np.array(sides[1] + sides[0][::-1])
    area = 0.5 * np.sum(poly[:, 0] * np.roll(poly[:, 1], -1) - np.roll(poly[:, 0], -1) * poly[:, 1])
    return poly if area > 0 else poly[::-1]


def mirror(polys: list[Polygon]) -> list[Polygon]:
    """The −y twin of +y polygons (Cr from Au), kept counter-clockwise."""
    return [(p * [1, -1])[::-1] for p in polys]


@dataclass(frozen=True)
class Plan:
    """Plan-view patterns of a design, µm."""

    body: list[Polygon]
    electrode: list[Polygon]
    leg_au: list[Polygon]  # on the body, in the thermocouple layer only
    leg_cr: list[Polygon]
    tip_au: list[Polygon]  # stripes (or pads) that climb the tip up to the junction
    tip_cr: list[Polygon]


def v_arms(d: Design, um: float) -> tuple[float, float, float]:
    """(x where the arms meet the plate, arm centreline y there, arm centreline y at the root), µm."""
    b = d.body
    assert b.arm_width_m is not None and b.end_length_m is not None and b.opening_angle_deg is not None
    L, W, wa = b.length_m * um, b.width_m * um, b.arm_width_m * um
    x_plate = L - b.end_length_m * um
    y_end = W / 2 - wa / 2 / math.cos(math.radians(b.opening_angle_deg / 2))
    y_root = y_end + x_plate * math.tan(math.radians(b.opening_angle_deg / 2))
    return x_plate, y_end, y_root


def body_and_electrode(d: Design, um: float) -> tuple[list[Polygon], list[Polygon]]:
    """Body and electrode polygons (µm) of the design's planform."""
    b = d.body
    assert d.electrode.width_m is not None
    L, W, We = b.length_m * um, b.width_m * um, d.electrode.width_m * um
    if b.planform == "rectangular":
        return [band(0, 0, L, 0, W, W)], [band(0, 0, L, 0, We, We)]
    if b.planform == "tapered":
        assert b.end_width_m is not None
        Wend, m2 = b.end_width_m * um, W - We
        return [band(0, 0, L, 0, W, Wend)], [band(0, 0, L, 0, We, Wend - m2)]
    assert b.arm_width_m is not None
    wa = b.arm_width_m * um
    x_plate, y_end, y_root = v_arms(d, um)
    cos = math.cos(math.radians(b.opening_angle_deg or 0.0) / 2)
    m2 = (wa - We) / cos  # the arm's electrode margins on the vertical cut where the arm meets the plate
    arm = band(0, y_root, x_plate, y_end, wa, wa)  # arms end face to face on the plate's root side
    arm_e = band(0, y_root, x_plate, y_end, We, We)
    body = [arm, *mirror([arm]), band(x_plate, 0, L, 0, W, W)]
    electrode = [arm_e, *mirror([arm_e]), band(x_plate, 0, L, 0, W - m2, W - m2)]
    return body, electrode


def _approach(d: Design, um: float, x_to: float, y_to: float) -> list[tuple[float, float]]:
    """Route of the Au leg from the root to (x_to, y_to): along the body (or the +y arm), then a 45° jog."""
    tc = d.thermocouple
    w, g = tc.leg_width_m * um, tc.leg_gap_m * um
    if d.body.planform == "v":
        x_plate, y_end, y_root = v_arms(d, um)
        return [(0.0, y_root), (x_plate, y_end), (x_to, y_to)]
    y_body = g / 2 + w / 2
    if abs(y_to - y_body) < 1e-9:
        return [(0.0, y_body), (x_to, y_to)]
    x_jog = x_to - abs(y_to - y_body) - w
    return [(0.0, y_body), (x_jog, y_body), (x_to, y_to)]


def au_leg(
    d: Design, um: float, x_tip: float, half_foot: float, s1_foot: float, stop: float
) -> tuple[list[Polygon], list[Polygon]]:
    """Plan of the Au leg (µm): its route on the body and its part on the tip; the Cr leg is its mirror image.

    The leg keeps ``leg_width`` up to the tip.  ``back``: it narrows over ``Design.leg_taper_length`` to the
    stripe, which starts half a leg width before the tip's footprint; ``sides``: it passes around the
    footprint at full width and turns up the side face as the stripe.  ``s1_foot`` is the half-width of
    the tip footprint covered by the thermocouple layer; tip stripes end ``stop`` short of the tip axis
    (inside the junction band, off the axis and the apex's pole)."""
    tc = d.thermocouple
    w, g = tc.leg_width_m * um, tc.leg_gap_m * um
    if tc.tip_legs == "shell":
        pad = s1_foot + w  # the lumped model's pad half-width: tip footprint plus a leg width
        x_pad = x_tip - pad
        pts = _approach(d, um, x_pad, g / 2 + w / 2)
        square = np.array([[x_pad, 0.0], [x_tip + pad, 0.0], [x_tip + pad, pad], [x_pad, pad]])
        return [ribbon(pts, [w] * (len(pts) - 1))], [square]
    assert tc.tip_leg_width_m is not None
    wt = tc.tip_leg_width_m * um
    if tc.tip_legs == "back":  # straight up the face towards the root, side by side
        assert tc.tip_leg_gap_m is not None
        y_t = tc.tip_leg_gap_m * um / 2 + wt / 2
        x_foot = x_tip - half_foot - w / 2
        x_taper = x_foot - d.leg_taper_length * um
        pts = [*_approach(d, um, x_taper - w, g / 2 + w / 2), (x_taper, g / 2 + w / 2)]
        route = ribbon(pts, [w] * (len(pts) - 1), tail=((x_foot, y_t), wt))
        return [route], [strip((x_foot, y_t), (x_tip - stop, y_t), wt)]
    # sides: past the tip footprint (a tenth of a leg width clear of it) to the +y face, then up it
    y_out = half_foot + 0.1 * w  # where the stripe starts
    y_run = y_out + w  # the run along the footprint (a leg width above, so the turn's inner corner stays clear)
    pts = [*_approach(d, um, x_tip - half_foot - w, y_run), (x_tip, y_run), (x_tip, y_out)]
    route = ribbon(pts, [w] * (len(pts) - 2) + [wt])
    return [route], [strip((x_tip, y_out), (x_tip, stop), wt)]


def plan(d: Design, x_tip: float, half_foot: float, s1_foot: float, stop: float) -> Plan:
    """All plan-view patterns of a design (µm), given the tip axis and the coated footprint's half-width."""
    um = 1e6
    body, electrode = body_and_electrode(d, um)
    au, tip = au_leg(d, um, x_tip, half_foot, s1_foot, stop)
    return Plan(body, electrode, au, mirror(au), tip, mirror(tip))
