"""The probe's CAD with the gmsh OCC kernel: nested conformal layers, one fragment, named pieces.

Each layer ``i`` (0 body/tip core, 1 thermocouple, 2 insulator, 3 electrode)
is the union of a flat slab on the body and a tip solid (truncated pyramid, or
cone with a spherical cap) offset by the cumulative film thickness ``s_i``
normal to the tip faces.  One ``occ.fragment`` of all layers and of the
thermocouple "tool" solids (legs, tip stripes, junction band) splits space into
pieces; a piece's region is decided by which inputs contain it (``out_map``),
never by guessing entity numbers: lowest layer wins, and on the thermocouple
layer the tools decide Au, Cr or insulator fill.

Every solid is bounded by planes, except the cone's revolved flank and cap: the
pyramid's faces are plane surfaces, not ruled B-splines, which keeps the
fragment ~15× faster (0.2 s instead of 3.7 s on the reference).

Volume groups: ``body``, ``tip``, ``tc_au``, ``tc_cr``, ``insulator``,
``electrode`` (the material regions) and ``tc_junction`` (subset of the
thermocouple metal).  Surface groups: ``root`` (heat sink, x = 0), ``apex``
(heat-source cap), ``tc_junction`` (junction/insulator interface).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gmsh
import numpy as np

from probe_fem.design.schema import Design
from probe_fem.errors import MeshError
from probe_fem.mesh import planform
from probe_fem.mesh.core import MICRON

occ = gmsh.model.occ

REGIONS = ("body", "tip", "tc_au", "tc_cr", "insulator", "electrode")


@dataclass(frozen=True)
class Layout:
    """Key coordinates of a design, in µm (the CAD unit)."""

    x_tip: float  # tip axis
    z0: float  # body top face
    z_apex: float  # outer apex cap
    z_junction: float  # top of the thermocouple metal on the tip
    z_stack: float  # top of the flat film stack on the body
    apex_half: float  # outer apex cap half-width (cone: radius of the cap's rim)
    apex_depth: float  # height of the apex cap (0 for the pyramid's flat cap)
    s: tuple[float, float, float, float]  # cumulative film thickness per layer

    @staticmethod
    def of(d: Design) -> Layout:
        um = 1 / MICRON
        th = d.face_angle
        s = (
            0.0,
            d.thermocouple.thickness_m * um,
            (d.thermocouple.thickness_m + d.insulator.thickness_m) * um,
            d.stack_thickness * um,
        )
        z0 = d.body.thickness_m * um
        z_apex = z0 + d.tip.height_m * um + s[3]
        return Layout(
            x_tip=(d.body.length_m - d.tip.setback_m - d.coated_half_foot) * um,
            z0=z0,
            z_apex=z_apex,
            z_junction=z_apex - d.thermocouple.junction_below_apex_m * um,
            z_stack=z0 + s[3],
            apex_half=d.tip.apex_radius_m * um * (math.sin(th) if d.tip.shape == "cone" else 1.0),
            apex_depth=d.tip.apex_radius_m * um * (1 - math.cos(th)) if d.tip.shape == "cone" else 0.0,
            s=s,
        )


@dataclass(frozen=True)
class Cad:
    """The fragmented CAD: gmsh tags of the named regions and surfaces, and of the features that bound sizes."""

    volumes: dict[str, list[int]]  # region (and tc_junction) -> volume tags
    surfaces: dict[str, list[int]]  # root, apex, tc_junction -> surface tags
    layout: Layout
    tip_films: list[int]  # film pieces on the tip (thermocouple layer, insulator, electrode)
    stripes: list[int]  # thermocouple stripes on the tip (and their feet on the body)


def _frustum(xc: float, z0: float, b_half: float, z1: float, a_half: float) -> int:
    """Truncated square pyramid between z0 (half-width b_half) and z1 (a_half), centred on (xc, 0),
    bounded by six plane surfaces."""
    quads = [
        [occ.addPoint(xc + sx * r, sy * r, z) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        for z, r in ((z0, b_half), (z1, a_half))
    ]
    bottom = [occ.addLine(quads[0][i], quads[0][(i + 1) % 4]) for i in range(4)]
    top = [occ.addLine(quads[1][i], quads[1][(i + 1) % 4]) for i in range(4)]
    rise = [occ.addLine(quads[0][i], quads[1][i]) for i in range(4)]
    faces = [occ.addPlaneSurface([occ.addCurveLoop(edges)]) for edges in (bottom, top)]
    for i in range(4):
        loop = occ.addCurveLoop([bottom[i], rise[(i + 1) % 4], -top[i], -rise[i]])
        faces.append(occ.addPlaneSurface([loop]))
    return occ.addVolume([occ.addSurfaceLoop(faces)])


def _sphere_cone(xc: float, z0: float, r_base: float, z_centre: float, radius: float, theta: float) -> int:
    """Cone standing on z0 (base radius r_base) whose flank (at θ to the base) is tangent to a spherical cap.

    A revolved profile (axis, base, flank, arc), not a boolean of a cone and a sphere: their
    tangent faces are what OCC's booleans handle worst."""
    z_t, r_t = z_centre + radius * math.cos(theta), radius * math.sin(theta)
    p = [
        occ.addPoint(xc, 0, z0),
        occ.addPoint(xc + r_base, 0, z0),
        occ.addPoint(xc + r_t, 0, z_t),
        occ.addPoint(xc, 0, z_centre + radius),
    ]
    centre = occ.addPoint(xc, 0, z_centre)
    curves = [
        occ.addLine(p[0], p[1]),
        occ.addLine(p[1], p[2]),
        occ.addCircleArc(p[2], centre, p[3]),
        occ.addLine(p[3], p[0]),
    ]
    surface = occ.addPlaneSurface([occ.addCurveLoop(curves)])
    out = occ.revolve([(2, surface)], xc, 0, 0, 0, 0, 1, 2 * math.pi)
    occ.rotate(out, xc, 0, 0, 0, 0, 1, math.pi / 4)  # its seam off the planes x = x_tip and y = 0 of the tools
    occ.remove([(0, centre)])
    vols = [tag for dim, tag in out if dim == 3]
    if len(vols) != 1:
        raise MeshError(f"the revolved cone did not give one solid ({len(vols)} pieces)")
    return vols[0]


