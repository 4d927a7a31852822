"""Figures of the dynamics: step response at the thermocouple and apex, Bode plot of ΔT_TC/Q_P."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from probe_fem.model.dynamics import DynamicReport
from probe_fem.plots.base import PLOT_MARGINS, new_figure, save_figure


def figure_step(report: DynamicReport, title: str = "") -> Figure:
    """Normalised step response at the thermocouple and the apex (reduced model; BDF2 dots when computed)."""
    rom = report.rom
    fig, ax = new_figure((7, 4), margins=PLOT_MARGINS)
    times = np.geomspace(1e-3 / rom.lam.max(), 30 / rom.lam.min(), 400)
    apex_final = float((rom.r_apex / rom.lam).sum()) if rom.r_apex is not None else None
    ax.semilogx(times * 1e6, rom.step(times) / rom.dc, lw=2, label="thermocouple (reduced model)")
    if apex_final is not None:
        ax.semilogx(times * 1e6, rom.step(times, "apex") / apex_final, lw=2, label="apex (reduced model)")
    s = report.step
    if s is not None:
        k = slice(1, None, max(1, (s.t.size - 1) // 60))
        ax.semilogx(s.t[k] * 1e6, s.tc[k] / s.R_P, "k.", ms=3, label="thermocouple (BDF2, full model)")
    for frac, t in ((0.1, report.t10), (1 - np.exp(-1), report.t63), (0.9, report.t90)):
        ax.plot(t * 1e6, frac, "o", color="C3")
        ax.annotate(f" t{round(frac * 100)} = {t * 1e6:.3g} µs", (t * 1e6, frac), fontsize=8, va="top")
    ax.set_xlabel("time after a heat step at the apex (µs)")
    ax.set_ylabel("ΔT / ΔT(∞)")
    ax.set_title(title or f"step response (dominant τ = {report.modes.tau[report.modes.dominant] * 1e6:.3g} µs)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_step(report: DynamicReport, target: str | Path, title: str = "") -> Path:
    """:func:`figure_step` written to ``target`` (PNG)."""
    return save_figure(figure_step(report, title), target)


def figure_bode(report: DynamicReport) -> Figure:
    """|H| and phase of ΔT_TC/Q_P, reduced model with direct-solve checks, f_−3dB and the modulation frequency."""
    f3 = report.f_3dB
    f = np.geomspace(min(1.0, report.verdict.frequency / 10), report.check.freq.max(), 400)  # the verified range
    H = report.rom.H(2 * np.pi * f)
    fig, (a1, a2) = new_figure((7, 6), 2, 1, margins=(0.95, 0.6, 0.15, 0.15), sharex=True)
    a1.loglog(f, np.abs(H), lw=2, label="reduced model")
    a1.loglog(report.check.freq, np.abs(report.check.direct), "o", color="C3", label="direct complex solves")
    a1.axvline(f3, color="0.5", ls=":", label=f"f−3dB = {f3 / 1e3:.3g} kHz")
    a1.axvline(report.verdict.frequency, color="C2", ls="--", label=f"modulation {report.verdict.frequency:g} Hz")
    a1.set_ylabel("|ΔT_TC / Q_P| (K/W)")
    a1.legend(fontsize=8)
    a1.grid(alpha=0.3, which="both")
    a2.semilogx(f, np.degrees(np.angle(H)), lw=2)
    a2.semilogx(report.check.freq, np.degrees(np.angle(report.check.direct)), "o", color="C3")
    a2.set_ylabel("phase (°)")
    a2.set_xlabel("frequency (Hz)")
    a2.grid(alpha=0.3, which="both")
    return fig


def plot_bode(report: DynamicReport, target: str | Path) -> Path:
    """:func:`figure_bode` written to ``target`` (PNG)."""
    return save_figure(figure_bode(report), target)


def figure_compare(names: list[str], reports: list[DynamicReport]) -> Figure:
    """Step responses and |H| of several designs at the thermocouple, each normalised to its own R_P."""
    fig, (a1, a2) = new_figure((7, 6), 2, 1)
    for i, (name, d) in enumerate(zip(names, reports)):
        rom = d.rom
        t = np.geomspace(1e-3 / rom.lam.max(), 30 / rom.lam.min(), 400)
        a1.semilogx(t * 1e6, rom.step(t) / rom.dc, lw=2, color=f"C{i}", label=f"{name}: t63 = {d.t63 * 1e6:.3g} µs")
        f = np.geomspace(1.0, 1e3 * d.f_3dB, 400)
        a2.loglog(
            f, np.abs(rom.H(2 * np.pi * f)) / rom.dc, lw=2, color=f"C{i}", label=f"{name}: f−3dB = {d.f_3dB:.3g} Hz"
        )
    a1.set_xlabel("time after a heat step at the apex (µs)")
    a1.set_ylabel("ΔT_TC / ΔT_TC(∞)")
    a2.set_xlabel("frequency (Hz)")
    a2.set_ylabel("|H(f)| / R_P")
    for a in (a1, a2):
        a.grid(alpha=0.3, which="both")
        a.legend(fontsize=8)
    return fig


def plot_compare(names: list[str], reports: list[DynamicReport], target: str | Path) -> Path:
    """:func:`figure_compare` written to ``target`` (PNG)."""
    return save_figure(figure_compare(names, reports), target)
