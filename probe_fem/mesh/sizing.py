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
from probe_fem.mesh.cad import Cad
from probe_fem.mesh.core import MICRON

# the reference's hand-set sizes as fractions of its features (apex 150 nm → 10 nm, junction band
# 100 nm → 20 nm, body 0.6 µm → 0.375 µm); one set of ratios for every design
APEX_PER_SIZE = 15.0
JUNCTION_PER_SIZE = 5.0
BODY_PER_SIZE = 1.6
PLANFORM_PER_SIZE = 32.0  # far size at least 1/32 of the body's smaller plan dimension (12 µm → 0.375 µm)
# away from the tip the body coarsens: beyond TIP_ZONE × the tip's larger dimension (at least the body's
# width, over which the heat spreads) from the apex, sizes grow by BODY_GROWTH per unit distance up to
# 1/BODY_PER_PLAN of the body's (or arm's) width
TIP_ZONE = 2.0
BODY_GROWTH = 0.1
BODY_PER_PLAN = 8.0
# feature bounds: elements across a feature at the coarsest level (see Bounds)
CAP_PER_SIZE = 2.0
BAND_PER_SIZE = 2.0
STRIPE_PER_SIZE = 2.0


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


def _threshold(surfaces: list[int], size: float, far: float, dist_max: float) -> int:
    dist = gmsh.model.mesh.field.add("Distance")
    gmsh.model.mesh.field.setNumbers(dist, "SurfacesList", surfaces)
    thr = gmsh.model.mesh.field.add("Threshold")
    gmsh.model.mesh.field.setNumber(thr, "InField", dist)
    gmsh.model.mesh.field.setNumber(thr, "SizeMin", size)
    gmsh.model.mesh.field.setNumber(thr, "SizeMax", far)
    gmsh.model.mesh.field.setNumber(thr, "DistMin", 0.0)
    gmsh.model.mesh.field.setNumber(thr, "DistMax", dist_max)
    return thr


def body_grading(d: Design) -> tuple[float, float]:
    """(distance from the apex where the body starts to coarsen, largest size there), m."""
    b = d.body
    plan = min(b.width_m, b.arm_width_m or b.width_m, b.length_m / 2)
    zone = max(TIP_ZONE * max(d.tip.height_m, d.tip.base_m), b.width_m)  # heat spreads over ~ a width
    return zone, max(mesh_settings(d).size_far_m, plan / BODY_PER_PLAN)


def _feature_fields(d: Design, cad: Cad, refine: float) -> list[int]:
    """Sizes growing from the apex cap and the junction surfaces to the far size, and beyond the tip's zone
    on to the body's size; every size divided by ``refine`` (µm), every slope as at refine 1."""
    um = 1 / MICRON
    m = mesh_settings(d)
    far = m.size_far_m * um
    zone, body = (v * um for v in body_grading(d))
    fields = [
        _threshold(cad.surfaces[name], size * um / refine, body / refine, (body - size * um) / m.growth)
        for name, size in (("apex", m.size_apex_m), ("tc_junction", m.size_tc_m))
    ]
    grading = _threshold(cad.surfaces["apex"], far / refine, body / refine, zone + (body - far) / BODY_GROWTH)
    gmsh.model.mesh.field.setNumber(grading, "DistMin", zone)
    return [*fields, grading]


def _background_field(bg: Background, refine: float) -> int:
    """A gmsh post-processing view holding the sizes (µm) ÷ ``refine`` as piecewise-constant values per tetrahedron."""
    um = 1 / MICRON
    xyz = bg.points[:, bg.tets] * um  # (3, 4, n)
    n = bg.tets.shape[1]
    # list-data layout per tetrahedron: x1..x4, y1..y4, z1..z4, then the 4 nodal values
    size = np.repeat((bg.size * um / refine)[:, None], 4, axis=1)
    data = np.concatenate([xyz[0].T, xyz[1].T, xyz[2].T, size], axis=1)
    view = gmsh.view.add("background size")
    gmsh.view.addListData(view, "SS", n, data.ravel().tolist())
    field = gmsh.model.mesh.field.add("PostView")
    gmsh.model.mesh.field.setNumber(field, "ViewTag", view)
    return field


