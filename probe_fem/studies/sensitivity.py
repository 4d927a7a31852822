"""Uncertainty propagation and global sensitivity: sampling, statistics, Sobol' indices.

Samples live on the unit hypercube (probabilities in (0, 1)); a study maps
them to parameter values by each parameter's inverse CDF
(:meth:`probe_fem.studies.parameters.Parameter.ppf`), so Monte Carlo, Latin hypercube and
Saltelli samples share one transform.

Sobol' indices (first order S1, total ST) come from SALib:

* *direct* — Saltelli sampling (``N·(d+2)`` model runs) and SALib's estimator
  with bootstrap confidence intervals;
* *surrogate* — for a Monte Carlo / Latin hypercube study too small for the
  direct estimator: a quadratic response surface of log(output) in the
  standardised inputs (least squares; its leave-one-out predictive Q² is
  reported), then the direct estimator on 2¹³·(d+2) surrogate runs.  With few
  points the surface has no interaction terms, so S1 = ST; that is stated
  with the result.

The figures of a study (histograms, sensitivity bars, sweeps) are in
:mod:`probe_fem.plots.studies`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np


# ---------------------------------------------------------------- sampling
def monte_carlo(n: int, d: int, seed: int = 0) -> np.ndarray:
    """``n`` independent uniform points in (0, 1)^d."""
    return np.random.default_rng(seed).random((n, d))


def latin_hypercube(n: int, d: int, seed: int = 0) -> np.ndarray:
    """``n`` Latin-hypercube points in (0, 1)^d: each of the ``n`` equal strata of every axis holds one point
    (a random permutation of the strata per axis, a uniform position inside each stratum)."""
    rng = np.random.default_rng(seed)
    strata = np.column_stack([rng.permutation(n) for _ in range(d)]) if d else np.zeros((n, 0))
    return (strata + rng.random((n, d))) / n


def _problem(d: int, names: list[str] | None = None) -> dict:
    return {"num_vars": d, "names": names or [f"x{i + 1}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}


def saltelli(N: int, d: int, seed: int = 0) -> np.ndarray:
    """Saltelli's sampling for first- and total-order Sobol' indices: ``N·(d+2)`` points in (0, 1)^d.

    ``N`` must be a power of 2 (scrambled Sobol' sequence).
    """
    from SALib.sample import sobol as sobol_sample

    if N < 2 or N & (N - 1):
        raise ValueError(f"N = {N}: Sobol' sampling needs a power of 2")
    return sobol_sample.sample(_problem(d), N, calc_second_order=False, scramble=True, seed=seed)


# ---------------------------------------------------------------- statistics
@dataclass
class Summary:
    """Statistics of one output over the successful points (output units)."""

    n: int
    mean: float
    std: float  # sample standard deviation (ddof = 1)
    percentiles: dict[float, float]
    min: float
    max: float

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "percentiles": {f"p{p:g}": v for p, v in self.percentiles.items()},
        }


def summarize(x: np.ndarray, percentiles: Sequence[float] = (5.0, 50.0, 95.0)) -> Summary:
    """Mean, sample std, percentiles, min and max of the finite values of ``x``."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise ValueError("no finite values to summarise")
    return Summary(
        n=int(x.size),
        mean=float(x.mean()),
        std=float(x.std(ddof=1)) if x.size > 1 else 0.0,
        percentiles={float(p): float(np.percentile(x, p)) for p in percentiles},
        min=float(x.min()),
        max=float(x.max()),
    )


def rank_correlations(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of ``y`` with each column of ``X`` (finite rows only)."""
    from scipy.stats import spearmanr

    ok = np.isfinite(y)
    return np.array([spearmanr(X[ok, j], y[ok]).statistic for j in range(X.shape[1])])


# ---------------------------------------------------------------- Sobol'
@dataclass
class SobolResult:
    """First-order and total Sobol' indices per input (with 95 % bootstrap half-widths)."""

    names: list[str]
    S1: np.ndarray
    S1_conf: np.ndarray
    ST: np.ndarray
    ST_conf: np.ndarray
    method: str  # "direct (Saltelli, N = …)" or "surrogate (…)"
    quality: dict = field(default_factory=dict)  # surrogate: kind, terms, points, Q²

    def ranking(self) -> list[int]:
        """Input indices from the most to the least influential (by ST)."""
        return [int(i) for i in np.argsort(-self.ST)]

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            **({"surrogate": self.quality} if self.quality else {}),
            "inputs": {
                n: {"S1": float(a), "S1_conf95": float(b), "ST": float(c), "ST_conf95": float(d)}
                for n, a, b, c, d in zip(self.names, self.S1, self.S1_conf, self.ST, self.ST_conf)
            },
            "ranking_by_ST": [self.names[i] for i in self.ranking()],
        }


def sobol_indices(Y: np.ndarray, names: list[str], seed: int = 0, method: str | None = None) -> SobolResult:
    """Sobol' S1 and ST from outputs ``Y`` of a :func:`saltelli` sample (same order), by SALib."""
    from SALib.analyze import sobol

    d = len(names)
    Y = np.asarray(Y, float)
    if Y.size % (d + 2) or not np.all(np.isfinite(Y)):
        raise ValueError(
            f"need N·(d+2) finite outputs of a Saltelli sample (d = {d}); got {Y.size}, "
            f"{int(np.sum(~np.isfinite(Y)))} not finite"
        )
    si = sobol.analyze(_problem(d, names), Y, calc_second_order=False, seed=seed)
    return SobolResult(
        names=list(names),
        S1=np.asarray(si["S1"]),
        S1_conf=np.asarray(si["S1_conf"]),
        ST=np.asarray(si["ST"]),
        ST_conf=np.asarray(si["ST_conf"]),
        method=method or f"direct (Saltelli, N = {Y.size // (d + 2)})",
    )


@dataclass
class Surrogate:
    """Least-squares polynomial response surface y ≈ Σ cⱼ φⱼ(z), z = standardised inputs."""

    kind: str  # "quadratic", "additive quadratic", "linear"
    center: np.ndarray
    scale: np.ndarray
    terms: list[tuple[int, ...]]
    coef: np.ndarray
    q2: float  # leave-one-out predictive coefficient of determination

    def basis(self, X: np.ndarray) -> np.ndarray:
        Z = (np.asarray(X, float) - self.center) / self.scale
        return _design_matrix(Z, self.terms)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.basis(X) @ self.coef


def _terms(d: int, kind: str) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = [(), *[(i,) for i in range(d)]]
    if kind == "quadratic":
        out += list(itertools.combinations_with_replacement(range(d), 2))
    elif kind == "additive quadratic":
        out += [(i, i) for i in range(d)]
    return out


def _design_matrix(Z: np.ndarray, terms: list[tuple[int, ...]]) -> np.ndarray:
    return np.column_stack([np.prod(Z[:, list(t)], axis=1) if t else np.ones(len(Z)) for t in terms])


def fit_surrogate(X: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Surrogate:
    """The richest polynomial surface with at least two points per coefficient: full quadratic,
    quadratic without interactions, or linear, in z = (x − mid)/half-width of ``[lo, hi]``."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    n, d = X.shape
    for kind in ("quadratic", "additive quadratic", "linear"):
        terms = _terms(d, kind)
        if n >= 2 * len(terms):
            break
    else:
        raise ValueError(f"{n} points are too few for a response surface in {d} inputs (need {2 * (d + 1)})")
    center, scale = (hi + lo) / 2, (hi - lo) / 2
    A = _design_matrix((X - center) / scale, terms)
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    H = A @ np.linalg.pinv(A)
    loo = (y - A @ coef) / (1 - np.clip(np.diag(H), None, 1 - 1e-12))
    q2 = float(1 - np.sum(loo**2) / np.sum((y - y.mean()) ** 2))
    return Surrogate(kind=kind, center=center, scale=scale, terms=terms, coef=coef, q2=q2)


def surrogate_sobol(
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    ppf: Callable[[np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    seed: int = 0,
    N: int = 2**13,
) -> SobolResult:
    """Sobol' indices of a positive output from a response surface of log(y) fitted to (X, y).

    ``ppf`` maps unit-cube samples (n × d) to input values, so the indices are
    for the study's own input distributions.
    """
    ok = np.isfinite(y) & (y > 0)
    s = fit_surrogate(X[ok], np.log(y[ok]), lo, hi)
    U = saltelli(N, X.shape[1], seed)
    Y = np.exp(s(ppf(U)))
    r = sobol_indices(
        Y,
        names,
        seed,
        method=f"surrogate ({s.kind} response surface of log output, {int(ok.sum())} FEM points, LOO Q² = {s.q2:.4f})",
    )
    r.quality = {"kind": s.kind, "terms": len(s.terms), "points": int(ok.sum()), "loo_q2_log_output": s.q2}
    return r
