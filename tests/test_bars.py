"""1-D limits on the same gmsh → scikit-fem → conduction path the probe uses."""

from __future__ import annotations

import numpy as np
import pytest

from probe_fem.mesh.bars import layered_bar
from probe_fem.mesh.core import MICRON
from probe_fem.physics import conduction as steady


def transfer_resistance(mesh, k, power=1e-6):
    prob = steady.assemble(mesh, k, power, source="apex", sink="root", sensor="sensor")
    res = steady.solve(prob)
    return prob, res, prob.sensor @ res.T / power, prob.source_mean @ res.T / power


def test_prismatic_bar_resistance_is_L_over_kA():
    mesh, _layer = layered_bar(20.0, [1.0])
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
