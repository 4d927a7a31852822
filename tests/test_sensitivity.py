"""Sampling, propagation and Sobol' indices against functions with known (analytic) answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from probe_fem.plots import studies as study_plots
from probe_fem.studies import sensitivity as sa
from probe_fem.studies.parameters import Parameter


# ---------------------------------------------------------------- Ishigami
def ishigami(X: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic S1 and ST of the Ishigami function with inputs uniform on [-π, π]."""
    pi4, pi8 = math.pi**4, math.pi**8
    V1 = 0.5 * (1 + b * pi4 / 5) ** 2
    V2 = a**2 / 8
    V13 = b**2 * pi8 * (1 / 18 - 1 / 50)
    V = V1 + V2 + V13
    return np.array([V1, V2, 0.0]) / V, np.array([V1 + V13, V2, V13]) / V


def test_sobol_indices_of_ishigami_match_the_analytic_values():
    S1, ST = ishigami_indices()
    assert S1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)  # the textbook values
    U = sa.saltelli(2**13, 3, seed=1)
    r = sa.sobol_indices(ishigami(-math.pi + 2 * math.pi * U), ["x1", "x2", "x3"], seed=1)
    assert r.S1 == pytest.approx(S1, abs=0.01)
    assert r.ST == pytest.approx(ST, abs=0.01)
    assert r.ranking() == [0, 1, 2]
    assert np.all(r.ST_conf < 0.05)


# ---------------------------------------------------------------- layered bar R = L/(k1 A1 + k2 A2)
A1, A2 = 0.5e-12, 30e-12  # m²: Au film 100 nm × 5 µm, SiN body 1.5 µm × 20 µm
BOUNDS = np.array([[14e-6, 22e-6], [120.0, 300.0], [1.5, 3.2]])  # L (m), k_Au, k_SiN (W/(m·K)), uniform


def bar(X: np.ndarray) -> np.ndarray:
    """Two-layer bar resistance, K/W."""
    return X[:, 0] / (X[:, 1] * A1 + X[:, 2] * A2)


def bar_indices() -> tuple[np.ndarray, np.ndarray, float, float]:
    """Exact S1, ST, mean and variance of the bar for independent uniform L, k1, k2.

    R = L·G with G = 1/(a k1 + b k2): the inner expectations of G and G² over one
    conductivity are closed-form logs and reciprocals; the outer ones are 1-D
    Gauss–Legendre integrals of smooth functions (exact to rounding).
    """
    (l0, l1), (p1, q1), (p2, q2) = BOUNDS
    a, b = A1, A2
    x, w = np.polynomial.legendre.leggauss(64)
    w = w / 2

    def nodes(lo, hi):
        return lo + (x + 1) / 2 * (hi - lo)

    k1, k2 = nodes(p1, q1), nodes(p2, q2)
    g1 = np.log((a * k1 + b * q2) / (a * k1 + b * p2)) / (b * (q2 - p2))  # E[G | k1]
    h1 = (1 / (a * k1 + b * p2) - 1 / (a * k1 + b * q2)) / (b * (q2 - p2))  # E[G² | k1]
    g2 = np.log((a * q1 + b * k2) / (a * p1 + b * k2)) / (a * (q1 - p1))  # E[G | k2]
    EG, EG2 = w @ g1, w @ h1
    EL, EL2 = (l0 + l1) / 2, (l0**2 + l0 * l1 + l1**2) / 3
    V = EL2 * EG2 - EL**2 * EG**2
    S1 = np.array([(EL2 - EL**2) * EG**2, EL**2 * (w @ g1**2 - EG**2), EL**2 * (w @ g2**2 - EG**2)]) / V
    ST = np.array([1 - EL**2 * (EG2 - EG**2) / V, EL2 * (EG2 - w @ g2**2) / V, EL2 * (EG2 - w @ g1**2) / V])
    return S1, ST, EL * EG, V


def to_bounds(U: np.ndarray) -> np.ndarray:
    return BOUNDS[:, 0] + U * (BOUNDS[:, 1] - BOUNDS[:, 0])


def test_exact_bar_indices_are_consistent():
    S1, ST, mean, var = bar_indices()
    X = to_bounds(sa.monte_carlo(400_000, 3, seed=3))
    R = bar(X)
    assert R.mean() == pytest.approx(mean, rel=2e-3)
    assert R.var() == pytest.approx(var, rel=1e-2)
    assert np.all(ST >= S1) and S1.sum() <= 1 <= ST.sum() + 1e-12
    assert np.all(S1 > 0.05)  # every input matters: a test that can tell them apart


