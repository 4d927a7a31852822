"""Element sizes: derived from the design's features, or read from a background size field.

Without a ``[mesh]`` table a design is meshed with sizes derived from its features
(:func:`mesh_settings`): the apex cap, the junction band and the body thickness set
the three target sizes, with the ratios of the hand-tuned reference design (which
these rules reproduce exactly).  An adaptive calibration instead hands gmsh a
:class:`Background`: target sizes on the tetrahedra of a previous mesh.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmsh
import numpy as np

from probe_fem.design.schema import Design, MeshSettings
from probe_fem.mesh.core import MICRON

# the reference's hand-set sizes as fractions of its features (apex 150 nm → 10 nm, junction band
# 100 nm → 20 nm, body 0.6 µm → 0.375 µm); one set of ratios for every design
APEX_PER_SIZE = 15.0
JUNCTION_PER_SIZE = 5.0
BODY_PER_SIZE = 1.6
PLANFORM_PER_SIZE = 32.0  # far size at least 1/32 of the body's smaller plan dimension (12 µm → 0.375 µm)


def mesh_settings(d: Design) -> MeshSettings:
    """The design's ``[mesh]`` table, or sizes derived from its features when it has none."""
    if d.mesh is not None:
        return d.mesh
    apex = d.tip.apex_radius_m / APEX_PER_SIZE
    tc = min(d.thermocouple.junction_length_m / JUNCTION_PER_SIZE, d.tip.apex_radius_m)
    plan = min(d.body.length_m, d.body.width_m, d.body.arm_width_m or d.body.width_m)
    far = max(d.body.thickness_m / BODY_PER_SIZE, plan / PLANFORM_PER_SIZE, apex, tc)

    def r(v: float) -> float:
        return float(f"{v:.6g}")

    return MeshSettings(size_apex_m=r(apex), size_tc_m=r(tc), size_far_m=r(far))


@dataclass(frozen=True)
class Background:
    """Target element size (m) on each tetrahedron of a previous mesh (points in m, shape (3, n))."""

    points: np.ndarray
    tets: np.ndarray  # (4, n_elements)
    size: np.ndarray  # (n_elements,) target edge length, m

    def fingerprint(self) -> str:
        import hashlib

        h = hashlib.sha256()
        for a in (self.points, self.tets.astype(np.int64), self.size):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()[:16]


def _feature_field(d: Design, surfaces: dict[str, list[int]]) -> int:
    um = 1 / MICRON
    m = mesh_settings(d)
    far = m.size_far_m * um
    fields = []
    for name, size in (("apex", m.size_apex_m * um), ("tc_junction", m.size_tc_m * um)):
        dist = gmsh.model.mesh.field.add("Distance")
        gmsh.model.mesh.field.setNumbers(dist, "SurfacesList", surfaces[name])
        thr = gmsh.model.mesh.field.add("Threshold")
        gmsh.model.mesh.field.setNumber(thr, "InField", dist)
        gmsh.model.mesh.field.setNumber(thr, "SizeMin", size)
        gmsh.model.mesh.field.setNumber(thr, "SizeMax", far)
        gmsh.model.mesh.field.setNumber(thr, "DistMin", 0.0)
        gmsh.model.mesh.field.setNumber(thr, "DistMax", (far - size) / m.growth)
        fields.append(thr)
    fmin = gmsh.model.mesh.field.add("Min")
    gmsh.model.mesh.field.setNumbers(fmin, "FieldsList", fields)
    return fmin


def _background_field(bg: Background) -> int:
    """A gmsh post-processing view holding the sizes (µm) as piecewise-constant values per tetrahedron."""
    um = 1 / MICRON
    xyz = bg.points[:, bg.tets] * um  # (3, 4, n)
    n = bg.tets.shape[1]
    # list-data layout per tetrahedron: x1..x4, y1..y4, z1..z4, then the 4 nodal values
    data = np.concatenate([xyz[0].T, xyz[1].T, xyz[2].T, np.repeat((bg.size * um)[:, None], 4, axis=1)], axis=1)
    view = gmsh.view.add("background size")
    gmsh.view.addListData(view, "SS", n, data.ravel().tolist())
    field = gmsh.model.mesh.field.add("PostView")
    gmsh.model.mesh.field.setNumber(field, "ViewTag", view)
    return field


def apply(d: Design, surfaces: dict[str, list[int]], background: Background | None = None) -> None:
    """Set gmsh's background size field: the feature sizes, or ``background`` if given (call in a session)."""
    um = 1 / MICRON
    m = mesh_settings(d)
    field = _feature_field(d, surfaces) if background is None else _background_field(background)
    gmsh.model.mesh.field.setAsBackgroundMesh(field)
    for opt in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
        gmsh.option.setNumber(opt, 0)
    far = m.size_far_m * um if background is None else float(background.size.max()) * um
    gmsh.option.setNumber("Mesh.MeshSizeMax", far)
