"""Junction/probe/substrate network: limits, symmetry, node equations, Wiedemann–Franz, spreading FEM."""

from __future__ import annotations

import numpy as np
import pytest

from probe_fem.calibration import network as nw
from probe_fem.physics.substrate import spreading_fem


def node_equations(Q_P, Q_S, R_P, R_J, R_S):
    """Solve the two-node network directly: conductance matrix times temperatures = heat inputs."""
    A = np.array([[1 / R_P + 1 / R_J, -1 / R_J], [-1 / R_J, 1 / R_S + 1 / R_J]])
    return np.linalg.solve(A, [Q_P, Q_S])


def test_probe_rise_matches_node_equations():
    rng = np.random.default_rng(3)
    for _ in range(20):
        Q_P, Q_S = rng.uniform(0.1, 2, 2)
        R_P, R_J, R_S = 10 ** rng.uniform(4, 10, 3)
        T_P, _T_S = node_equations(Q_P, Q_S, R_P, R_J, R_S)
        assert nw.probe_rise(Q_P, Q_S, R_P, R_J, R_S) == pytest.approx(T_P, rel=1e-10)
        # the estimate error is the junction heat leaving at the apex: (Q_P − T_P/R_P)/Q_P with a sign
        assert nw.estimate_error(Q_S / Q_P, R_P, R_J, R_S) == pytest.approx(T_P / R_P / Q_P - 1, rel=1e-8, abs=1e-15)


def test_limits_and_symmetry():
    R_P = 72_800.0
    # R_J -> infinity: no crosstalk
    assert nw.probe_rise(1.0, 5.0, R_P, 1e30, 1e5) == pytest.approx(R_P)
    assert abs(nw.estimate_error(5.0, R_P, 1e30, 1e5)) < 1e-20
    # R_S -> 0: the substrate is a perfect sink; the junction shunts the probe
    R_J = 1e7
    assert nw.probe_rise(1.0, 3.0, R_P, R_J, 0.0) == pytest.approx(R_P * R_J / (R_P + R_J))
    assert nw.estimate_error(3.0, R_P, R_J, 0.0) == pytest.approx(-R_P / (R_P + R_J))
    # symmetric network: equal resistances and heats, nothing crosses the junction
    assert nw.probe_rise(2.0, 2.0, 5e4, 1e6, 5e4) == pytest.approx(1e5)
    assert nw.estimate_error(1.0, 5e4, 1e6, 5e4) == pytest.approx(0.0, abs=1e-15)
    # the paper's bound R_J >= 1e7 K/W: crosstalk below ~1 %
    assert abs(nw.estimate_error(0.0, R_P, 1e7, 1e5)) < 1e-2


def test_wiedemann_franz_single_atom_contact():
    assert nw.wiedemann_franz(nw.G0, 300.0) == pytest.approx(0.57e-9, rel=5e-3)
    assert nw.junction_resistance(nw.G0) == pytest.approx(1.76e9, rel=5e-3)
    assert nw.thermal_conductance_quantum(300.0) == pytest.approx(0.284e-9, rel=5e-3)
    assert nw.PAPER_JUNCTIONS[1].R_J == pytest.approx(1 / (nw.L0 * 300 * 0.002 * nw.G0 + 50e-12))


def test_parse_quantity():
    assert nw.parse_quantity("1G0", "conductance") == pytest.approx(nw.G0)
    assert nw.parse_quantity("0.002 G0", "conductance") == pytest.approx(0.002 * nw.G0)
    assert nw.parse_quantity("30pW/K", "thermal") == pytest.approx(30e-12)
    assert nw.parse_quantity("1e7", "resistance") == 1e7
    for bad, kind in (("-1G0", "conductance"), ("3 furlongs", "conductance"), ("1G0", "thermal")):
        with pytest.raises(ValueError):
            nw.parse_quantity(bad, kind)


def test_spreading_resistance_fem_against_formula():
    k, a = 317.0, 10e-9
    r = spreading_fem(k, a)
    assert r.R_fem == pytest.approx(nw.spreading_resistance(k, a), rel=0.05)
    assert r.R_fem == pytest.approx(r.R_truncated, rel=1e-2)  # the finite domain's own formula, tighter


def test_spreading_resistance_with_a_film():
    k, a = 317.0, 10e-9
    same = spreading_fem(k, a, film=(50e-9, k))
    poor = spreading_fem(k, a, film=(50e-9, k / 3))
    assert same.R_fem == pytest.approx(spreading_fem(k, a).R_fem, rel=2e-3)
    assert poor.R_fem > 2 * same.R_fem  # most of the constriction sits within a few radii: in the film
