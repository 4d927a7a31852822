"""Figure of the dissipation analysis: the paper's Fig. 2b layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from probe_fem.analysis.demodulation import PhaseResult
from probe_fem.analysis.junction_data import JunctionData
from probe_fem.analysis.junction_fit import JunctionFit
from probe_fem.analysis.landauer import Junction
from probe_fem.analysis.plan import Plan
from probe_fem.analysis.resistive import ResistivePlan
from probe_fem.plots.base import new_figure, save_figure


def figure_dissipation(
    results: list[tuple[PhaseResult, PhaseResult]], R_P: float, junction: Junction | None = None, title: str = ""
) -> Figure:
    """The paper's Fig. 2b layout: ΔT_TC,Avg and Q_P,Avg against Q_Total,Avg for ±V, symmetric line, model."""
    fig, ax = new_figure((6.5, 4.5))
    q_max = 0.0
    for sign, marker, label in ((0, "o", "positive bias"), (1, "^", "negative bias")):
        r = [pair[sign] for pair in results]
        qt = np.array([x.Q_total for x in r])
        q_max = max(q_max, qt.max())
        ax.errorbar(
            qt * 1e9,
            [x.dT * 1e3 for x in r],
            yerr=[x.u_dT * 1e3 for x in r],
            fmt=marker,
            color=f"C{sign}",
            capsize=3,
            label=f"measured, {label}",
        )
    line = np.linspace(0, q_max * 1.1, 50)
    ax.plot(line * 1e9, line / 2 * R_P * 1e3, "k:", label="symmetric: Q_P = Q_total / 2")
    if junction is not None:
        vmax = max(abs(p.V_M) for pair in results for p in pair)
        v = np.linspace(vmax / 50, vmax * 1.05, 40)
        for sign, s in ((0, 1), (1, -1)):
            c = junction.currents(s * v)
            ax.plot(
                c["Q_total"] * 1e9,
                c["Q_P"] * R_P * 1e3,
                "-",
                color=f"C{sign}",
                lw=1,
                label=f"Landauer, {'positive' if s > 0 else 'negative'} bias",
            )
    ax.set_xlabel("Q_Total,Avg (nW)")
    ax.set_ylabel("ΔT_TC,Avg (mK)")
    right = ax.secondary_yaxis("right", functions=(lambda t: t * 1e-3 / R_P * 1e9, lambda q: q * 1e-9 * R_P * 1e3))
    right.set_ylabel("Q_P,Avg (nW)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_dissipation(
    results: list[tuple[PhaseResult, PhaseResult]],
    R_P: float,
    target: str | Path,
    junction: Junction | None = None,
    title: str = "",
) -> Path:
    """:func:`figure_dissipation` written to ``target`` (PNG)."""
    return save_figure(figure_dissipation(results, R_P, junction, title), target)


