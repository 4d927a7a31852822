"""Probe geometry with the gmsh OCC kernel: nested conformal layers, named groups, size fields.

Each layer ``i`` (0 body/tip core, 1 thermocouple, 2 insulator, 3 electrode)
is the union of a flat slab on the body and a truncated pyramid offset by the
cumulative film thickness ``s_i`` normal to the tip faces.  One
``occ.fragment`` of all layers and of the thermocouple "tool" boxes (legs, tip
pads, junction band) splits space into pieces; a piece's region is decided by
which inputs contain it (``out_map``), never by guessing entity numbers:
lowest layer wins, and on the thermocouple layer the tools decide Au, Cr or
insulator fill.

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
from probe_fem.mesh import planform, sizing
from probe_fem.mesh.core import MICRON, Mesh, extract, generate, gmsh_session

occ = gmsh.model.occ

REGIONS = ("body", "tip", "tc_au", "tc_cr", "insulator", "electrode")


def region_materials(d: Design) -> dict[str, str]:
    """Material name of each volume region."""
    return {
        "body": d.body.material,
        "tip": d.tip.material,
        "tc_au": d.thermocouple.au_material,
        "tc_cr": d.thermocouple.cr_material,
        "insulator": d.insulator.material,
        "electrode": d.electrode.material,
    }


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
        half_foot = d.tip.base_m * um / 2 + s[3] / math.sin(th)
        z0 = d.body.thickness_m * um
        z_apex = z0 + d.tip.height_m * um + s[3]
        return Layout(
            x_tip=d.body.length_m * um - d.tip.setback_m * um - half_foot,
            z0=z0,
            z_apex=z_apex,
            z_junction=z_apex - d.thermocouple.junction_below_apex_m * um,
            z_stack=z0 + s[3],
            apex_half=d.tip.apex_radius_m * um * (math.sin(th) if d.tip.shape == "cone" else 1.0),
            apex_depth=d.tip.apex_radius_m * um * (1 - math.cos(th)) if d.tip.shape == "cone" else 0.0,
            s=s,
        )


def _frustum(xc: float, z0: float, b_half: float, z1: float, a_half: float) -> int:
    """Truncated square pyramid between z0 (half-width b_half) and z1 (a_half), centred on (xc, 0)."""
    loops = []
    for z, r in ((z0, b_half), (z1, a_half)):
        pts = [occ.addPoint(xc + sx * r, sy * r, z) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        lines = [occ.addLine(pts[i], pts[(i + 1) % 4]) for i in range(4)]
        loops.append(occ.addCurveLoop(lines))
    out = occ.addThruSections(loops, makeSolid=True, makeRuled=True)
    return [tag for dim, tag in out if dim == 3][0]


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
    return [tag for dim, tag in out if dim == 3][0]


def _in_layer(tool: int, shell: list[tuple[int, int]]) -> int:
    """The part of ``tool`` inside ``shell`` (consumes ``tool``, keeps the shell)."""
    out, _ = occ.intersect([(3, tool)], shell, removeTool=False)
    vols = [tag for dim, tag in out if dim == 3]
    if len(vols) != 1:
        raise MeshError(f"a thermocouple pattern on the tip gave {len(vols)} pieces instead of one")
    return vols[0]


def _build_cad(d: Design) -> tuple[dict[str, list[int]], dict[str, list[int]], Layout]:
    um = 1 / MICRON
    lay = Layout.of(d)
    th = d.face_angle
    b0 = d.tip.base_m * um / 2
    s = lay.s
    half_foot = b0 + s[3] / math.sin(th)
    tc = d.thermocouple
    z_jb = lay.z_junction - tc.junction_length_m * um
    core_at_band = d.core_apex_half_width * um + (lay.z0 + d.tip.height_m * um - z_jb) / math.tan(th)
    pl = planform.plan(d, lay.x_tip, half_foot, b0 + s[1] / math.sin(th), core_at_band / 2)

    inputs: dict[str, int] = {}
    for j, poly in enumerate(pl.body):
        inputs[f"body#{j}"] = _prism(poly, 0, lay.z0)
        inputs[f"slab1#{j}"] = _prism(poly, lay.z0, s[1])
        inputs[f"slab2#{j}"] = _prism(poly, lay.z0, s[2])
    for j, poly in enumerate(pl.electrode):
        inputs[f"slab3#{j}"] = _prism(poly, lay.z0, s[3])
    for i in range(4):
        inputs[f"frustum{i}"] = tip_layer(d, lay, i)
    # tip stripes and the junction band exist only in the thermocouple layer: intersected with its
    # shell on the tip, they cut nothing else (the core and outer films stay whole)
    top = lay.z_junction - lay.z0
    shell, _ = occ.cut(occ.copy([(3, inputs["frustum1"])]), occ.copy([(3, inputs["frustum0"])]))
    for metal, legs, tips in (("au", pl.leg_au, pl.tip_au), ("cr", pl.leg_cr, pl.tip_cr)):
        for j, poly in enumerate(legs):
            inputs[f"leg_{metal}#{j}"] = _prism(poly, lay.z0, s[1])
        for j, poly in enumerate(tips):
            inputs[f"leg_{metal}#flat{j}"] = _prism(poly, lay.z0, s[1])
            inputs[f"leg_{metal}#tip{j}"] = _in_layer(_prism(poly, lay.z0, top), shell)
    # the band box just encloses the coated tip at the band's height
    reach = lay.apex_half + (lay.z_apex - z_jb) / math.tan(th) + s[3]
    band = tc.junction_length_m * um
    for metal, y0 in (("au", 0.0), ("cr", -reach)):
        box = occ.addBox(lay.x_tip - reach, y0, z_jb, 2 * reach, reach, band)
        inputs[f"band_{metal}"] = _in_layer(box, shell)
    occ.remove(shell, recursive=True)
    names = list(inputs)
    _, out_map = occ.fragment([(3, inputs[n]) for n in names], [])
    occ.synchronize()

    member: dict[int, set[str]] = {}
    for name, pieces in zip(names, out_map):
        for _dim, tag in pieces:
            member.setdefault(tag, set()).add(name.partition("#")[0])
    volumes: dict[str, list[int]] = {r: [] for r in REGIONS + ("tc_junction",)}
    for tag, m in sorted(member.items()):
        region = _classify(m)
        if region is None:
            continue  # tool space outside the probe
        volumes[region].append(tag)
        if region in ("tc_au", "tc_cr") and m & {"band_au", "band_cr"}:
            volumes["tc_junction"].append(tag)
    empty = [r for r, v in volumes.items() if not v]
    if empty:
        raise MeshError(f"geometry has no volume for region(s) {empty}; check the design's dimensions")
    surfaces = _surfaces(volumes, lay)
    return volumes, surfaces, lay


def _classify(m: set[str]) -> str | None:
    """Region of a fragment piece from the set of inputs that contain it."""
    if "body" in m:
        return "body"
    if "frustum0" in m:
        return "tip"
    if m & {"slab1", "frustum1"}:
        if "band_au" in m:
            return "tc_au"
        if "band_cr" in m:
            return "tc_cr"
        if "leg_au" in m:
            return "tc_au"
        if "leg_cr" in m:
            return "tc_cr"
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


@dataclass(frozen=True)
class ProbeMesh:
    """The meshed probe: mesh in metres plus the layout used to build it."""

    mesh: Mesh
    layout: Layout
    materials: dict[str, str]  # region -> material name
    attempt: int = 0  # 0, or the retry (sizes ×RETRY_FACTOR^attempt) that gave a sound mesh


GEOMETRY_VERSION = "3"  # bump when the CAD or meshing recipe changes: invalidates cached meshes


def geometry_key(d: Design, refine: float) -> str:
    """Fingerprint of everything the mesh depends on (not materials, source, measured values)."""
    import hashlib
    import json

    parts = {k: d.model_dump(mode="json")[k] for k in ("body", "tip", "thermocouple", "insulator", "electrode")}
    parts["mesh"] = sizing.mesh_settings(d).model_dump(mode="json")
    for sec in ("body", "tip", "thermocouple", "insulator", "electrode"):
        parts[sec] = {k: v for k, v in parts[sec].items() if not k.endswith("material")}
    blob = json.dumps(
        {"design": parts, "refine": refine, "gmsh": gmsh.__version__, "recipe": GEOMETRY_VERSION}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def build_mesh(
    d: Design,
    refine: float = 1.0,
    vtk: str | None = None,
    cache: str | None = None,
    background: sizing.Background | None = None,
) -> ProbeMesh:
    """Build and mesh the probe of a validated design.

    ``refine`` divides every target size (2 = one uniform refinement step).
    Deterministic: the same design and ``refine`` give a bit-identical mesh.  With ``cache``
    (a folder), a mesh is stored under :func:`geometry_key` and reused: a re-run, or a study
    point that changes only materials, does not re-mesh.
    """
    if cache and not vtk and background is None:
        from probe_fem.mesh.cache import load_cached, store_cached

        key = geometry_key(d, refine)
        hit = load_cached(cache, key)
        if hit is not None:
            return ProbeMesh(mesh=hit, layout=Layout.of(d), materials=region_materials(d))
        pm = build_mesh(d, refine)
        store_cached(cache, key, pm.mesh)
        return pm
    with gmsh_session(seed=sizing.mesh_settings(d).seed):
        volumes, surfaces, lay = _build_cad(d)
        for name, tags in volumes.items():
            gmsh.model.addPhysicalGroup(3, tags, name=name)
        for name, tags in surfaces.items():
            gmsh.model.addPhysicalGroup(2, tags, name=name)
        sizing.apply(d, surfaces, background)
        # 2-D Delaunay: with the default Frontal-Delaunay surfaces, 3-D boundary recovery in the
        # thin films segfaulted at some sizes (refine 1/1.5, 1/3 of the test mesh); Delaunay did not.
        gmsh.option.setNumber("Mesh.Algorithm", 5)
        gmsh.option.setNumber("Mesh.Algorithm3D", 1)
        mesh, attempt = _generate_sound(refine)
        if vtk:
            gmsh.write(vtk)
    return ProbeMesh(mesh=mesh, layout=lay, materials=region_materials(d), attempt=attempt)


RETRY_FACTOR = 0.85  # sizes ×0.85 per retry: another node layout where gmsh left flat slivers or failed
ATTEMPTS = 3
MIN_QUALITY = 1e-9  # 6√2·V/ℓ³ (1 for a regular tetrahedron); flat film elements are ~1e-3, slivers ~1e-15


def _generate_sound(refine: float) -> tuple[Mesh, int]:
    """Mesh the model; if gmsh fails or leaves degenerate (zero-volume) tetrahedra, remesh with sizes
    ×0.85 (at most 3 attempts).  Deterministic; the attempt used is returned and reported with the mesh."""
    problem = ""
    for attempt in range(ATTEMPTS):
        gmsh.model.mesh.clear()
        gmsh.option.setNumber("Mesh.MeshSizeFactor", RETRY_FACTOR**attempt / refine)
        try:
            generate(3)
        except MeshError as exc:
            problem = str(exc)
            continue
        try:
            mesh = extract(*_groups())
        except (MeshError, ValueError) as exc:  # gmsh returned without error but left volumes empty
            problem = f"incomplete mesh ({exc})"
            continue
        q, where = worst_element(mesh)
        if q >= MIN_QUALITY:
            return mesh, attempt
        problem = f"degenerate tetrahedra (quality {q:.1e} at {np.round(where * 1e6, 3).tolist()} µm)"
    raise MeshError(f"no sound mesh after {ATTEMPTS} attempts with sizes ×{RETRY_FACTOR}^k: {problem}")


def _groups() -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """The named volume and surface groups of the current gmsh model."""
    out: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
    for dim, tag in gmsh.model.getPhysicalGroups():
        name = gmsh.model.getPhysicalName(dim, tag)
        out[0 if dim == 3 else 1][name] = [int(t) for t in gmsh.model.getEntitiesForPhysicalGroup(dim, tag)]
    return out


def worst_element(mesh: Mesh) -> tuple[float, np.ndarray]:
    """Lowest shape quality 6√2·V/ℓ_max³ of the mesh (1: regular tetrahedron) and that element's centroid (m)."""
    e = mesh.skfem.p[:, mesh.skfem.t]  # (3, 4, n)
    edges = np.linalg.norm(e[:, [0, 0, 0, 1, 1, 2]] - e[:, [1, 2, 3, 2, 3, 3]], axis=0).max(axis=0)
    vol = np.abs(np.einsum("in,in->n", e[:, 1] - e[:, 0], np.cross(e[:, 2] - e[:, 0], e[:, 3] - e[:, 0], axis=0))) / 6
    q = 6 * np.sqrt(2) * vol / edges**3
    i = int(np.argmin(q))
    return float(q[i]), e[:, :, i].mean(axis=1)


def region_of_elements(pm: ProbeMesh) -> np.ndarray:
    """Index into :data:`REGIONS` for every element."""
    out = np.full(pm.mesh.n_elements, -1, dtype=np.int64)
    for i, r in enumerate(REGIONS):
        out[pm.mesh.skfem.subdomains[r]] = i
    if (out < 0).any():
        raise MeshError("some elements belong to no region")
    return out
