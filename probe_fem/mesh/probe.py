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
from probe_fem.mesh import sizing
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
    apex_half: float  # outer apex cap half-width
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
            apex_half=d.tip.apex_radius_m * um,
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


def _build_cad(d: Design) -> tuple[dict[str, list[int]], dict[str, list[int]], Layout]:
    um = 1 / MICRON
    lay = Layout.of(d)
    th = d.face_angle
    L, W = d.body.length_m * um, d.body.width_m * um
    b0 = d.tip.base_m * um / 2
    a0 = d.core_apex_half_width * um
    h = d.tip.height_m * um
    assert d.electrode.width_m is not None, "validated designs always give the electrode width"
    We = d.electrode.width_m * um
    tc = d.thermocouple
    g, w = tc.leg_gap_m * um, tc.leg_width_m * um
    s = lay.s

    inputs: dict[str, int] = {"body": occ.addBox(0, -W / 2, 0, L, W, lay.z0)}
    for i in range(4):
        inputs[f"frustum{i}"] = _frustum(
            lay.x_tip, lay.z0, b0 + s[i] / math.sin(th), lay.z0 + h + s[i], a0 + s[i] * math.tan(th / 2)
        )
    inputs["slab1"] = occ.addBox(0, -W / 2, lay.z0, L, W, s[1])
    inputs["slab2"] = occ.addBox(0, -W / 2, lay.z0, L, W, s[2])
    inputs["slab3"] = occ.addBox(0, -We / 2, lay.z0, L, We, s[3])
    pad = b0 + s[1] / math.sin(th) + w  # pad half-width: tip footprint plus a leg width
    x_pad = lay.x_tip - pad
    inputs["leg_au"] = occ.addBox(0, g / 2, lay.z0, x_pad, w, s[1])
    inputs["leg_cr"] = occ.addBox(0, -g / 2 - w, lay.z0, x_pad, w, s[1])
    inputs["pad_au"] = occ.addBox(x_pad, 0, lay.z0, 2 * pad, pad, lay.z_junction - lay.z0)
    inputs["pad_cr"] = occ.addBox(x_pad, -pad, lay.z0, 2 * pad, pad, lay.z_junction - lay.z0)
    z_jb = lay.z_junction - tc.junction_length_m * um
    inputs["band"] = occ.addBox(x_pad, -pad, z_jb, 2 * pad, 2 * pad, tc.junction_length_m * um)
    names = list(inputs)
    _, out_map = occ.fragment([(3, inputs[n]) for n in names], [])
    occ.synchronize()

    member: dict[int, set[str]] = {}
    for name, pieces in zip(names, out_map):
        for _dim, tag in pieces:
            member.setdefault(tag, set()).add(name)
    volumes: dict[str, list[int]] = {r: [] for r in REGIONS + ("tc_junction",)}
    for tag, m in sorted(member.items()):
        region = _classify(m)
        if region is None:
            continue  # tool-box space outside the probe
        volumes[region].append(tag)
        if region in ("tc_au", "tc_cr") and "band" in m:
            volumes["tc_junction"].append(tag)
    empty = [r for r, v in volumes.items() if not v]
    if empty:
        raise MeshError(f"geometry has no volume for region(s) {empty}; check the design's dimensions")
    surfaces = _surfaces(volumes, lay, d)
    return volumes, surfaces, lay


def _classify(m: set[str]) -> str | None:
    """Region of a fragment piece from the set of inputs that contain it."""
    if "body" in m:
        return "body"
    if "frustum0" in m:
        return "tip"
    if m & {"slab1", "frustum1"}:
        if m & {"leg_au", "pad_au"}:
            return "tc_au"
        if m & {"leg_cr", "pad_cr"}:
            return "tc_cr"
        return "insulator"
    if m & {"slab2", "frustum2"}:
        return "insulator"
    if m & {"slab3", "frustum3"}:
        return "electrode"
    return None


def _surfaces(volumes: dict[str, list[int]], lay: Layout, d: Design) -> dict[str, list[int]]:
    e = 1e-6
    um = 1 / MICRON
    W = d.body.width_m * um
    root = [t for _, t in gmsh.model.getEntitiesInBoundingBox(-e, -W, -e, e, W, lay.z_apex + e, 2)]
    a = lay.apex_half
    apex = [
        t
        for _, t in gmsh.model.getEntitiesInBoundingBox(
            lay.x_tip - a - e, -a - e, lay.z_apex - e, lay.x_tip + a + e, a + e, lay.z_apex + e, 2
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


GEOMETRY_VERSION = "1"  # bump when the CAD or meshing recipe changes: invalidates cached meshes


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
        gmsh.option.setNumber("Mesh.MeshSizeFactor", 1.0 / refine)
        # 2-D Delaunay: with the default Frontal-Delaunay surfaces, 3-D boundary recovery in the
        # thin films segfaulted at some sizes (refine 1/1.5, 1/3 of the test mesh); Delaunay did not.
        gmsh.option.setNumber("Mesh.Algorithm", 5)
        gmsh.option.setNumber("Mesh.Algorithm3D", 1)
        generate(3)
        if vtk:
            gmsh.write(vtk)
        mesh = extract(volumes, surfaces)
    return ProbeMesh(mesh=mesh, layout=lay, materials=region_materials(d))


def region_of_elements(pm: ProbeMesh) -> np.ndarray:
    """Index into :data:`REGIONS` for every element."""
    out = np.full(pm.mesh.n_elements, -1, dtype=np.int64)
    for i, r in enumerate(REGIONS):
        out[pm.mesh.skfem.subdomains[r]] = i
    if (out < 0).any():
        raise MeshError("some elements belong to no region")
    return out