def figure_plan(p: Plan) -> Figure:
    """σ(Q_P) pooled and the lag bias of Q_P(±) against the modulation frequency, optimum and plateau marked."""
    fig, ax = new_figure((7, 4.5))
    f = p.frequencies_Hz
    ax.loglog(f, p.sigma_Q_pooled_W * 1e9, lw=2, label="σ(Q_P) pooled (noise)")
    q = min(p.q_plus_W, p.q_minus_W)
    for key, style in (("+V", "--"), ("-V", ":")):
        bias = np.abs(p.lag[key]) * (p.q_plus_W if key == "+V" else p.q_minus_W)
        ax.loglog(f, np.maximum(bias, 1e-30) * 1e9, style, color="C3", label=f"|lag bias| Q_P({key[0]}V)")
    lo, hi = p.plateau_Hz
    ax.axvspan(lo, hi, color="C2", alpha=0.15, label=f"plateau {lo:.3g}–{hi:.3g} Hz")
    ax.axvline(p.optimal_frequency_Hz, color="C2", label=f"optimum {p.optimal_frequency_Hz:.3g} Hz")
    ax.axvline(p.chosen_Hz, color="k", ls="--", lw=1, label=f"judged {p.chosen_Hz:g} Hz")
    top = float(np.max(p.sigma_Q_pooled_W)) * 1e9
    ax.set_ylim(min(float(np.min(p.sigma_Q_pooled_W)) * 1e9 / 100, q * 1e9 * 1e-6), top * 3)
    ax.set_xlabel("modulation frequency (Hz)")
    ax.set_ylabel("Q_P (nW)")
    ax.set_title(
        f"{p.acquisition.sequence}: {p.acquisition.seconds_per_junction:g} s × {p.acquisition.junctions} "
        f"junctions, dead time {p.acquisition.dead_time_s * 1e3:.3g} ms"
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def plot_plan(p: Plan, target: str | Path) -> Path:
    """:func:`figure_plan` written to ``target`` (PNG)."""
    return save_figure(figure_plan(p), target)


def figure_resistive_plan(p: ResistivePlan) -> Figure:
    """A resistive probe's NEP and responsivity to heat at the tip against the modulation frequency."""
    fig, ax = new_figure((7, 4.5))
    f = p.frequencies_Hz
    ax.loglog(f, p.nep_W_per_rtHz * 1e9, lw=2, label="NEP (nW/√Hz)")
    ax.axvline(f[p.best], color="C2", label=f"lowest NEP at {f[p.best]:.3g} Hz")
    right = ax.twinx()
    right.loglog(f, p.responsivity_V_per_W, "--", color="C1", label="responsivity (V/W)")
    right.set_ylabel("responsivity (V/W)")
    ax.set_xlabel("modulation frequency of the tip heat (Hz)")
    ax.set_ylabel("NEP (nW/√Hz)")
    ax.set_title(
        f"{p.readout.readout} readout, I = {p.bias_A * 1e6:.3g} µA (self-heating {p.self_heating_K:.3g} K), "
        f"R_e = {p.R_e:.4g} Ω"
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left")
    right.legend(fontsize=8, loc="lower right")
    return fig


def plot_resistive_plan(p: ResistivePlan, target: str | Path) -> Path:
    """:func:`figure_resistive_plan` written to ``target`` (PNG)."""
    return save_figure(figure_resistive_plan(p), target)


def figure_junction_fit(data: JunctionData, fit: JunctionFit) -> Figure:
    """Q_P(±V) measured with the fit and its band, and the normalised residuals."""
    fig, (ax, res) = new_figure((7, 6), 2, 1, sharex=True, height_ratios=(3, 1))
    V, p = data.bias_V, fit.predictions
    for key, q, s, color, label in (
        ("Q_P_plus_W", data.q_plus_W, data.sigma_plus_W, "C0", "+V"),
        ("Q_P_minus_W", data.q_minus_W, data.sigma_minus_W, "C1", "−V"),
    ):
        m, b = np.array(p[key]["value"]), np.array(p[key]["sigma"])
        ax.errorbar(V, q * 1e9, yerr=s * 1e9, fmt="o", color=color, capsize=3, label=f"measured Q_P({label})")
        ax.plot(V, m * 1e9, "-", color=color, label=f"fit Q_P({label})")
        ax.fill_between(V, (m - b) * 1e9, (m + b) * 1e9, color=color, alpha=0.2)
        res.plot(V, (q - m) / s, "o", color=color)
    res.axhline(0, color="k", lw=0.8)
    res.set_ylabel("(data − fit)/σ")
    res.set_xlabel("bias amplitude V_M (V)")
    ax.set_ylabel("Q_P (nW)")
    ax.set_title(
        f"{fit.branch}: level {fit.values['level_eV']:+.3g} ± {fit.sigma['level_eV']:.2g} eV, "
        f"Γ {fit.values['gamma_eV']:.3g} eV, S {fit.seebeck_V_per_K * 1e6:+.3g} µV/K, "
        f"χ²/dof {fit.chi2:.3g}/{fit.dof}",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    res.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_junction_fit(data: JunctionData, fit: JunctionFit, target: str | Path) -> Path:
    """:func:`figure_junction_fit` written to ``target`` (PNG)."""
    return save_figure(figure_junction_fit(data, fit), target)