def tip_layer(d: Design, lay: Layout, i: int) -> int:
    """Solid of tip layer ``i`` (0 core, 1 thermocouple, 2 insulator, 3 electrode): the core offset by s_i."""
    um = 1 / MICRON
    th = d.face_angle
    s = lay.s[i]
    b0, h, a0 = d.tip.base_m * um / 2, d.tip.height_m * um, d.core_apex_half_width * um
    if d.tip.shape == "cone":
        return _sphere_cone(lay.x_tip, lay.z0, b0 + s / math.sin(th), lay.z0 + h - a0, a0 + s, th)
    return _frustum(lay.x_tip, lay.z0, b0 + s / math.sin(th), lay.z0 + h + s, a0 + s * math.tan(th / 2))


def _prism(poly: np.ndarray, z0: float, dz: float) -> int:
    """Extrude a simple plan-view polygon (µm) from z0 by dz."""
    pts = [occ.addPoint(float(x), float(y), z0) for x, y in poly]
    lines = [occ.addLine(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts))]
    surf = occ.addPlaneSurface([occ.addCurveLoop(lines)])
    out = occ.extrude([(2, surf)], 0, 0, dz)
    return next(tag for dim, tag in out if dim == 3)


def _in_layer(tool: int, shell: list[tuple[int, int]]) -> int:
    """The part of ``tool`` inside ``shell`` (consumes ``tool``, keeps the shell)."""
    out, _ = occ.intersect([(3, tool)], shell, removeTool=False)
    vols = [tag for dim, tag in out if dim == 3]
    if len(vols) != 1:
        raise MeshError(f"a thermocouple pattern on the tip gave {len(vols)} pieces instead of one")
    return vols[0]


