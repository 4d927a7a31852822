"""probe-fem's Brent root finder returns the very floats scipy.optimize.brentq returns."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq as scipy_brentq

from probe_fem.physics.roots import brentq

CASES = [
    (lambda x: x**3 - 2 * x - 5, 2.0, 3.0, 1e-12),
    (lambda x: math.cos(x) - x, 0.0, 1.0, 1e-10),
    (lambda x: math.exp(x) - 1e3, 0.0, 10.0, 1e-9),
    (lambda x: math.atan(1e4 * (x - 0.3)), -1.0, 1.0, 2e-12),
    (lambda x: math.tanh(x - 0.3) + 0.1 * x, -1.0, 1.3, 1e-12),
]


@pytest.mark.parametrize("f,a,b,xtol", CASES)
def test_same_roots_as_scipy(f, a, b, xtol):
    assert brentq(f, a, b, xtol=xtol) == scipy_brentq(f, a, b, xtol=xtol)


def test_pole_residue_figures_use_it(tiny_dynamics):
    rom = tiny_dynamics.rom
    target = rom.dc / np.sqrt(2)
    lo, hi = np.log(rom.lam.min() * 1e-3), np.log(rom.lam.max() * 1e3)
    ref = np.exp(scipy_brentq(lambda lw: abs(rom.H(np.exp(lw))[0]) - target, lo, hi, xtol=1e-10)) / (2 * np.pi)
    assert rom.f_3dB() == ref


def test_no_sign_change_is_an_error():
    with pytest.raises(ValueError, match="different signs"):
        brentq(lambda x: x**2 + 1, -1.0, 1.0)
