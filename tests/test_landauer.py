"""Landauer dissipation: energy conservation, the linear-regime asymmetry (Eq. 2), the paper's signs."""

from __future__ import annotations

import numpy as np
import pytest

from probe_fem.analysis.landauer import G0, BreitWigner, Flat, Junction, Table, preset

MODELS = {
    "bdnc": preset("bdnc"),
    "bda": preset("bda"),
    "au": preset("au"),
    "narrow level": Junction(BreitWigner(0.3, 0.02)),
    "broad level": Junction(BreitWigner(1.0, 0.3)),
    "shifted division": Junction(BreitWigner(-0.5, 0.1), division=0.8),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_energy_conservation(name):
    V = np.array([-1.27, -0.5, -0.03, 0.03, 0.44, 1.27])
    c = MODELS[name].currents(V)
    assert np.allclose(c["Q_P"] + c["Q_S"], c["I"] * V, rtol=1e-6, atol=0)
    assert np.all(c["I"] * V > 0)  # current flows with the bias: dissipation is positive


@pytest.mark.parametrize("name", ["bdnc", "bda", "broad level"])
def test_linear_regime_asymmetry_is_2GTSV(name):
    """Mott's S needs τ smooth on the k_BT scale: levels broader than a few k_BT (the narrow one is not)."""
    j = MODELS[name]
    V = 0.005
    c = j.currents([V, -V])
    expected = j.asymmetry_linear(V)
    assert c["Q_P"][0] - c["Q_P"][1] == pytest.approx(expected, rel=0.02)
    assert c["Q_P"][0] - c["Q_S"][0] == pytest.approx(expected, rel=0.02)
    # with the exact linear-response S the only difference left is O(V³)
    assert c["Q_P"][0] - c["Q_P"][1] == pytest.approx(j.asymmetry_linear(V, exact=True), rel=2e-3)


def test_mott_is_the_low_temperature_limit_of_the_exact_thermopower():
    cold = Junction(BreitWigner(1.0, 0.3), T=30.0)
    assert cold.seebeck == pytest.approx(cold.seebeck_exact, rel=1e-3)


def test_flat_transmission_is_symmetric():
    j = preset("au")
    c = j.currents([0.03, 0.067, -0.067])
    assert np.allclose(c["Q_P"], c["Q_S"], rtol=1e-12)
    assert np.allclose(c["Q_P"], c["I"] * np.array([0.03, 0.067, -0.067]) / 2, rtol=1e-12)
    assert j.seebeck == 0 and j.conductance == pytest.approx(G0, rel=1e-6)


def test_presets_reproduce_the_papers_findings():
    bdnc, bda = preset("bdnc"), preset("bda")
    assert bdnc.conductance / G0 == pytest.approx(0.002, rel=0.05)
    assert bda.conductance / G0 == pytest.approx(0.005, rel=0.05)
    assert bdnc.seebeck < 0 < bda.seebeck
    for V in (0.74, 1.27):  # BDNC: more heat in the probe at negative bias
        c = bdnc.currents([V, -V])
        assert c["Q_P"][1] > c["Q_P"][0]
    for V in (0.44, 0.82):  # BDA: more at positive bias
        c = bda.currents([V, -V])
        assert c["Q_P"][0] > c["Q_P"][1]


def test_table_transmission_from_file(tmp_path):
    E = np.linspace(-2, 2, 401)
    bw = BreitWigner(0.6, 0.15)
    path = tmp_path / "tau.dat"
    np.savetxt(path, np.column_stack([E, bw(E)]), header="E-EF(eV) tau")
    table = Junction(Table.load(path))
    ref = Junction(bw).currents([0.5, -0.5])
    got = table.currents([0.5, -0.5])
    assert np.allclose(got["Q_P"], ref["Q_P"], rtol=2e-3)
    bad = tmp_path / "bad.dat"
    bad.write_text("0 1\n-1 0.5\n1 0.2\n")
    with pytest.raises(ValueError, match="increase strictly"):
        Table.load(bad)
    with pytest.raises(ValueError, match="model"):
        preset("graphene")
    assert Flat(0.5)(np.zeros(3)).tolist() == [0.5, 0.5, 0.5]
