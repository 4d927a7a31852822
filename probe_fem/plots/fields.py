"""Figures of the steady field: temperature along the heat path, mesh convergence of R_P."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from probe_fem import paper
from probe_fem.errors import InputError
from probe_fem.mesh.core import MICRON
from probe_fem.mesh.planform import v_arms
from probe_fem.model.convergence import ConvergenceStudy
from probe_fem.model.steady import ProbeModel
from probe_fem.plots.base import PLOT_MARGINS, new_figure, save_figure


def heat_path(model: ProbeModel, n: int = 300) -> tuple[np.ndarray, np.ndarray, float]:
    """Points (3×n, m) along the electrode's mid-plane: root → tip base (y = 0; on a v body along the
    +y arm) → up the face → apex.

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
    if d.body.planform == "v":  # along the +y arm's centreline, then across the end plate
        x_plate, y_end, y_root = v_arms(d, 1 / MICRON)
        knots = np.array([[1e-3, y_root], [x_plate, y_end], [x_corner, 0.0]])
    else:
        knots = np.array([[1e-3, 0.0], [x_corner, 0.0]])
    flat_len = float(np.sum(np.linalg.norm(np.diff(knots, axis=0), axis=1)))
    n1 = int(n * flat_len / (flat_len + np.linalg.norm(top - corner)))
    cum = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(knots, axis=0), axis=1))])
    u = np.linspace(0, flat_len, n1, endpoint=False)
    xy = np.column_stack([np.interp(u, cum, knots[:, 0]), np.interp(u, cum, knots[:, 1])])
    flat = np.stack([xy[:, 0], xy[:, 1], np.full(n1, z_flat)])
    up = corner[:, None] + (top - corner)[:, None] * np.linspace(0, 1, n - n1)[None, :]
    pts = np.hstack([flat, up])
    s = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(pts, axis=1), axis=0))])
    return pts * MICRON, s * MICRON, flat_len * MICRON


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
            raise InputError(f"point {pts[:, i]} m lies outside the mesh")
    return out


def figure_heat_path(model: ProbeModel, T: np.ndarray, title: str = "") -> Figure:
    """ΔT per watt along the electrode from the heat sink to the apex, with the junction level marked."""
    pts, s, s_base = heat_path(model)
    dT = point_values(model.probe.mesh.skfem, T, pts) / model.problem.power
    tc = model.problem.sensor @ T / model.problem.power
    fig, ax = new_figure((7, 4), margins=PLOT_MARGINS)
    ax.plot(s / MICRON, dT / 1e3, lw=2, label="electrode mid-plane")
    ax.axvline(s_base / MICRON, color="0.6", ls=":", label="tip base")
    ax.axhline(tc / 1e3, color="C3", ls="--", label=f"thermocouple junction mean: R_P = {tc:,.0f} K/W")
    ax.set_xlabel("path from heat sink along body, then up the tip face (µm)")
    ax.set_ylabel("ΔT / Q  (10³ K/W)")
    ax.set_title(title or f"{model.design.name}: steady temperature along the heat path")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_heat_path(model: ProbeModel, T: np.ndarray, target: str | Path, title: str = "") -> Path:
    """:func:`figure_heat_path` written to ``target`` (PNG)."""
    return save_figure(figure_heat_path(model, T, title), target)


def figure_convergence(study: ConvergenceStudy) -> Figure:
    """R_P against DOFs, with the Richardson value."""
    dofs = [r.dofs for r in study.reports]
    fig, ax = new_figure((6, 4))
    ax.semilogx(dofs, study.values, "o-", label="FEM")
    if study.extrapolated is not None:
        ax.axhline(
            study.extrapolated,
            color="C2",
            ls="--",
            label=f"Richardson {study.extrapolated:,.0f} K/W (order {study.order:.2f})",
        )
    R, u = paper.R_P_K_PER_W, paper.R_P_UNCERTAINTY_K_PER_W
    ax.axhspan(R - u, R + u, color="C1", alpha=0.2, label=f"published {R:,.0f} ± {u:,.0f} K/W")
    ax.set_xlabel("degrees of freedom")
    ax.set_ylabel("R_P (K/W)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_convergence(study: ConvergenceStudy, target: str | Path) -> Path:
    """:func:`figure_convergence` written to ``target`` (PNG)."""
    return save_figure(figure_convergence(study), target)
