"""Transient physics: modes against analytic bars, step → R_P, frequency response, modulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from probe_fem.mesh.bars import series_bar
from probe_fem.mesh.core import MICRON
from probe_fem.model.dynamics import thermal_system
from probe_fem.model.steady import solve_steady
from probe_fem.physics import conduction as steady
from probe_fem.physics import frequency, modulation, transient


def bar_system(segments_um, k, rho_c, size_um=0.35):
    mesh, seg = series_bar(segments_um, size_um=size_um)
    prob = steady.assemble(mesh, np.asarray(k, float)[seg], 1e-6, sensor="sensor")
    M = transient.capacity_matrix(prob, np.asarray(rho_c, float)[seg])
    return transient.ThermalSystem.of(prob, M)


@pytest.fixture(scope="module")
def uniform_bar():
    return bar_system([20.0], [100.0], [2e6])


def test_slowest_mode_of_bar_fixed_insulated(uniform_bar):
    L, k, rc = 20 * MICRON, 100.0, 2e6
    tau = transient.modes(uniform_bar, 3).tau
    assert tau[0] == pytest.approx(4 * L**2 * rc / (np.pi**2 * k), rel=1e-2)
    assert tau[1] == pytest.approx(tau[0] / 9, rel=2e-2)  # second odd harmonic: (3π/2L)² k/ρc


def test_two_material_bar_against_its_eigenvalue_equation():
    a, b = 8 * MICRON, 12 * MICRON
    k1, c1, k2, c2 = 100.0, 2e6, 10.0, 3e6
    ts = bar_system([8.0, 12.0], [k1, k2], [c1, c2])

    def g(lam):  # k1 β1 cot(β1 a) = k2 β2 tan(β2 b), multiplied through by sin·cos
        b1, b2 = np.sqrt(lam * c1 / k1), np.sqrt(lam * c2 / k2)
        return k1 * b1 * np.cos(b1 * a) * np.cos(b2 * b) - k2 * b2 * np.sin(b1 * a) * np.sin(b2 * b)

    grid = np.geomspace(1e2, 1e9, 4000)
    i = np.flatnonzero(np.sign(g(grid[:-1])) != np.sign(g(grid[1:])))[0]
    lam1 = brentq(g, grid[i], grid[i + 1], xtol=1e-6)
    assert transient.modes(ts, 2).tau[0] == pytest.approx(1 / lam1, rel=1e-2)


def test_bar_frequency_response(uniform_bar):
    ts = uniform_bar
    tau1 = transient.modes(ts, 1).tau[0]
    rom = frequency.reduced_model(ts, np.geomspace(0.3 / tau1, 1e3 / tau1, 8))
    f = np.geomspace(1e-3, 1e3, 200) / tau1
    mag = np.abs(rom.H(2 * np.pi * f))
    assert rom.H(0.0)[0].real == pytest.approx(ts.R_P, rel=1e-9)
    assert np.all(np.diff(mag) < 0)
    chk = frequency.verify(ts, rom, np.array([0.1, 1, 10, 100]) / tau1)
    assert chk.max_error < 1e-3


def test_modulation_closed_form_matches_time_stepping(uniform_bar):
    """Phase averages from the pole-residue closed form against BDF2 over ten periods (second method)."""
    ts = uniform_bar
    tau1 = transient.modes(ts, 1).tau[0]
    rom = frequency.reduced_model(ts, np.geomspace(0.3 / tau1, 1e4 / tau1, 10))
    wave = modulation.Waveform(levels=(1.0, 0.0, 0.6))
    freq = 1 / (12 * tau1)  # phases of 4 τ1: far from quasi-static
    n = 400  # steps per phase
    dt = 1 / freq / 3 / n
    q = np.tile(np.repeat(wave.levels, n), 10)
    tc, _ = transient.simulate(ts, q, dt)
    last = tc[-3 * n - 1 :]  # value at the start of the last period, then its 3n steps
    stepped = [np.trapezoid(last[p * n : (p + 1) * n + 1]) / n for p in range(3)]
    closed = modulation.phase_averages(rom, wave, freq)
    assert np.allclose(stepped, closed, rtol=0, atol=2e-3 * ts.R_P)
    assert abs(closed[2] - closed[1] - ts.R_P * 0.6) > 0.05 * ts.R_P  # the lag is visible here


def test_step_response_tends_to_steady_R_P(tiny_model, tiny_dynamics):
    steady_report, _ = solve_steady(tiny_model)
    s = tiny_dynamics.step
    assert s.tc[-1] == pytest.approx(steady_report.R_P, rel=1e-3)
    assert s.apex[-1] == pytest.approx(steady_report.R_apex, rel=1e-3)
    # a heat step never makes the junction cooler: consistent-mass P1 undershoots a little in the
    # first nanoseconds (dt far below h²/α), bounded here (−0.18 % of R_P on this mesh and −0.17 % at
    # refine 0.5 with the resolved tip legs, whose thin stripes are the first to warm); after t10 the
    # rise is monotone
    assert s.tc.min() > -3e-3 * s.R_P
    late = s.t >= tiny_dynamics.t10
    assert np.all(np.diff(s.tc[late]) > -1e-6 * s.R_P)  # BDF2 may overshoot by ~1e-8 at large steps
    assert tiny_dynamics.t10 < tiny_dynamics.t63 < tiny_dynamics.t90
    assert tiny_dynamics.step_rom_error < 2e-3  # BDF2 against the independent reduced model


def test_reduced_model_against_direct_solves_and_modes(tiny_dynamics):
    d = tiny_dynamics
    assert d.check.max_error < 1e-3
    assert d.rom.dc == pytest.approx(d.system.R_P, rel=1e-9)
    assert 1 / d.rom.lam.min() == pytest.approx(d.modes.tau[0], rel=1e-6)
    assert 0 < d.modes.weight_tc.sum() <= 1 + 1e-9
    assert abs(d.rom.H(2 * np.pi * np.array([d.f_3dB]))[0]) == pytest.approx(d.system.R_P / np.sqrt(2), rel=1e-6)


def test_modulation_error_small_far_below_and_large_far_above(tiny_dynamics):
    rom = tiny_dynamics.rom
    tau = tiny_dynamics.modes.tau[0]
    wave = modulation.Waveform()
    low, high = 1e-4 / tau, 1.0 / tau
    assert modulation.worst_error(rom, wave, low) < 1e-3
    assert modulation.worst_error(rom, wave, high) > 0.1
    # low-frequency limit: each phase loses the step's lag area, mean_delay · ΔQ, out of its length
    d = rom.mean_delay
    expected_minus = 3 * low * d * (wave.levels[0] + wave.levels[2]) / wave.levels[2]
    assert modulation.demodulation_error(rom, wave, low)["-V"] == pytest.approx(expected_minus, rel=0.05)
    f_max = modulation.max_frequency(rom, wave, 1e-3)
    assert modulation.worst_error(rom, wave, 0.99 * f_max) < 1e-3 < modulation.worst_error(rom, wave, 1.01 * f_max)


def test_capacity_matrix_holds_total_heat_capacity(tiny_model):
    from probe_fem.model.dynamics import heat_capacity

    M = transient.capacity_matrix(tiny_model.problem, heat_capacity(tiny_model))
    vol = steady.element_volumes(tiny_model.probe.mesh)
    assert M.sum() == pytest.approx(np.sum(vol * heat_capacity(tiny_model)), rel=1e-10)
    assert thermal_system(tiny_model).K.shape == thermal_system(tiny_model).M.shape
