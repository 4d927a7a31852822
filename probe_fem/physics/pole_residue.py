"""A thermal transfer function as a sum of first-order relaxations, H(s) = Σ r_j/(λ_j + s) (K/W).

Light on purpose (numpy and scipy.optimize only): a calibration file carries these poles and
residues, so planning and analysis use the probe's dynamics without any FEM library.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PoleResidue:
    """H(s) = Σ r_j / (λ_j + s) in K/W; λ in 1/s.  ``r`` for the thermocouple, ``r_apex`` for the apex."""

    lam: np.ndarray
    r: np.ndarray
    r_apex: np.ndarray | None = None
    dim: int = 0
    seconds: float = 0.0

    def _residues(self, which: str) -> np.ndarray:
        if which == "tc":
            return self.r
        if self.r_apex is None:
            raise ValueError("this model has residues at the thermocouple only")
        return self.r_apex

    def H(self, omega: np.ndarray, which: str = "tc") -> np.ndarray:
        """Complex transfer function at angular frequency ω (rad/s), K/W."""
        r = self._residues(which)
        s = 1j * np.atleast_1d(np.asarray(omega, dtype=float))
        return (r[None, :] / (self.lam[None, :] + s[:, None])).sum(axis=1)

    def step(self, t: np.ndarray, which: str = "tc") -> np.ndarray:
        """Rise per watt (K/W) after a unit heat step at t = 0."""
        r = self._residues(which)
        t = np.atleast_1d(np.asarray(t, dtype=float))
        return (r / self.lam * -np.expm1(-np.outer(t, self.lam))).sum(axis=1)

    @property
    def dc(self) -> float:
        return float((self.r / self.lam).sum())

    def f_3dB(self) -> float:
        """Frequency (Hz) where |H| falls to |H(0)|/√2 at the thermocouple."""
        from scipy.optimize import brentq  # imported on use: scipy.optimize takes ~0.3 s to load

        target = self.dc / np.sqrt(2)

        def g(lw: float) -> float:
            return float(abs(self.H(np.exp(lw))[0]) - target)

        lo, hi = np.log(self.lam.min() * 1e-3), np.log(self.lam.max() * 1e3)
        return float(np.exp(brentq(g, lo, hi, xtol=1e-10)) / (2 * np.pi))

    @property
    def mean_delay(self) -> float:
        """∫₀^∞ (1 − y(t)/y(∞)) dt for the thermocouple step (s): the area a step loses to the lag."""
        return float((self.r / self.lam**2).sum() / self.dc)

    def crossing(self, fraction: float, which: str = "tc") -> float:
        """First time (s) the step at the thermocouple (or ``"apex"``) reaches ``fraction`` of its final value."""
        from scipy.optimize import brentq  # imported on use: scipy.optimize takes ~0.3 s to load

        if not 0 < fraction < 1:
            raise ValueError(f"fraction = {fraction}: allowed (0, 1)")
        final = float((self._residues(which) / self.lam).sum())
        t = np.geomspace(1e-4 / self.lam.max(), 50 / self.lam.min(), 600)
        y = self.step(t, which) / final
        i = int(np.argmax(y >= fraction))
        if y[i] < fraction:
            raise ValueError(f"step response never reaches {fraction:.0%} within {t[-1]:g} s")
        if i == 0:
            return float(t[0])

        def g(lt: float) -> float:
            return float(self.step(np.exp(lt), which)[0] / final - fraction)

        return float(np.exp(brentq(g, np.log(t[i - 1]), np.log(t[i]), xtol=1e-12)))