def test_sobol_indices_of_the_layered_bar_match_the_exact_answer():
    S1, ST, _, _ = bar_indices()
    names = ["L", "k_Au", "k_SiN"]
    r = sa.sobol_indices(bar(to_bounds(sa.saltelli(2**13, 3, seed=5))), names, seed=5)
    assert r.S1 == pytest.approx(S1, abs=3e-3)  # a smooth function: the estimator is good to ~1e-4 here
    assert r.ST == pytest.approx(ST, abs=3e-3)
    assert [names[i] for i in r.ranking()] == [names[i] for i in np.argsort(-ST)]


def test_surrogate_sobol_from_32_points_matches_the_exact_answer():
    """The route a small Latin-hypercube study takes: 32 model runs, a response surface, then SALib."""
    S1, ST, _, _ = bar_indices()
    X = to_bounds(sa.latin_hypercube(32, 3, seed=11))
    r = sa.surrogate_sobol(X, bar(X), ["L", "k_Au", "k_SiN"], to_bounds, BOUNDS[:, 0], BOUNDS[:, 1], seed=11)
    assert r.quality["kind"] == "quadratic" and r.quality["loo_q2_log_output"] > 0.999
    assert r.S1 == pytest.approx(S1, abs=0.01)
    assert r.ST == pytest.approx(ST, abs=0.01)


def test_surrogate_refuses_too_few_points():
    X = to_bounds(sa.latin_hypercube(7, 3, seed=0))
    with pytest.raises(ValueError, match="too few"):
        sa.fit_surrogate(X, bar(X), BOUNDS[:, 0], BOUNDS[:, 1])


# ---------------------------------------------------------------- sampling and propagation
def test_latin_hypercube_puts_one_point_in_every_stratum():
    n, d = 50, 4
    U = sa.latin_hypercube(n, d, seed=2)
    assert U.shape == (n, d) and np.all((U > 0) & (U < 1))
    for j in range(d):
        assert sorted(np.floor(U[:, j] * n).astype(int)) == list(range(n))
    assert np.array_equal(U, sa.latin_hypercube(n, d, seed=2))  # reproducible by seed


def test_truncated_distributions_stay_in_bounds_and_have_the_right_moments():
    U = sa.latin_hypercube(4000, 1, seed=4)[:, 0]
    normal = Parameter(
        key="materials.sin_lpcvd.k_W_mK",
        path=(),
        base_value=2.5,
        distribution="normal",
        low=1.5,
        high=3.2,
        mean=2.5,
        std=0.4,
    )
    x = normal.ppf(U)
    assert x.min() >= 1.5 and x.max() <= 3.2
    assert x.mean() == pytest.approx(stats.truncnorm.mean(-2.5, 1.75, loc=2.5, scale=0.4), rel=1e-3)
    logn = Parameter(
        key="materials.sin_lpcvd.cp_J_kgK",
        path=(),
        base_value=730,
        distribution="lognormal",
        low=650,
        high=820,
        median=730,
        sigma_ln=0.05,
    )
    y = logn.ppf(U)
    assert y.min() >= 650 and y.max() <= 820
    assert np.median(y) == pytest.approx(730, rel=2e-3)
    assert np.log(y).std() == pytest.approx(
        stats.truncnorm.std(np.log(650 / 730) / 0.05, np.log(820 / 730) / 0.05, scale=0.05), rel=2e-2
    )


def test_latin_hypercube_propagation_of_the_bar_gives_its_exact_mean_and_spread():
    _, _, mean, var = bar_indices()
    R = bar(to_bounds(sa.latin_hypercube(20_000, 3, seed=8)))
    s = sa.summarize(R, [5, 50, 95])
    assert s.mean == pytest.approx(mean, rel=1e-3)  # stratified: the mean converges faster than 1/sqrt(n)
    assert s.std == pytest.approx(math.sqrt(var), rel=2e-2)  # ~4 standard errors of a sample std at n = 20,000
    assert s.percentiles[5] < s.percentiles[50] < s.percentiles[95]
    assert s.n == 20_000


def test_figures_are_written(tmp_path):
    X = to_bounds(sa.latin_hypercube(32, 3, seed=1))
    R = bar(X)
    r = sa.surrogate_sobol(X, R, ["L", "k_Au", "k_SiN"], to_bounds, BOUNDS[:, 0], BOUNDS[:, 1])
    files = [
        study_plots.plot_histograms({"R": (R, 1.0, "K/W")}, tmp_path / "h.png"),
        study_plots.plot_sensitivity({"R": r, "R again": r}, tmp_path / "s.png"),
        study_plots.plot_sweep(X[:5], ["L", "k_Au", "k_SiN"], {"R": (R[:5], 1.0, "K/W")}, tmp_path / "w.png"),
    ]
    for f in files:
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f.stat().st_size > 5000
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]
