"""Brent's root bracketing, as scipy.optimize.brentq computes it, without importing scipy.optimize.

Importing scipy.optimize (linear programming, minimisers, its array-API docstrings) took ~0.3-0.4 s
of every ``probe-fem`` start-up; the figures need only this one scalar root finder.  The steps are
those of scipy's ``brentq.c`` (inverse quadratic interpolation or secant, else bisection), so the
roots are the same floating-point numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable

RTOL = 4 * 2.220446049250313e-16  # scipy's default: 4 machine epsilons


def brentq(
    f: Callable[[float], float], a: float, b: float, xtol: float = 2e-12, rtol: float = RTOL, maxiter: int = 100
) -> float:
    """A root of ``f`` in [a, b] (f(a), f(b) of opposite signs) to within xtol + rtol·|x| (units of x)."""
    xpre, xcur = float(a), float(b)
    fpre, fcur = float(f(xpre)), float(f(xcur))
    if math.copysign(1, fpre) == math.copysign(1, fcur) and fpre != 0 and fcur != 0:
        raise ValueError("f(a) and f(b) must have different signs")
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    xblk = fblk = spre = scur = 0.0
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and math.copysign(1, fpre) != math.copysign(1, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate (secant)
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # extrapolate (inverse quadratic)
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):  # good short step
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = float(f(xcur))
    raise RuntimeError(f"brentq: no convergence in {maxiter} iterations")
