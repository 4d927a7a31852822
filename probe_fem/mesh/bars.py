"""Verification shapes meshed on the same gmsh → scikit-fem path as the probe.

A layered bar has the closed-form resistance R = x / Σ kᵢAᵢ between its sink
(x = 0) and any cross-section in the 1-D region — the check the probe's
physics is built on.
"""

from __future__ import annotations

import gmsh
import numpy as np

from probe_fem.mesh.core import Mesh, extract, generate, gmsh_session

occ = gmsh.model.occ


def _bar(
    boxes: list[int], slab: int, length_um: float, width_um: float, height_um: float, size_um: float, prefix: str
) -> tuple[Mesh, np.ndarray]:
    """Fragment ``boxes`` with the sensor ``slab``, name groups, mesh; return mesh and piece index per element."""
    _, out_map = occ.fragment([(3, b) for b in boxes] + [(3, slab)], [])
    in_slab = {t for _, t in out_map[-1]}
    piece_of = {t: i for i, pieces in enumerate(out_map[:-1]) for _, t in pieces}
    occ.remove([(3, t) for t in in_slab - set(piece_of)], recursive=True)  # slab outside the bar
    occ.synchronize()
    volumes = {f"{prefix}{i}": sorted(t for t, j in piece_of.items() if j == i) for i in range(len(boxes))}
    volumes["sensor"] = sorted(in_slab & set(piece_of))
    e = 1e-6
    root = [t for _, t in gmsh.model.getEntitiesInBoundingBox(-e, -e, -e, e, width_um + e, height_um + e, 2)]
    hot = [
        t
        for _, t in gmsh.model.getEntitiesInBoundingBox(
            length_um - e, -e, -e, length_um + e, width_um + e, height_um + e, 2
        )
    ]
    gmsh.option.setNumber("Mesh.MeshSizeMax", size_um)
    generate(3)
    mesh = extract(volumes, {"root": root, "apex": hot})
    index = np.zeros(mesh.n_elements, dtype=int)
    for i in range(len(boxes)):
        index[mesh.skfem.subdomains[f"{prefix}{i}"]] = i
    return mesh, index


def layered_bar(
    length_um: float, layers_um: list[float], width_um: float = 1.0, size_um: float = 0.35
) -> tuple[Mesh, np.ndarray]:
    """Bar along x made of layers stacked in z.

    Named sets: ``root`` (x = 0, the sink), ``apex`` (x = L, the heated end),
    ``sensor`` (the slab 0.45 L ≤ x ≤ 0.55 L, mean position L/2) and ``layer<i>``.
    Returns the mesh (metres) and, per element, the index of its layer.
    """
    with gmsh_session():
        z, boxes = 0.0, []
        for t in layers_um:
            boxes.append(occ.addBox(0, 0, z, length_um, width_um, t))
            z += t
        slab = occ.addBox(0.45 * length_um, -1, -1, 0.1 * length_um, width_um + 2, z + 2)
        return _bar(boxes, slab, length_um, width_um, z, size_um, "layer")


def series_bar(segments_um: list[float], width_um: float = 1.0, size_um: float = 0.35) -> tuple[Mesh, np.ndarray]:
    """Square bar along x made of segments in series (``segment<i>``), sink at x = 0, heated end at x = L.

    ``sensor`` is the slab 0.9 L ≤ x ≤ L.  Returns the mesh and each element's segment index.
    """
    with gmsh_session():
        x, boxes = 0.0, []
        for s in segments_um:
            boxes.append(occ.addBox(x, 0, 0, s, width_um, width_um))
            x += s
        slab = occ.addBox(0.9 * x, -1, -1, 0.1 * x + 1, width_um + 2, width_um + 2)
        return _bar(boxes, slab, x, width_um, width_um, size_um, "segment")
