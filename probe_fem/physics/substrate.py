"""Substrate spreading resistance R_S: analytic 1/(4ka) and an axisymmetric FEM check.

The hot spot under a metallic contact is modelled as an isothermal disk of
radius a on a half-space (optionally under a film): T = 1 on the disk, T = 0 on
a far hemisphere of radius ``outer``·a, adiabatic elsewhere; R_S = 1/Q with Q the
reaction heat flow.  The truncated half-space has R = 1/(4ka) − 1/(2πk·b) for
b ≫ a, which :func:`spreading_fem` reports alongside.  Axisymmetric P1 on a
gmsh triangle mesh graded towards the disk's rim (where the flux is singular).
"""

from __future__ import annotations

from dataclasses import dataclass

import gmsh
import numpy as np
from skfem import Basis, BilinearForm, ElementTriP1, MeshTri1, asm, condense, solve
from skfem.helpers import dot, grad

from probe_fem.errors import InputError
from probe_fem.mesh.core import MICRON, gmsh_session
from probe_fem.physics.analytic import spreading_resistance


@BilinearForm
def _axisym(u, v, w):
    return 2 * np.pi * w.x[0] * w.k * dot(grad(u), grad(v))


@dataclass(frozen=True)
class SpreadingResult:
    """FEM spreading resistance (K/W) with the analytic values for comparison."""

    R_fem: float
    R_half_space: float  # 1/(4 k a)
    R_truncated: float  # 1/(4 k a) − 1/(2π k b)
    nodes: int


def _mesh(a: float, b: float, film: float | None, rim: float, growth: float):
    g = gmsh.model.geo
    pts = {"o": g.addPoint(0, 0, 0), "a": g.addPoint(a, 0, 0), "b": g.addPoint(b, 0, 0), "d": g.addPoint(0, -b, 0)}
    contact = g.addLine(pts["o"], pts["a"])
    top = g.addLine(pts["a"], pts["b"])
    if film:
        rf = np.sqrt(b**2 - film**2)
        pf, pr = g.addPoint(0, -film, 0), g.addPoint(rf, -film, 0)
        arc1, arc2 = g.addCircleArc(pts["b"], pts["o"], pr), g.addCircleArc(pr, pts["o"], pts["d"])
        mid = g.addLine(pr, pf)
        ax1, ax2 = g.addLine(pf, pts["o"]), g.addLine(pts["d"], pf)
        s_film = g.addPlaneSurface([g.addCurveLoop([contact, top, arc1, mid, ax1])])
        s_sub = g.addPlaneSurface([g.addCurveLoop([-mid, arc2, ax2])])
        sink, surfaces = [arc1, arc2], {"film": [s_film], "substrate": [s_sub]}
    else:
        arc = g.addCircleArc(pts["b"], pts["o"], pts["d"])
        axis = g.addLine(pts["d"], pts["o"])
        surfaces = {"substrate": [g.addPlaneSurface([g.addCurveLoop([contact, top, arc, axis])])]}
        sink = [arc]
    g.synchronize()
    for name, tags in surfaces.items():
        gmsh.model.addPhysicalGroup(2, tags, name=name)
    dist = gmsh.model.mesh.field.add("Distance")
    gmsh.model.mesh.field.setNumbers(dist, "PointsList", [pts["a"]])
    thr = gmsh.model.mesh.field.add("Threshold")
    for key, val in (
        ("InField", dist),
        ("SizeMin", rim),
        ("SizeMax", b / 8),
        ("DistMin", 0.0),
        ("DistMax", (b / 8 - rim) / growth),
    ):
        gmsh.model.mesh.field.setNumber(thr, key, val)
    gmsh.model.mesh.field.setAsBackgroundMesh(thr)
    for opt in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
        gmsh.option.setNumber(opt, 0)
    gmsh.model.mesh.generate(2)
    tags, xyz, _ = gmsh.model.mesh.getNodes()
    lookup = np.zeros(int(tags.max()) + 1, dtype=np.int64)
    lookup[tags.astype(np.int64)] = np.arange(tags.size)
    tris, region = [], []
    for name, stags in surfaces.items():
        for s in stags:
            _, _, nodes = gmsh.model.mesh.getElements(2, s)
            t = lookup[np.asarray(nodes[0], dtype=np.int64).reshape(-1, 3)]
            tris.append(t)
            region += [name] * len(t)

    def nodes_on(curves):
        out = [gmsh.model.mesh.getNodes(1, c, includeBoundary=True)[0] for c in curves]
        return np.unique(lookup[np.concatenate(out).astype(np.int64)])

    p = np.ascontiguousarray(xyz.reshape(-1, 3)[:, :2].T * MICRON)
    return (MeshTri1(p, np.ascontiguousarray(np.vstack(tris).T)), np.array(region), nodes_on([contact]), nodes_on(sink))


def spreading_fem(
    k: float,
    a: float,
    outer: float = 100.0,
    film: tuple[float, float] | None = None,
    rim_fraction: float = 1e-4,
    growth: float = 0.1,
) -> SpreadingResult:
    """R_S (K/W) of an isothermal disk of radius ``a`` (m) on a substrate of conductivity ``k`` (W/(m·K)).

    ``film`` = (thickness m, k_film W/(m·K)) adds a top film; ``outer`` sets the
    truncation radius b = outer·a; ``rim_fraction`` the element size at the rim (× a).
    """
    if k <= 0 or a <= 0 or outer < 10:
        raise InputError(f"k = {k}, a = {a}, outer = {outer}: need k > 0, a > 0, outer >= 10")
    a_um, b_um = a / MICRON, outer * a / MICRON
    with gmsh_session():
        mesh, region, contact, sink = _mesh(a_um, b_um, film[0] / MICRON if film else None, rim_fraction * a_um, growth)
    kk = np.where(region == "film", film[1] if film else k, k)
    basis = Basis(mesh, ElementTriP1(), intorder=2)
    K = asm(_axisym, basis, k=kk[:, None])
    T = np.zeros(mesh.p.shape[1])
    T[contact] = 1.0
    fixed = np.union1d(contact, sink)
    T = solve(*condense(K, np.zeros_like(T), x=T, D=fixed))
    Q = float((K @ T)[contact].sum())
    b = outer * a
    return SpreadingResult(
        R_fem=1.0 / Q,
        R_half_space=spreading_resistance(k, a),
        R_truncated=spreading_resistance(k, a) - 1 / (2 * np.pi * k * b),
        nodes=mesh.p.shape[1],
    )
