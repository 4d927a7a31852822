"""Closed-form results that both the network (no FEM) and the substrate FEM use; SI units, no meshing."""

from __future__ import annotations

from probe_fem.errors import InputError


def spreading_resistance(k: float, a: float) -> float:
    """Constriction resistance 1/(4ka) (K/W) of an isothermal disk of radius a (m) on a half-space of k (W/(m·K))."""
    if k <= 0 or a <= 0:
        raise InputError(f"substrate k = {k} W/(m K), contact radius = {a} m: both must be > 0")
    return 1.0 / (4.0 * k * a)