@dataclass(frozen=True)
class Bounds:
    """Largest element sizes (m) the geometry needs at any level: coarsening stops at them.

    ``cap``: a few elements across the apex cap (the heat source); ``band``: two along the junction
    band; ``stripe``: two across a thermocouple stripe on the tip (None without stripes); ``film``:
    the thinnest conformal film, which bounds the chords on the cone's curved films (their sag
    h²/8R must stay below half of it, h ≤ 2√(R·t), R the local radius of curvature)."""

    cap: float
    band: float
    stripe: float | None
    film: float


def bounds(d: Design) -> Bounds:
    """The feature bounds of a design (m)."""
    tc = d.thermocouple
    return Bounds(
        cap=d.tip.apex_radius_m / CAP_PER_SIZE,
        band=tc.junction_length_m / BAND_PER_SIZE,
        stripe=None if tc.tip_leg_width_m is None else tc.tip_leg_width_m / STRIPE_PER_SIZE,
        film=min(tc.thickness_m, d.insulator.thickness_m, d.electrode.thickness_m),
    )


def _constant(value: float, dim: int, tags: list[int]) -> int:
    """``value`` (µm) on the entities (and their boundaries), no bound elsewhere."""
    f = gmsh.model.mesh.field.add("Constant")
    gmsh.model.mesh.field.setNumber(f, "VIn", value)
    gmsh.model.mesh.field.setNumber(f, "VOut", 1e22)
    gmsh.model.mesh.field.setNumbers(f, "VolumesList" if dim == 3 else "SurfacesList", tags)
    gmsh.model.mesh.field.setNumber(f, "IncludeBoundary", 1)
    return f


def _bound_fields(d: Design, cad: Cad) -> list[int]:
    """Fields that cap the size where the geometry needs it, whatever the level (µm)."""
    um = 1 / MICRON
    b = bounds(d)
    fields = [_constant(b.cap * um, 2, cad.surfaces["apex"]), _constant(b.band * um, 3, cad.volumes["tc_junction"])]
    if b.stripe is not None and cad.stripes:
        fields.append(_constant(b.stripe * um, 3, cad.stripes))
    if d.tip.shape == "cone":  # chords on the curved films: R = √(r² + a²), r from the axis, a the cap sphere
        lay = cad.layout
        a = d.core_apex_half_width * um
        curved = gmsh.model.mesh.field.add("MathEval")
        gmsh.model.mesh.field.setString(
            curved, "F", f"2*Sqrt({b.film * um!r}*Sqrt((x-({lay.x_tip!r}))^2+y^2+{a * a!r}))"
        )
        only = gmsh.model.mesh.field.add("Restrict")
        gmsh.model.mesh.field.setNumber(only, "InField", curved)
        gmsh.model.mesh.field.setNumbers(only, "VolumesList", cad.tip_films + cad.volumes["tip"])
        gmsh.model.mesh.field.setNumber(only, "IncludeBoundary", 1)
        fields.append(only)
    return fields


def apply(d: Design, cad: Cad, refine: float = 1.0, background: Background | None = None) -> None:
    """Set gmsh's background size field for level ``refine`` (call in a session): the feature sizes (or
    ``background``) divided by ``refine``, capped by the geometry's :func:`bounds`, which do not coarsen."""
    um = 1 / MICRON
    levels = _feature_fields(d, cad, refine) if background is None else [_background_field(background, refine)]
    fmin = gmsh.model.mesh.field.add("Min")
    gmsh.model.mesh.field.setNumbers(fmin, "FieldsList", levels + _bound_fields(d, cad))
    gmsh.model.mesh.field.setAsBackgroundMesh(fmin)
    for opt in ("Mesh.MeshSizeExtendFromBoundary", "Mesh.MeshSizeFromPoints", "Mesh.MeshSizeFromCurvature"):
        gmsh.option.setNumber(opt, 0)
    largest = body_grading(d)[1] if background is None else float(background.size.max())
    gmsh.option.setNumber("Mesh.MeshSizeMax", largest * um / refine)
