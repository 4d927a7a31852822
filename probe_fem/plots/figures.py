"""Figures: heat path, convergence, step response, Bode plot, dissipation (Fig. 2b layout).  Atomic PNG."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from probe_fem.model.convergence import ConvergenceStudy  # noqa: E402
from probe_fem.io import atomic_path  # noqa: E402
from probe_fem.mesh.core import MICRON  # noqa: E402
from probe_fem.model.steady import ProbeModel  # noqa: E402


def heat_path(model: ProbeModel, n: int = 300) -> tuple[np.ndarray, np.ndarray, float]:
    """Points (3×n, m) along the electrode's mid-plane: root → tip base (y = 0) → up the face → apex.

    Returns the points, their path coordinate (m) and the path coordinate of the tip base.
    """
    d, lay = model.design, model.probe.layout
    th = d.face_angle
    s_m = (lay.s[2] + lay.s[3]) / 2
    b0, h = d.tip.base_m / MICRON / 2, d.tip.height_m / MICRON
    z_flat = lay.z0 + s_m
    x_corner = lay.x_tip - (b0 + s_m * math.tan(th / 2))
    z_top = lay.z0 + h + s_m
    a0 = d.core_apex_half_width / MICRON
    corner = np.array([x_corner, 0, z_flat])
    top = np.array([lay.x_tip - (a0 + s_m * math.tan(th / 2)), 0, z_top])
    n1 = int(n * x_corner / (x_corner + np.linalg.norm(top - corner)))
    flat = np.stack([np.linspace(1e-3, x_corner, n1, endpoint=False), np.zeros(n1), np.full(n1, z_flat)])
    up = corner[:, None] + (top - corner)[:, None] * np.linspace(0, 1, n - n1)[None, :]
    pts = np.hstack([flat, up])
    s = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(pts, axis=1), axis=0))])
    return pts * MICRON, s * MICRON, x_corner * MICRON


def point_values(m, T: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """P1 field T at points (3×n): candidate tetrahedra from a KD-tree of centroids, then barycentrics.

    Flat film tetrahedra can have distant centroids, so the candidate set grows until a
    containing element is found.  (skfem's element finder is exact too, but ~20× slower here.)
    """
    from scipy.spatial import cKDTree

    X = m.p[:, m.t]  # 3 x 4 x ne
    tree = cKDTree(X.mean(axis=1).T)
    out = np.empty(pts.shape[1])
    for i in range(pts.shape[1]):
        for k in (32, 256, 2048, m.t.shape[1]):
            _, c = tree.query(pts[:, i], k=min(k, m.t.shape[1]))
            A = np.moveaxis(X[:, 1:, c] - X[:, :1, c], 2, 0)  # k x 3 x 3
            lam = np.linalg.solve(A, (pts[:, i, None] - X[:, 0, c]).T[..., None])[..., 0]
            bary = np.column_stack([1 - lam.sum(axis=1), lam])
            j = int(np.argmax(bary.min(axis=1)))
            if bary[j].min() >= -1e-9:
                out[i] = bary[j] @ T[m.t[:, c[j]]]
                break
        else:
            raise ValueError(f"point {pts[:, i]} m lies outside the mesh")
    return out


def plot_heat_path(model: ProbeModel, T: np.ndarray, target: str | Path, title: str = "") -> Path:
    """ΔT per watt along the electrode from the heat sink to the apex, with the junction level marked."""
    pts, s, s_base = heat_path(model)
    dT = point_values(model.probe.mesh.skfem, T, pts) / model.problem.power
    tc = model.problem.sensor @ T / model.problem.power
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(s / MICRON, dT / 1e3, lw=2, label="electrode mid-plane, y = 0")
    ax.axvline(s_base / MICRON, color="0.6", ls=":", label="tip base")
    ax.axhline(tc / 1e3, color="C3", ls="--", label=f"thermocouple junction mean: R_P = {tc:,.0f} K/W")
    ax.set_xlabel("path from heat sink along body, then up the tip face (µm)")
    ax.set_ylabel("ΔT / Q  (10³ K/W)")
    ax.set_title(title or f"{model.design.name}: steady temperature along the heat path")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, target)


def plot_convergence(study: ConvergenceStudy, target: str | Path) -> Path:
    """R_P against DOFs, with the Richardson value."""
    dofs = [r.dofs for r in study.reports]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogx(dofs, study.values, "o-", label="FEM")
    if study.extrapolated is not None:
        ax.axhline(study.extrapolated, color="C2", ls="--",
                   label=f"Richardson {study.extrapolated:,.0f} K/W (order {study.order:.2f})")
    ax.axhspan(72800 - 500, 72800 + 500, color="C1", alpha=0.2, label="published 72,800 ± 500 K/W")
    ax.set_xlabel("degrees of freedom")
    ax.set_ylabel("R_P (K/W)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, target)


def _save(fig, target: str | Path) -> Path:
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    return Path(target)


def plot_step(report, target: str | Path, title: str = "") -> Path:
    """Normalised step response at the thermocouple and the apex (BDF2, reduced model dashed)."""
    s = report.step
    fig, ax = plt.subplots(figsize=(7, 4))
    t_us = s.t[1:] * 1e6
    ax.semilogx(t_us, s.tc[1:] / s.R_P, lw=2, label="thermocouple (BDF2)")
    ax.semilogx(t_us, s.apex[1:] / s.R_apex, lw=2, label="apex (BDF2)")
    ax.semilogx(t_us, report.rom.step(s.t[1:]) / s.R_P, "k--", lw=1, label="thermocouple (reduced model)")
    for frac, t in ((0.1, report.t10), (1 - np.exp(-1), report.t63), (0.9, report.t90)):
        ax.plot(t * 1e6, frac, "o", color="C3")
        ax.annotate(f" t{round(frac * 100)} = {t * 1e6:.3g} µs", (t * 1e6, frac), fontsize=8, va="top")
    ax.set_xlabel("time after a heat step at the apex (µs)")
    ax.set_ylabel("ΔT / ΔT(∞)")
    ax.set_title(title or f"step response (dominant τ = {report.modes.tau[report.modes.dominant] * 1e6:.3g} µs)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, target)


def plot_bode(report, target: str | Path) -> Path:
    """|H| and phase of ΔT_TC/Q_P, reduced model with direct-solve checks, f_−3dB and the modulation frequency."""
    f3 = report.f_3dB
    f = np.geomspace(min(1.0, report.verdict.frequency / 10), report.check.freq.max(), 400)  # the verified range
    H = report.rom.H(2 * np.pi * f)
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
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
    return _save(fig, target)


def plot_dissipation(results, R_P: float, target: str | Path, junction=None, title: str = "") -> Path:
    """The paper's Fig. 2b layout: ΔT_TC,Avg and Q_P,Avg against Q_Total,Avg for ±V, symmetric line, model."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    q_max = 0.0
    for sign, marker, label in ((0, "o", "positive bias"), (1, "^", "negative bias")):
        r = [pair[sign] for pair in results]
        qt = np.array([x.Q_total for x in r])
        q_max = max(q_max, qt.max())
        ax.errorbar(qt * 1e9, [x.dT * 1e3 for x in r], yerr=[x.u_dT * 1e3 for x in r], fmt=marker,
                    color=f"C{sign}", capsize=3, label=f"measured, {label}")
    line = np.linspace(0, q_max * 1.1, 50)
    ax.plot(line * 1e9, line / 2 * R_P * 1e3, "k:", label="symmetric: Q_P = Q_total / 2")
    if junction is not None:
        vmax = max(abs(p.V_M) for pair in results for p in pair)
        v = np.linspace(vmax / 50, vmax * 1.05, 40)
        for sign, s in ((0, 1), (1, -1)):
            c = junction.currents(s * v)
            ax.plot(c["Q_total"] * 1e9, c["Q_P"] * R_P * 1e3, "-", color=f"C{sign}", lw=1,
                    label=f"Landauer, {'positive' if s > 0 else 'negative'} bias")
    ax.set_xlabel("Q_Total,Avg (nW)")
    ax.set_ylabel("ΔT_TC,Avg (mK)")
    right = ax.secondary_yaxis("right", functions=(lambda t: t * 1e-3 / R_P * 1e9, lambda q: q * 1e-9 * R_P * 1e3))
    right.set_ylabel("Q_P,Avg (nW)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, target)
