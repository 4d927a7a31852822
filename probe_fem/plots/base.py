"""Figures without pyplot: no global state, and the user's matplotlib backend is never changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from probe_fem.io import atomic_path


def new_figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[Figure, Any]:
    """A stand-alone :class:`~matplotlib.figure.Figure` and its axes (as ``plt.subplots`` would return)."""
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots(nrows, ncols, **kw)


def save_figure(fig: Figure, target: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` as PNG to ``target`` atomically; return the path."""
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    return Path(target)
