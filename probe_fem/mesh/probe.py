"""The meshed probe: CAD (:mod:`~probe_fem.mesh.cad`), sizes (:mod:`~probe_fem.mesh.sizing`), gmsh in a
child process (:mod:`~probe_fem.mesh.worker`), soundness checks and the mesh cache.

:func:`build_meshes` meshes a design at several levels (``refine``: every feature size divided
by it, down to the geometry's bounds) side by side, each in its own process; :func:`build_mesh`
is the one-level case.  A mesh that gmsh fails to make, or makes with degenerate tetrahedra, is
made again with sizes ×0.85 (at most three attempts; the attempt is reported).  Errors name the
design, the level and the stage (CAD, curves, surfaces, volumes, checks) that failed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import gmsh
import numpy as np

from probe_fem.design.schema import Design
from probe_fem.errors import MeshError
from probe_fem.mesh import cache as mesh_cache
from probe_fem.mesh import sizing, worker
from probe_fem.mesh.cad import REGIONS, Layout, build_cad
from probe_fem.mesh.core import MICRON, Mesh, extract, from_arrays, generate, gmsh_session, to_arrays
from probe_fem.progress import Stages

__all__ = ["REGIONS", "Layout", "ProbeMesh", "build_mesh", "build_meshes", "region_materials"]


def region_materials(d: Design) -> dict[str, str]:
    """Material name of each volume region (a resistive design's legs are its leads)."""
    tc = d.thermocouple
    au, cr = (tc.au_material, tc.cr_material) if d.resistor is None else (d.resistor.lead_material,) * 2
    assert au is not None and cr is not None  # the design's rules require them
    return {
        "body": d.body.material,
        "tip": d.tip.material,
        "tc_au": au,
        "tc_cr": cr,
        "insulator": d.insulator.material,
        "electrode": d.electrode.material,
    }


@dataclass(frozen=True)
class ProbeMesh:
    """The meshed probe: mesh in metres plus the layout used to build it."""

    mesh: Mesh
    layout: Layout
    materials: dict[str, str]  # region -> material name
    attempt: int = 0  # 0, or the retry (sizes ×RETRY_FACTOR^attempt) that gave a sound mesh
    key: str = ""  # geometry_key of this mesh: its name in the mesh cache
    cached: bool = False  # taken from the cache (memory or folder) rather than meshed


GEOMETRY_VERSION = "4"  # bump when the CAD or meshing recipe changes: invalidates cached meshes


def geometry_key(d: Design, refine: float, background: sizing.Background | None = None) -> str:
    """Fingerprint of everything the mesh depends on (not materials, source, measured values)."""
    parts = {k: d.model_dump(mode="json")[k] for k in ("body", "tip", "thermocouple", "insulator", "electrode")}
    parts["mesh"] = sizing.mesh_settings(d).model_dump(mode="json")
    for sec in ("body", "tip", "thermocouple", "insulator", "electrode"):
        parts[sec] = {k: v for k, v in parts[sec].items() if not k.endswith("material")}
    blob = json.dumps(
        {
            "design": parts,
            "refine": refine,
            "background": None if background is None else background.fingerprint(),
            "gmsh": gmsh.__version__,
            "recipe": GEOMETRY_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def build_mesh(
    d: Design,
    refine: float = 1.0,
    cache: str | None = None,
    background: sizing.Background | None = None,
    on_stage: Stages | None = None,
) -> ProbeMesh:
    """Mesh the probe of a validated design at one level (see :func:`build_meshes`)."""
    return build_meshes(d, [refine], cache, background, on_stage)[0]


def build_meshes(
    d: Design,
    levels: Sequence[float],
    cache: str | None = None,
    background: sizing.Background | None = None,
    on_stage: Stages | None = None,
    limits: worker.Limits = worker.Limits(),  # noqa: B008 -- frozen
) -> list[ProbeMesh]:
    """Mesh the probe of a validated design at each level of ``levels``, side by side in child processes.

    A level ``refine`` divides every feature size (or ``background``'s sizes) by it, down to the
    geometry's bounds (:func:`probe_fem.mesh.sizing.bounds`), which no level coarsens.
    Deterministic: the same design and level give a bit-identical mesh.  With ``cache`` (a folder)
    meshes are kept on disk and in memory under :func:`geometry_key` and reused (a re-run, or a
    study point that changes only materials, does not re-mesh); :data:`~probe_fem.mesh.cache.MEMORY`
    keeps them in memory only.  ``on_stage`` shows the stages;
    ``limits`` bounds each stage's time.

    Raises:
        MeshError: gmsh failed, crashed, overran a stage's time limit, or left no sound mesh
            after three attempts; the message names the design, the level and the stage.
    """
    keys = [geometry_key(d, r, background) for r in levels]
    found = [mesh_cache.lookup(cache, k) for k in keys]
    todo = [i for i, m in enumerate(found) if m is None]
    cached = [m is not None for m in found]
    tasks = [worker.Task(_mesh_task, (d, levels[i], background), _label(d, levels[i], background)) for i in todo]
    show = on_stage.update if on_stage is not None else None
    made = worker.run(tasks, limits, on_stage=(lambda label, stage: show(f"{label}: {stage}")) if show else None)
    attempts = [0] * len(levels)
    for i, (arrays, attempt) in zip(todo, made):
        mesh = found[i] = from_arrays(arrays)
        attempts[i] = attempt
        mesh_cache.store(cache, keys[i], mesh)
    lay, materials = Layout.of(d), region_materials(d)
    return [ProbeMesh(m, lay, materials, a, k, c) for m, a, k, c in zip(found, attempts, keys, cached) if m is not None]


def _label(d: Design, refine: float, background: sizing.Background | None) -> str:
    how = "adaptive sizes" if background is not None else "feature sizes"
    return f"meshing {d.name!r} at refine {refine:g} ({how})"


def _mesh_task(
    report: worker.Report, d: Design, refine: float, background: sizing.Background | None
) -> tuple[dict[str, np.ndarray], int]:
    """In the child: a sound mesh's arrays and the attempt that made it (:func:`attempt_text`).

    If gmsh fails or leaves degenerate (zero-volume) tetrahedra, the mesh is made again: each size
    (×1, ×0.85, ×0.85², at most :data:`ATTEMPTS`) stage by stage (curves, surfaces, volumes: each
    reported, each with its time limit) and then, if that fails, in one pass (gmsh's own order).
    Every attempt starts a new gmsh session from the CAD: after a failed boundary recovery a cleared
    model was seen to mesh some volumes empty.  Deterministic."""
    problem = ""
    for attempt in range(2 * ATTEMPTS):
        with gmsh_session(seed=sizing.mesh_settings(d).seed):
            tries = f" ({attempt_text(attempt)})" if attempt else ""
            report(f"CAD (OCC solids and fragment){tries}", 0)
            _prepare(d, refine, background)
            gmsh.option.setNumber("Mesh.MeshSizeFactor", RETRY_FACTOR ** (attempt // 2))
            mesh, problem = _generate(report, tries, one_pass=bool(attempt % 2))
        if mesh is not None:
            return to_arrays(mesh), attempt
    raise MeshError(f"no sound mesh at sizes ×{RETRY_FACTOR}^k (k < {ATTEMPTS}), staged and in one pass: {problem}")


def _prepare(d: Design, refine: float, background: sizing.Background | None) -> None:
    """CAD, named groups and size fields in the current session."""
    cad = build_cad(d)
    for name, tags in cad.volumes.items():
        gmsh.model.addPhysicalGroup(3, tags, name=name)
    for name, tags in cad.surfaces.items():
        gmsh.model.addPhysicalGroup(2, tags, name=name)
    sizing.apply(d, cad, refine, background)
    # 2-D Delaunay: with the default Frontal-Delaunay surfaces, 3-D boundary recovery in the
    # thin films segfaulted at some sizes; Delaunay did not.
    gmsh.option.setNumber("Mesh.Algorithm", 5)
    gmsh.option.setNumber("Mesh.Algorithm3D", 1)


RETRY_FACTOR = 0.85  # sizes ×0.85 per size step: another node layout where gmsh left flat slivers or failed
ATTEMPTS = 3
MIN_QUALITY = 1e-9  # 6√2·V/ℓ³ (1 for a regular tetrahedron); flat film elements are ~1e-3, slivers ~1e-15


def attempt_text(attempt: int) -> str:
    """How attempt ``attempt`` (0 = the first) meshed: its sizes and whether in one pass."""
    how = ", in one pass" if attempt % 2 else ""
    return f"attempt {attempt + 1}, sizes ×{RETRY_FACTOR ** (attempt // 2):.3f}{how}"


def _generate(report: worker.Report, tries: str, one_pass: bool) -> tuple[Mesh | None, str]:
    """A sound mesh of the current model, or None and what went wrong."""
    stages = ((3, "volumes"),) if one_pass else ((1, "curves"), (2, "surfaces"), (3, "volumes"))
    stage = ""
    try:
        for dim, stage in stages:
            report(f"{stage}{tries}", _count(dim - 1))
            generate(dim)
        report(f"checks{tries}", _count(3))
        mesh = extract(*_groups())
    except MeshError as exc:
        return None, f"{stage}: {exc}"
    except ValueError as exc:  # gmsh returned without error but left volumes empty
        return None, f"incomplete mesh ({exc})"
    q, where = worst_element(mesh)
    if q < MIN_QUALITY:
        return None, f"degenerate tetrahedra (quality {q:.1e} at {np.round(where * 1e6, 3).tolist()} µm)"
    return mesh, ""


def _count(dim: int) -> int:
    """Elements of dimension ``dim`` in the current mesh (nodes for 0)."""
    if dim == 0:
        return 0
    return int(sum(len(tags) for tags in gmsh.model.mesh.getElements(dim)[1]))


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


def leg_widths(pm: ProbeMesh, x: np.ndarray, region: str = "tc_au") -> np.ndarray:
    """Width (m) of a thermocouple leg on the body at each station ``x`` (m from the root), measured on the
    mesh: the length of the line x = const across the leg's facets that lie on the body's top face."""
    m = pm.mesh.skfem
    z0 = pm.layout.z0 * 1e-6
    faces = m.t2f[:, m.subdomains[region]].ravel()
    tri = m.facets[:, np.unique(faces)]
    tri = tri[:, np.all(np.abs(m.p[2, tri] - z0) < 1e-6 * z0, axis=0)]  # on the body's top face
    xy = m.p[:2, tri]  # (2, 3, n)
    out = np.zeros(len(x))
    for k, xs in enumerate(np.asarray(x, float)):
        a, b = xy[:, [0, 1, 2]], xy[:, [1, 2, 0]]  # the three edges of every triangle
        da, db = a[0] - xs, b[0] - xs
        cut = (da * db < 0) | ((da == 0) & (db != 0))
        s = np.where(cut, da / np.where(da == db, 1.0, da - db), 0.0)
        y = np.where(cut, a[1] + s * (b[1] - a[1]), np.nan)  # where each edge crosses x = xs
        two = np.sum(cut, axis=0) == 2
        out[k] = np.nansum(np.nanmax(y[:, two], axis=0) - np.nanmin(y[:, two], axis=0))
    return out


def leg_summary(d: Design, pm: ProbeMesh) -> str:
    """The legs' widths as meshed, for the mesh report: across each leg on the body (perpendicular to it on
    a v's arm) and, for ``back`` legs, where they narrow to the stripes."""
    b, tc = d.body, d.thermocouple
    x = 0.5 * (b.length_m - b.end_length_m) if b.planform == "v" and b.end_length_m else 0.25 * b.length_m
    cos = math.cos(math.radians((b.opening_angle_deg or 0.0) / 2)) if b.planform == "v" else 1.0
    au, cr = (leg_widths(pm, np.array([x]), r)[0] * cos / MICRON for r in ("tc_au", "tc_cr"))
    text = f"legs {au:.3f} µm (Au) and {cr:.3f} µm (Cr) wide on the body at x = {x / MICRON:.3g} µm"
    if tc.tip_legs == "back" and tc.tip_leg_width_m is not None:
        foot = b.length_m - d.tip.setback_m - 2 * d.coated_half_foot - tc.leg_width_m / 2
        text += (
            f", narrowing from x = {(foot - d.leg_taper_length) / MICRON:.3g} µm to the "
            f"{tc.tip_leg_width_m / MICRON:.3g} µm stripes at the tip's foot (x = {foot / MICRON:.3g} µm)"
        )
    return text


def element_materials(d: Design, pm: ProbeMesh) -> tuple[list[str], np.ndarray]:
    """Material names and each element's index into them: its region's material, and in a resistive
    design the resistor film in the band where the legs meet (``tc_junction``)."""
    names = [pm.materials[r] for r in REGIONS]
    index = region_of_elements(pm)
    if d.resistor is not None:
        names.append(d.resistor.material)
        index[pm.mesh.skfem.subdomains["tc_junction"]] = len(names) - 1
    return names, index


def region_of_elements(pm: ProbeMesh) -> np.ndarray:
    """Index into :data:`REGIONS` for every element."""
    out = np.full(pm.mesh.n_elements, -1, dtype=np.int64)
    for i, r in enumerate(REGIONS):
        out[pm.mesh.skfem.subdomains[r]] = i
    if (out < 0).any():
        raise MeshError("some elements belong to no region")
    return out
