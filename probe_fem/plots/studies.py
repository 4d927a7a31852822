"""Figures of a study: histograms of the propagated outputs, Sobol' sensitivity bars, sweep curves, pressure sweeps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from probe_fem.model.environment import LABELS
from probe_fem.plots.base import new_figure, save_figure
from probe_fem.studies.environment import PressureSweep
from probe_fem.studies.sensitivity import SobolResult

_DPI = 120  # as the study figures always were


def figure_histograms(columns: dict[str, tuple[np.ndarray, float, str]], bins: int = 20, title: str = "") -> Figure:
    """One histogram per output: ``columns[label] = (values, scale, unit)``; values × scale are plotted."""
    fig, axes = new_figure((4.2 * len(columns), 3.6), 1, len(columns), squeeze=False)
    for ax, (label, (x, scale, unit)) in zip(axes[0], columns.items()):
        v = x[np.isfinite(x)] * scale
        ax.hist(v, bins=bins, color="#4477aa", edgecolor="white")
        m, sd = v.mean(), v.std(ddof=1) if v.size > 1 else 0.0
        ax.axvline(m, color="k", lw=1.2, label=f"mean {m:.4g}")
        for q in np.percentile(v, [5, 95]):
            ax.axvline(q, color="k", lw=0.8, ls="--")
        ax.set_xlabel(f"{label} ({unit})")
        ax.set_ylabel("points")
        ax.set_title(f"mean {m:.4g}, std {sd:.3g} {unit}", fontsize=9)
    axes[0][0].legend(fontsize=8, title="dashed: 5 / 95 %", title_fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_histograms(
    columns: dict[str, tuple[np.ndarray, float, str]], target: str | Path, bins: int = 20, title: str = ""
) -> Path:
    """:func:`figure_histograms` written to ``target`` (PNG)."""
    return save_figure(figure_histograms(columns, bins, title), target, dpi=_DPI)


def figure_sensitivity(results: dict[str, SobolResult], title: str = "") -> Figure:
    """Tornado-style horizontal bars of ST (and S1) per input, sorted by ST, one panel per output."""
    n_in = len(next(iter(results.values())).names)
    fig, axes = new_figure((4.8 * len(results), 0.5 * n_in + 1.8), 1, len(results), squeeze=False)
    for ax, (label, r) in zip(axes[0], results.items()):
        order = r.ranking()[::-1]
        ypos = np.arange(len(order))
        ax.barh(ypos + 0.2, r.ST[order], height=0.4, xerr=r.ST_conf[order], color="#cc6677", label="total ST")
        ax.barh(ypos - 0.2, r.S1[order], height=0.4, xerr=r.S1_conf[order], color="#4477aa", label="first order S1")
        ax.set_yticks(ypos, [r.names[i] for i in order], fontsize=8)
        ax.set_xlim(min(0.0, float(np.min(r.S1)) - 0.05), 1.05)
        ax.set_xlabel("Sobol' index")
        ax.set_title(label, fontsize=10)
    axes[0][0].legend(fontsize=8, loc="lower right")
    method = next(iter(results.values())).method
    fig.suptitle((title + "\n" if title else "") + method, fontsize=9)
    return fig


def plot_sensitivity(results: dict[str, SobolResult], target: str | Path, title: str = "") -> Path:
    """:func:`figure_sensitivity` written to ``target`` (PNG)."""
    return save_figure(figure_sensitivity(results, title), target, dpi=_DPI)


def figure_sweep(
    X: np.ndarray, names: list[str], outputs: dict[str, tuple[np.ndarray, float, str]], title: str = ""
) -> Figure:
    """Sweep curves: each output against each parameter; points that share the other
    parameters' values are joined (one curve per combination of the others)."""
    d = len(names)
    fig, axes = new_figure((4.0 * d, 3.0 * len(outputs)), len(outputs), d, squeeze=False)
    for j, name in enumerate(names):
        others = [i for i in range(d) if i != j]
        groups: dict[tuple, list[int]] = {}
        for i, row in enumerate(X):
            groups.setdefault(tuple(row[others]), []).append(i)
        for r, (label, (y, scale, unit)) in enumerate(outputs.items()):
            ax = axes[r][j]
            for g, idx in groups.items():
                idx = sorted(idx, key=lambda i: X[i, j])
                lab = ", ".join(f"{names[o]}={v:g}" for o, v in zip(others, g)) if len(groups) <= 6 else None
                ax.plot(X[idx, j], y[idx] * scale, "o-", ms=3, lw=1, label=lab)
            ax.set_xlabel(name)
            ax.set_ylabel(f"{label} ({unit})")
            if r == 0 and 1 < len(groups) <= 6:
                ax.legend(fontsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_sweep(
    X: np.ndarray,
    names: list[str],
    outputs: dict[str, tuple[np.ndarray, float, str]],
    target: str | Path,
    title: str = "",
) -> Path:
    """:func:`figure_sweep` written to ``target`` (PNG)."""
    return save_figure(figure_sweep(X, names, outputs, title), target, dpi=_DPI)


def figure_pressure_sweep(sweep: PressureSweep) -> Figure:
    """R_P relative to UHV and τ₁ (top), and the share of the apex heat per path (bottom), against pressure."""
    p = np.array([pt.pressure_Pa for pt in sweep.points])
    fig, (top, bottom) = new_figure((6.4, 5.6), 2, 1, sharex=True)
    top.semilogx(p, [100 * sweep.change(pt) for pt in sweep.points], "o-", label="R_P − R_P,UHV (%)")
    top.semilogx(p, [100 * (pt.tau1_s / sweep.uhv.tau1_s - 1) for pt in sweep.points], "s--", label="τ₁ − τ₁,UHV (%)")
    if sweep.good_vacuum_Pa is not None:
        top.axvline(sweep.good_vacuum_Pa, color="grey", lw=0.8)
        top.annotate(f" {sweep.tolerance:.1%} at {sweep.good_vacuum_Pa:.3g} Pa", (sweep.good_vacuum_Pa, 0), fontsize=8)
    top.set_ylabel("change from UHV (%)")
    top.legend(fontsize=8)
    top.set_title(f"{sweep.design}: R_P,UHV = {sweep.uhv.R_P:,.0f} K/W, τ₁,UHV = {sweep.uhv.tau1_s * 1e6:.3g} µs")
    for name in sweep.points[0].shares:
        bottom.loglog(p, [max(pt.shares[name], 1e-9) for pt in sweep.points], "o-", label=LABELS.get(name, name))
    bottom.set_xlabel("pressure (Pa)")
    bottom.set_ylabel("share of the apex heat")
    bottom.set_ylim(1e-7, 1.5)
    bottom.legend(fontsize=8)
    return fig


def plot_pressure_sweep(sweep: PressureSweep, target: str | Path) -> Path:
    """:func:`figure_pressure_sweep` as a PNG."""
    return save_figure(figure_pressure_sweep(sweep), target)