def _inputs(d: Design, lay: Layout) -> dict[str, int]:
    """Every input solid of the fragment, named ``kind#j`` (kind decides the region)."""
    um = 1 / MICRON
    th = d.face_angle
    s, tc = lay.s, d.thermocouple
    z_jb = lay.z_junction - tc.junction_length_m * um
    core_at_band = d.core_apex_half_width * um + (lay.z0 + d.tip.height_m * um - z_jb) / math.tan(th)
    pl = planform.plan(
        d, lay.x_tip, d.coated_half_foot * um, d.tip.base_m * um / 2 + s[1] / math.sin(th), core_at_band / 2
    )
    inputs: dict[str, int] = {}
    for j, poly in enumerate(pl.body):
        inputs[f"body#{j}"] = _prism(poly, 0, lay.z0)
        inputs[f"slab1#{j}"] = _prism(poly, lay.z0, s[1])
        inputs[f"slab2#{j}"] = _prism(poly, lay.z0, s[2])
    for j, poly in enumerate(pl.electrode):
        inputs[f"slab3#{j}"] = _prism(poly, lay.z0, s[3])
    for i in range(4):
        inputs[f"frustum{i}#"] = tip_layer(d, lay, i)
    # tip stripes and the junction band exist only in the thermocouple layer: intersected with its
    # shell on the tip, they cut nothing else (the core and outer films stay whole)
    shell, _ = occ.cut(occ.copy([(3, inputs["frustum1#"])]), occ.copy([(3, inputs["frustum0#"])]))
    for metal, legs, tips in (("au", pl.leg_au, pl.tip_au), ("cr", pl.leg_cr, pl.tip_cr)):
        for j, poly in enumerate(legs):
            inputs[f"leg_{metal}#{j}"] = _prism(poly, lay.z0, s[1])
        for j, poly in enumerate(tips):
            inputs[f"leg_{metal}#flat{j}"] = _prism(poly, lay.z0, s[1])
            inputs[f"leg_{metal}#tip{j}"] = _in_layer(_prism(poly, lay.z0, lay.z_junction - lay.z0), shell)
    # the band box just encloses the coated tip at the band's height
    reach = lay.apex_half + (lay.z_apex - z_jb) / math.tan(th) + s[3]
    for metal, y0 in (("au", 0.0), ("cr", -reach)):
        box = occ.addBox(lay.x_tip - reach, y0, z_jb, 2 * reach, reach, tc.junction_length_m * um)
        inputs[f"band_{metal}#"] = _in_layer(box, shell)
    occ.remove(shell, recursive=True)
    return inputs


def build_cad(d: Design) -> Cad:
    """Build and fragment the probe's solids in the current gmsh session (µm) and name the pieces."""
    lay = Layout.of(d)
    inputs = _inputs(d, lay)
    names = list(inputs)
    _, out_map = occ.fragment([(3, inputs[n]) for n in names], [])
    occ.synchronize()
    member: dict[int, set[str]] = {}
    for name, pieces in zip(names, out_map):
        for _dim, tag in pieces:
            member.setdefault(tag, set()).add(name)
    volumes: dict[str, list[int]] = {r: [] for r in (*REGIONS, "tc_junction")}
    tip_films, stripes = [], []
    for tag, m in sorted(member.items()):
        kinds = {n.partition("#")[0] for n in m}
        region = _classify(kinds)
        if region is None:
            continue  # tool space outside the probe
        volumes[region].append(tag)
        if region in ("tc_au", "tc_cr") and kinds & {"band_au", "band_cr"}:
            volumes["tc_junction"].append(tag)
        if region != "tip" and kinds & {"frustum1", "frustum2", "frustum3"} and not kinds & {"slab1", "slab2", "slab3"}:
            tip_films.append(tag)
        if region in ("tc_au", "tc_cr") and any("#tip" in n or "#flat" in n for n in m):
            stripes.append(tag)
    empty = [r for r, v in volumes.items() if not v]
    if empty:
        raise MeshError(f"geometry has no volume for region(s) {empty}; check the design's dimensions")
    return Cad(volumes, _surfaces(volumes, lay), lay, tip_films, stripes)


def _classify(m: set[str]) -> str | None:
    """Region of a fragment piece from the set of input kinds that contain it."""
    if "body" in m:
        return "body"
    if "frustum0" in m:
        return "tip"
    if m & {"slab1", "frustum1"}:
        for tool, region in (("band_au", "tc_au"), ("band_cr", "tc_cr"), ("leg_au", "tc_au"), ("leg_cr", "tc_cr")):
            if tool in m:
                return region
        return "insulator"
    if m & {"slab2", "frustum2"}:
        return "insulator"
    if m & {"slab3", "frustum3"}:
        return "electrode"
    return None


def _surfaces(volumes: dict[str, list[int]], lay: Layout) -> dict[str, list[int]]:
    e = 1e-6
    root = [t for _, t in gmsh.model.getEntitiesInBoundingBox(-e, -1e6, -e, e, 1e6, lay.z_apex + e, 2)]
    a = lay.apex_half
    apex = [
        t
        for _, t in gmsh.model.getEntitiesInBoundingBox(
            lay.x_tip - a - e, -a - e, lay.z_apex - lay.apex_depth - e, lay.x_tip + a + e, a + e, lay.z_apex + e, 2
        )
    ]

    def faces(tags: list[int]) -> set[int]:
        return {abs(t) for _, t in gmsh.model.getBoundary([(3, v) for v in tags], combined=False, oriented=False)}

    junction = sorted(faces(volumes["tc_junction"]) & faces(volumes["insulator"]))
    if not root or len(apex) != 1 or not junction:
        raise MeshError(f"could not identify named surfaces (root {root}, apex {apex}, junction {junction})")
    return {"root": root, "apex": apex, "tc_junction": junction}
