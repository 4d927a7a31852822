"""1-D limits on the same gmsh → scikit-fem → conduction path the probe uses."""

from __future__ import annotations

import gmsh
import numpy as np
import pytest

from probe_fem import steady
from probe_fem.mesh import MICRON, extract, generate, gmsh_session

occ = gmsh.model.occ


def layered_bar(length_um: float, layers_um: list[float], width_um: float = 1.0, size_um: float = 0.35):
    """Bar along x made of stacked layers (z); sink at x = 0, source at x = L, sensor slab around L/2.

    Returns the mesh and, per element, the index of its layer.
    """
    with gmsh_session():
        z, boxes = 0.0, []
        for t in layers_um:
            boxes.append(occ.addBox(0, 0, z, length_um, width_um, t))
            z += t
        slab = occ.addBox(0.45 * length_um, -1, -1, 0.1 * length_um, width_um + 2, z + 2)
        _, out_map = occ.fragment([(3, b) for b in boxes] + [(3, slab)], [])
        occ.synchronize()
        in_slab = {t for _, t in out_map[-1]}
        layer_of = {t: i for i, pieces in enumerate(out_map[:-1]) for _, t in pieces}
        volumes = {f"layer{i}": sorted(t for t, j in layer_of.items() if j == i) for i in range(len(boxes))}
        volumes["sensor"] = sorted(in_slab & set(layer_of))
        e = 1e-6
        root = [t for _, t in gmsh.model.getEntitiesInBoundingBox(-e, -e, -e, e, width_um + e, z + e, 2)]
        hot = [t for _, t in gmsh.model.getEntitiesInBoundingBox(length_um - e, -e, -e, length_um + e,
                                                                 width_um + e, z + e, 2)]
        gmsh.option.setNumber("Mesh.MeshSizeMax", size_um)
        generate(3)
        mesh = extract(volumes, {"root": root, "apex": hot})
    layer = np.zeros(mesh.n_elements, dtype=int)
    for i in range(len(boxes)):
        layer[mesh.skfem.subdomains[f"layer{i}"]] = i
    return mesh, layer


def transfer_resistance(mesh, k, power=1e-6):
    prob = steady.assemble(mesh, k, power, source="apex", sink="root", sensor="sensor")
    res = steady.solve(prob)
    return prob, res, prob.sensor @ res.T / power, prob.source_mean @ res.T / power


def test_prismatic_bar_resistance_is_L_over_kA():
    mesh, layer = layered_bar(20.0, [1.0])
    k = 150.0
    _, res, r_mid, r_end = transfer_resistance(mesh, np.full(mesh.n_elements, k))
    area = 1.0 * 1.0 * MICRON**2
    assert r_end == pytest.approx(20 * MICRON / (k * area), rel=5e-3)
    assert r_mid == pytest.approx(10 * MICRON / (k * area), rel=5e-3)
    assert res.balance_error < 1e-8


def test_two_layer_bar_resistance_is_L_over_sum_kA():
    mesh, layer = layered_bar(20.0, [0.5, 0.5])
    k = np.array([200.0, 2.5])[layer]
    _, _, r_mid, r_end = transfer_resistance(mesh, k)
    kA = (200.0 + 2.5) * 0.5 * MICRON**2
    assert r_mid == pytest.approx(10 * MICRON / kA, rel=5e-3)
    # at the heated end the flux must first spread into the good conductor: strictly more resistance
    assert r_end > 20 * MICRON / kA


def test_energy_identity_on_bar():
    """Σ k|∇T|² dV = Q·⟨T⟩_source, computed element by element (independent of the solve)."""
    mesh, layer = layered_bar(10.0, [0.5, 0.5])
    k = np.array([10.0, 1.0])[layer]
    prob, res, _, r_end = transfer_resistance(mesh, k)
    total = steady.dissipation(prob, res.T, np.arange(mesh.n_elements))
    assert total / prob.power**2 == pytest.approx(r_end, rel=1e-10)
